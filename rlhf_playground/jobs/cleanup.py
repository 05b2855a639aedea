"""Hosted mode's housekeeping: session workspaces nobody comes back to are deleted.

Every new browser (or API client without the cookie) gets a folder under
``<workspace>/sessions/``. A folder with nothing saved in it goes after
``EMPTY_GRACE_S``; one whose newest file is older than ``RLHF_SESSION_DAYS`` days
goes too, unless one of its jobs is still queued or running. Draft tables left
behind by expired page states go after a day.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from ..data.drafts import DRAFTS
from ..hosting import setting
from ..labels.classes import JOINED
from ..workspace import SESSIONS, root_dir
from .runs import ACTIVE, Run

SESSION_DAYS = ("RLHF_SESSION_DAYS", 7)
EMPTY_GRACE_S = 600  # a session that saved nothing yet may still be busy loading its first dataset
DRAFT_MAX_AGE_S = 86_400


def _newest_mtime(folder: Path) -> float:
    return max((p.stat().st_mtime for p in folder.rglob("*")), default=folder.stat().st_mtime)


def _holds_work(folder: Path) -> bool:
    """Whether a session saved anything: a dataset, a run or the class it joined (its labels are the
    instructor's), not just the empty folders every visit makes."""
    return (folder / JOINED).is_file() or any(any((folder / part).glob("*")) for part in ("datasets", "runs"))


def _busy(folder: Path) -> bool:
    return any(Run(path).status().get("state") in ACTIVE for path in (folder / "runs").glob("*") if path.is_dir())


def sweep_sessions(now: float | None = None) -> list[str]:
    """Delete expired and empty session workspaces and stale drafts; returns the names of the deleted sessions."""
    now = time.time() if now is None else now
    max_age = setting(*SESSION_DAYS) * 86_400
    deleted = []
    for folder in sorted((root_dir() / SESSIONS).glob("*")):
        if not folder.is_dir() or _busy(folder):
            continue
        age = now - _newest_mtime(folder)
        if age > max_age or (age > EMPTY_GRACE_S and not _holds_work(folder)):
            shutil.rmtree(folder, ignore_errors=True)
            deleted.append(folder.name)
            continue
        for draft in (folder / DRAFTS).glob("*"):
            if now - draft.stat().st_mtime > DRAFT_MAX_AGE_S:
                draft.unlink(missing_ok=True)
    return deleted
