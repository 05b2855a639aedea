"""Hosted mode: the app shared by many people (a Hugging Face Space, or ``python app.py --hosted``).

In hosted mode each browser session gets its own workspace, local paths can't be
typed as sources, remote code is never trusted, and uploads are capped. The
switch is one environment variable so that jobs started by the app inherit it.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import UserError

HOSTED_ENV = "RLHF_HOSTED"


def is_hosted() -> bool:
    """True on a Hugging Face Space (``SPACE_ID`` is set there) or when ``RLHF_HOSTED=1``."""
    return bool(os.environ.get("SPACE_ID")) or os.environ.get(HOSTED_ENV, "") not in ("", "0", "false", "False")


def _usable_roots() -> list[Path]:
    """Where a hosted user's files may be: their workspace, the model cache, the samples, uploads."""
    import tempfile

    from .data.load import SAMPLES_DIR
    from .workspace import cache_dir, workspace_dir

    uploads = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    return [workspace_dir(), cache_dir(), SAMPLES_DIR, uploads]


def check_local_path(path: str | Path) -> None:
    """In hosted mode, refuse a typed path outside this session's own files (other users', the server's)."""
    if not is_hosted():
        return
    resolved = Path(path).expanduser().resolve()
    if not any(resolved.is_relative_to(root.resolve()) for root in _usable_roots()):
        raise UserError(f"This is a shared, hosted app: local paths such as '{path}' can't be used here. "
                        "Upload a file in the Data tab, or pick a saved dataset, a run or a Hub name.")
