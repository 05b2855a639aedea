"""Tables between the Data tab's steps (loaded, then prepared), kept on disk in the session's workspace.

A browser session holds only a draft's path, not its rows, so an upload doesn't sit in the
server's memory for as long as the page stays open; drafts are deleted when the session's state
expires (and with old sessions, see :mod:`..jobs.cleanup`).
"""

from __future__ import annotations

import os
import pickle
import secrets
from pathlib import Path
from typing import Any

from ..workspace import workspace_dir
from .formats import Table
from .load import is_bundled, load_sample
from .prepare import Prepared, prepared_sample

DRAFTS = ".drafts"


def _folder() -> Path:
    path = workspace_dir() / DRAFTS
    path.mkdir(exist_ok=True)
    return path


class _Pickler(pickle.Pickler):
    """Keeps a bundled sample, and its shared prepared form, as the call that gives it again: a room loading
    and preparing the same sample wrote and read 360 rows per person."""

    def reducer_override(self, obj):
        if isinstance(obj, Table) and is_bundled(obj):
            return load_sample, obj.sample
        if isinstance(obj, Prepared) and obj.shared_as is not None:
            return prepared_sample, obj.shared_as
        return NotImplemented


def keep(value: Any) -> str:
    """Write ``value`` as a new draft of this workspace; returns its path, for a ``gr.State``."""
    path = _folder() / f"{secrets.token_hex(8)}.pickle"
    tmp = path.with_suffix(".tmp")
    try:
        with open(tmp, "wb") as f:
            _Pickler(f, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return str(path)


def take(path: str | None) -> Any:
    """The draft at ``path`` (only this workspace's drafts are read); None when it's gone or not one."""
    if not path:
        return None
    draft = Path(path)
    if draft.parent != _folder() or draft.suffix != ".pickle":
        return None
    try:
        with open(draft, "rb") as f:
            return pickle.load(f)
    except Exception:  # noqa: BLE001 - unreadable, or a sample that can't be made again: the step is done again
        return None


def forget(path: str | None) -> None:
    """Delete a draft (gradio calls this when the state holding it expires)."""
    if path and Path(path).suffix == ".pickle" and Path(path).parent.name == DRAFTS:
        Path(path).unlink(missing_ok=True)
