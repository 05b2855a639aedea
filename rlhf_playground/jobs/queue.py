"""One training job at a time per machine: a lock file and a waiting line.

The job process itself holds an exclusive ``flock`` on ``.queue/job.lock`` in the
shared root while it works. The kernel drops the lock when the process exits,
however it exits (SIGKILL included), so a dead job never blocks the line and
nobody has to "drain" the queue: each waiting job polls for its turn, oldest first.
In hosted mode every session's jobs wait in the same line, a queued run names
only runs of its own workspace, and the lock file (which says which run holds
the machine, as a path relative to the root) is emptied when that run ends.
"""

from __future__ import annotations

import contextlib
import fcntl
import time
from pathlib import Path
from typing import IO, Iterator

from ..workspace import queued_run_dirs, shared_root
from .runs import Run, read_json

LOCK_NAME = "job.lock"
UNSPAWNED_GRACE_S = 30  # a queued run with no process yet is in line for this long


def _lock_path() -> Path:
    folder = shared_root() / ".queue"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / LOCK_NAME


def running_run() -> Run | None:
    """The run that holds the machine now, if any (its folder may be another session's)."""
    try:
        holder = _lock_path().read_text().strip()
    except FileNotFoundError:
        return None
    run = Run(shared_root() / holder) if holder else None
    return run if run is not None and run.status().get("state") == "running" else None


def _ahead_in_line(run: Run) -> int:
    """How many queued runs were created before ``run`` (first come, first served)."""
    mine = read_json(run.path / "status.json", {})
    key = (mine.get("created") or 0, run.id)
    ahead = 0
    for path in queued_run_dirs():
        if path == run.path:
            continue
        other = read_json(path / "status.json", None)
        if not other or other.get("state") != "queued" or (other.get("created") or 0, path.name) >= key:
            continue
        if other.get("pid"):
            ahead += Run(path).status().get("state") == "queued"  # status() fails a dead one
        elif time.time() - (other.get("created") or 0) < UNSPAWNED_GRACE_S:
            ahead += 1
    return ahead


def waiting_reason(run: Run) -> str:
    """Why ``run`` waits, as its status says it: the running run is named only if it is in the same workspace."""
    holder, ahead = running_run(), _ahead_in_line(run)
    if holder is not None and holder.path.parent == run.path.parent:
        more = f" and {ahead} queued before it" if ahead else ""
        return f"queued: waiting for run {holder.id}{more}"
    jobs = ahead + (holder is not None)
    return f"queued: {jobs} job{'s' if jobs != 1 else ''} ahead in line" if jobs else "queued: next in line"


def place_in_line(run: Run) -> int:
    """How many jobs go before ``run``: the one running (unless it is ``run``) and those queued before it."""
    holder = running_run()
    return _ahead_in_line(run) + (holder is not None and holder.path != run.path)


@contextlib.contextmanager
def _holding(lock: IO, run: Run) -> Iterator[None]:
    """Name ``run`` in the held lock file while the block trains; empty the file before letting go."""
    try:
        path = run.path.resolve()
        _write_holder(lock, str(path.relative_to(shared_root()) if path.is_relative_to(shared_root()) else path))
        yield
    finally:
        _write_holder(lock, "")
        lock.close()


def _write_holder(lock: IO, text: str) -> None:
    lock.seek(0)
    lock.truncate()
    lock.write(text)
    lock.flush()


def wait_for_turn(run: Run, poll_s: float = 0.5) -> contextlib.AbstractContextManager | None:
    """Block until ``run`` may train; return a context that holds the machine while the block trains.

    Returns None when a stop was requested while waiting.
    """
    lock = open(_lock_path(), "a+")
    said = None
    while not run.stop_requested():
        if not _ahead_in_line(run):
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                return _holding(lock, run)
        reason = waiting_reason(run)
        if reason != said:
            run.update_status(state="queued", reason=reason)
            print(reason, flush=True)
            said = reason
        time.sleep(poll_s)
    lock.close()
    return None
