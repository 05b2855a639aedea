"""Errors meant for people.

A :class:`UserError` carries one short message that says what was wrong and
what to do. The UI shows it as it is, the CLI prints it and exits non-zero.
Anything else that escapes is a bug.
"""

from __future__ import annotations

import os
import re

OFFLINE_HINT = (
    "The Hugging Face Hub can't be reached from this machine. "
    "Use the bundled default (model 'default', the bundled sample datasets) "
    "or a local file or folder instead."
)


TOKEN_ENV_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
REDACTED = "hf_***"
_TOKEN_SHAPE = re.compile(r"hf_[A-Za-z0-9]{20,}")


def redact(text: str) -> str:
    """``text`` with Hugging Face tokens replaced by ``hf_***``: anything shaped like one, and the
    exact values of the token environment variables (whatever their shape).

    Everything that lands in a run folder or the UI goes through this, so a token
    in an error message or a printed URL is never shown or stored.
    """
    text = _TOKEN_SHAPE.sub(REDACTED, text)
    for name in TOKEN_ENV_VARS:
        token = os.environ.get(name, "").strip()
        if len(token) >= 8:  # a short value would blank out ordinary words
            text = text.replace(token, REDACTED)
    return text


class UserError(Exception):
    """Bad input or an unusable environment, explained in one or two sentences (tokens redacted)."""

    def __init__(self, message: str = ""):
        super().__init__(redact(str(message)))


def require(rules) -> None:
    """Raise UserError with the message of the first ``(ok, message)`` rule that doesn't hold."""
    for ok, message in rules:
        if not ok:
            raise UserError(message)


def is_offline_error(exc: BaseException) -> bool:
    """True when ``exc`` (or anything in its cause chain) means the hub is unreachable."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        name = type(exc).__name__
        text = str(exc)
        if name in {
            "ConnectError",
            "ConnectionError",
            "ConnectTimeout",
            "OfflineModeIsEnabled",
            "LocalEntryNotFoundError",
            "NameResolutionError",
            "MaxRetryError",
        }:
            return True
        if any(
            s in text
            for s in (
                "Name or service not known",
                "Temporary failure in name resolution",
                "couldn't connect to",
                "Failed to resolve",
                "offline mode",
                "Network is unreachable",
                "Connection refused",
            )
        ):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of ``exc``'s message (its type's name when it has none), at most ``limit`` characters."""
    line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return line if len(line) <= limit else line[:limit] + "..."
