"""Hosted mode: the app shared by many people (a Hugging Face Space, or ``python app.py --hosted``).

In hosted mode each browser session gets its own workspace, local paths can't be
typed as sources, remote code is never trusted, and uploads are capped. The
switch is one environment variable so that jobs started by the app inherit it.
"""

from __future__ import annotations

import os

HOSTED_ENV = "RLHF_HOSTED"


def is_hosted() -> bool:
    """True on a Hugging Face Space (``SPACE_ID`` is set there) or when ``RLHF_HOSTED=1``."""
    return bool(os.environ.get("SPACE_ID")) or os.environ.get(HOSTED_ENV, "") not in ("", "0", "false", "False")
