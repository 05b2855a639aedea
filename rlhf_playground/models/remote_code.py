"""Whether a model may run its own Python code (``trust_remote_code``): only when the person opted in, never hosted."""

from __future__ import annotations

import os

from .. import hosting
from ..errors import UserError

TRUST_REMOTE_CODE_ENV = "RLHF_TRUST_REMOTE_CODE"  # an environment variable, so jobs the app starts inherit it


def remote_code_allowed() -> bool:
    """Whether models may run their own Python code from the Hub (``trust_remote_code``): only when the
    person opted in (``RLHF_TRUST_REMOTE_CODE=1``, which ``--trust-remote-code`` sets), never in hosted mode."""
    asked = os.environ.get(TRUST_REMOTE_CODE_ENV, "") not in ("", "0", "false", "False")
    return asked and not hosting.is_hosted()


def allow_remote_code() -> None:
    """Opt in to ``trust_remote_code`` for this process and the jobs it starts; refused in hosted mode."""
    if hosting.is_hosted():
        raise UserError(
            "A shared (hosted) app never runs a model's own code: pick a model that works without trust_remote_code."
        )
    os.environ[TRUST_REMOTE_CODE_ENV] = "1"


def remote_code_refusal(label: str) -> str:
    """Why a model that needs its own code didn't load, and how to allow it where that is possible."""
    if hosting.is_hosted():
        return f"{label} runs its own Python code, which a shared (hosted) app never allows: pick another model."
    return (
        f"{label} runs its own Python code. Only if you trust its authors, allow it with "
        f"--trust-remote-code (or {TRUST_REMOTE_CODE_ENV}=1) and start again."
    )
