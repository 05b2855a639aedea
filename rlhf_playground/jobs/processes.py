"""The job processes of this machine: when one started, whether it still runs, ending it with its children.

psutil works the same on Linux, macOS and Windows, so nothing here needs POSIX signals or process groups.
"""

from __future__ import annotations

import contextlib
import os

import psutil

from ..hosting import JOB_NICENESS, host_number


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch, as psutil reads it on every system), to tell it from a
    later process with the same id."""
    try:
        return round(psutil.Process(pid).create_time(), 2)
    except psutil.Error:
        return None


def process_alive(pid: int | None, start_time: float | None = None) -> bool:
    """Whether ``pid`` is still the running job: not gone, not a zombie, not a reused id."""
    if not pid:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD):
            return False
        started = process.create_time()
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True
    return start_time is None or abs(started - start_time) < 0.05


def end_process_tree(pid: int) -> None:
    """Terminate the job and every process it started (data loaders, a compiler), then kill what is left."""
    try:
        job = psutil.Process(pid)
        tree = [job, *job.children(recursive=True)]
    except psutil.Error:
        return
    for process in tree:
        with contextlib.suppress(psutil.Error):
            process.terminate()
    _, alive = psutil.wait_procs(tree, timeout=0.5)
    for process in alive:
        with contextlib.suppress(psutil.Error):
            process.kill()


def job_niceness() -> int:
    """How much lower than the app a training job runs (``RLHF_JOB_NICENESS``; hosted 10, locally 0)."""
    return int(host_number(*JOB_NICENESS, local_default=0) or 0)


def lower_priority(pid: int, by: int) -> None:
    """Run ``pid`` ``by`` steps of niceness below this process (19 at most), so that the app's pages stay
    quick while jobs wait and train; a machine with spare cores loses nothing by it. Windows has priority
    classes instead, left as they are."""
    if by <= 0 or not hasattr(os, "nice"):
        return
    with contextlib.suppress(psutil.Error):
        psutil.Process(pid).nice(min(19, psutil.Process().nice() + by))
