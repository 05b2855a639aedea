"""Where things live on disk: the workspace (datasets, runs) and the cache.

The workspace defaults to ``./workspace`` and moves with ``RLHF_WORKSPACE``.
The cache (the converted bundled model) is shared by all workspaces and lives
in ``RLHF_CACHE_DIR`` or ``~/.cache/rlhf-playground``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import UserError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def workspace_dir() -> Path:
    path = Path(os.environ.get("RLHF_WORKSPACE", "workspace")).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "rlhf-playground"
    path = Path(os.environ.get("RLHF_CACHE_DIR", default)).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def datasets_dir() -> Path:
    path = workspace_dir() / "datasets"
    path.mkdir(exist_ok=True)
    return path


def runs_dir() -> Path:
    path = workspace_dir() / "runs"
    path.mkdir(exist_ok=True)
    return path


def safe_name(name: str, what: str = "name") -> str:
    """Return ``name`` stripped if it is a plain file name that can't leave its folder."""
    name = (name or "").strip()
    if not _NAME.match(name) or ".." in name:
        raise UserError(f"The {what} '{name}' can't be used: use letters, digits, '.', '-' or '_' "
                        "(up to 80 characters, starting with a letter or digit).")
    return name
