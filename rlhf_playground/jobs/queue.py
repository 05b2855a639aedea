"""One training job at a time per machine: a lock file and a waiting line.

The job process itself holds an exclusive ``flock`` on ``runs/.job.lock`` while
it works. The kernel drops the lock when the process exits, however it exits
(SIGKILL included), so a dead job never blocks the line and nobody has to
"drain" the queue: each waiting job polls for its turn, oldest first.
"""

from __future__ import annotations

import fcntl
import time
from typing import IO

from ..workspace import runs_dir
from .runs import Run, read_json

LOCK_NAME = ".job.lock"
UNSPAWNED_GRACE_S = 30  # a queued run with no process yet is in line for this long


def running_run_id() -> str | None:
    """The id of the run that holds the machine now, if any."""
    try:
        holder = (runs_dir() / LOCK_NAME).read_text().strip()
    except FileNotFoundError:
        return None
    if holder and Run(runs_dir() / holder).status().get("state") == "running":
        return holder
    return None


def _ahead_in_line(run: Run) -> bool:
    """Whether another queued run was created before ``run`` (first come, first served)."""
    mine = read_json(run.path / "status.json", {})
    key = (mine.get("created") or 0, run.id)
    for path in runs_dir().iterdir():
        if path.name == run.id or not path.is_dir():
            continue
        other = read_json(path / "status.json", None)
        if not other or other.get("state") != "queued" or (other.get("created") or 0, path.name) >= key:
            continue
        if other.get("pid"):
            if Run(path).status().get("state") == "queued":  # status() fails a dead one
                return True
        elif time.time() - (other.get("created") or 0) < UNSPAWNED_GRACE_S:
            return True
    return False


def wait_for_turn(run: Run, poll_s: float = 0.5) -> IO | None:
    """Block until ``run`` may train; return the held lock (keep it open while training).

    Returns None when a stop was requested while waiting.
    """
    lock = open(runs_dir() / LOCK_NAME, "a+")
    said = None
    while not run.stop_requested():
        if not _ahead_in_line(run):
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                lock.seek(0)
                lock.truncate()
                lock.write(run.id)
                lock.flush()
                return lock
        holder = running_run_id()
        reason = f"queued: waiting for run {holder}" if holder else "queued: waiting for the runs ahead"
        if reason != said:
            run.update_status(state="queued", reason=reason)
            print(reason, flush=True)
            said = reason
        time.sleep(poll_s)
    lock.close()
    return None
