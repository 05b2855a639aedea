"""Errors meant for people.

A :class:`UserError` carries one short message that says what was wrong and
what to do. The UI shows it as it is, the CLI prints it and exits non-zero.
Anything else that escapes is a bug.
"""

from __future__ import annotations

OFFLINE_HINT = (
    "The Hugging Face Hub can't be reached from this machine. "
    "Use the bundled default (model 'default', the bundled sample datasets) "
    "or a local file or folder instead."
)


class UserError(Exception):
    """Bad input or an unusable environment, explained in one or two sentences."""


def is_offline_error(exc: BaseException) -> bool:
    """True when ``exc`` (or anything in its cause chain) means the hub is unreachable."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = type(exc).__name__
        text = str(exc)
        if name in {"ConnectError", "ConnectionError", "ConnectTimeout", "OfflineModeIsEnabled",
                    "LocalEntryNotFoundError", "NameResolutionError", "MaxRetryError"}:
            return True
        if any(s in text for s in ("Name or service not known", "Temporary failure in name resolution",
                                   "couldn't connect to", "Failed to resolve", "offline mode",
                                   "Network is unreachable", "Connection refused")):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
