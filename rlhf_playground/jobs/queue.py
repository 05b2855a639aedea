"""Training jobs take turns on the machine's slots, fairly: lock files and a waiting line.

The machine has :func:`.slots.slot_count` slots, each a lock file ``.queue/slot-<i>.lock`` in the
shared root. A job process holds it (a ``filelock.FileLock``: ``flock`` on Linux and macOS, ``msvcrt``
locking on Windows) while it trains; the system drops the lock when the process exits, however it
exits (a kill included), so a dead job frees its slot at once and nobody has to "drain" the queue.
Each waiting job polls for its turn:

- **Fair order**: the line is sorted by how many jobs of the same workspace (a hosted session) are
  already on the machine or waiting before it, then by age. So nobody's second job starts before
  everyone's first, and on one person's machine it is first come, first served.
- **Memory**: a job starts only when its memory estimate (``memory_mb`` in its status, set when it
  was started) fits beside those of the running jobs; a job alone always may run.

The line is on disk (queued runs' status files), so an app restart keeps it. A queued run names only
runs of its own workspace, and a slot's ``slot-<i>.run`` file (which says which run holds it, as a path
relative to the root) is emptied when that run ends.
"""

from __future__ import annotations

import contextlib
import heapq
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from filelock import FileLock, Timeout

from ..registry import UNQUEUED
from ..workspace import queued_run_dirs, shared_root
from .runs import Run, read_json
from .slots import job_seconds, slot_count, this_machine

UNSPAWNED_GRACE_S = 30  # a queued run with no process yet is in line for this long
FAR_BACK_POLL_S = 2.0  # a job with more jobs ahead of it than there are slots looks less often


def _slot_path(slot: int) -> Path:
    folder = shared_root() / ".queue"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"slot-{slot}.lock"


def _holder_path(slot: int) -> Path:
    return _slot_path(slot).with_suffix(".run")


def _try_lock(slot: int) -> FileLock | None:
    """The slot's lock, held, or None when another process (or another lock of ours) holds it."""
    lock = FileLock(_slot_path(slot), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        return None
    return lock


def _holder(slot: int) -> Run | None:
    """The run training in ``slot`` now (its folder may be another session's): the lock must be held (the system
    knows), and the run it names still running."""
    probe = _try_lock(slot)
    if probe is not None:
        probe.release()
        return None  # nobody holds it
    try:
        name = _holder_path(slot).read_text().strip()
    except FileNotFoundError:
        return None
    run = Run(shared_root() / name) if name else None
    return run if run is not None and run.status().get("state") == "running" else None


def holders() -> list[Run]:
    """The runs training now, one per busy slot."""
    return [run for slot in range(slot_count()) if (run := _holder(slot)) is not None]


@dataclass(frozen=True)
class _Entry:
    run: Run
    status: dict

    @property
    def workspace(self) -> Path:
        return self.run.path.parent

    @property
    def created(self) -> float:
        return self.status.get("created") or 0.0


def _line() -> list[_Entry]:
    """The queued runs of every workspace in the order they get their turns (see the module's docstring)."""
    waiting, on_machine = [], []
    for path in queued_run_dirs():
        status = read_json(path / "status.json", None)
        if not status or status.get("stage") in UNQUEUED or status.get("state") not in ("queued", "running"):
            continue
        if status.get("pid"):
            status = Run(path).status()  # fails a job whose process died
        elif time.time() - (status.get("created") or 0) >= UNSPAWNED_GRACE_S:
            continue  # never got a process: not in line
        if status.get("state") == "queued":
            waiting.append(_Entry(Run(path), status))
        elif status.get("state") == "running":
            on_machine.append(_Entry(Run(path), status))
    # a run's turn: how many runs of its workspace are older (on the machine or waiting), then its age
    earlier: dict[Path, int] = {}
    older: dict[Path, int] = {}
    for entry in sorted(waiting + on_machine, key=lambda entry: (entry.created, entry.run.id)):
        earlier[entry.run.path] = older.get(entry.workspace, 0)
        older[entry.workspace] = earlier[entry.run.path] + 1
    return sorted(waiting, key=lambda entry: (earlier[entry.run.path], entry.created, entry.run.id))


def _ahead(run: Run, line: list[_Entry]) -> list[_Entry]:
    names = [entry.run.path for entry in line]
    return line[: names.index(run.path)] if run.path in names else line


def _memory_fits(run: Run, running: list[Run]) -> bool:
    if not running:
        return True
    used = sum(other.status().get("memory_mb") or 0 for other in running)
    return used + (run.status().get("memory_mb") or 0) <= this_machine().budget_mb


def wait_s(run: Run, line: list[_Entry] | None = None, running: list[Run] | None = None) -> float:
    """About how long until ``run`` starts: each busy slot frees when its run's ETA (or estimate) runs out,
    and the jobs ahead take the slots that free first."""
    line = _line() if line is None else line
    now = time.time()
    free_at = []
    for holder in holders() if running is None else running:
        status = holder.status()
        left = status.get("eta_s")
        if left is None:
            left = expected_s(holder, status) - (now - (status.get("started") or now))
        free_at.append(max(float(left), 0.0))
    free_at += [0.0] * max(slot_count() - len(free_at), 0)
    heapq.heapify(free_at)
    for entry in _ahead(run, line):
        start = heapq.heappop(free_at)
        heapq.heappush(free_at, start + expected_s(entry.run, entry.status))
    return free_at[0]


def expected_s(run: Run, status: dict) -> float:
    """How long ``run`` takes once it has its turn: its status says (set at Start, so that a room's waiting jobs,
    each reading the line every second or two, don't read every queued run's config), else its config."""
    known = status.get("expected_s")
    return known if known is not None else job_seconds(status.get("stage", ""), run.config())


def about(seconds: float) -> str:
    """A wait as a person says it: "about 4 min", "under a minute"."""
    if seconds < 60:
        return "under a minute"
    return f"about {round(seconds / 60)} min" if seconds < 90 * 60 else f"about {seconds / 3600:.1f} h"


def _reason(run: Run, line: list[_Entry], running: list[Run]) -> str:
    """Why ``run`` waits, with its place in line and an estimate; a running run is named only if it is in the
    same workspace."""
    ahead = len(_ahead(run, line))
    wait = about(wait_s(run, line, running))
    own = [holder for holder in running if holder.path.parent == run.path.parent]
    if own:
        more = f" and {ahead} queued before it" if ahead else ""
        return f"queued: waiting for run {own[0].id}{more}, {wait}"
    if not ahead and len(running) < slot_count():
        return "queued: next in line" + ("" if _memory_fits(run, running) else ", waiting for memory to free up")
    jobs = ahead + len(running)
    return f"queued: {jobs} job{'s' if jobs != 1 else ''} ahead in line, {wait}" if jobs else "queued: next in line"


def _place(run: Run, line: list[_Entry], running: list[Run]) -> int:
    """How many jobs go before ``run``: those queued before it, and the running ones when every slot is busy."""
    others = [holder for holder in running if holder.path != run.path]
    ahead = len(_ahead(run, line))
    return ahead + (len(others) if len(others) + ahead >= slot_count() else 0)


@dataclass(frozen=True)
class Outlook:
    """Where a queued run stands: the jobs that go before it, about how long until it starts, and why it waits."""

    ahead: int
    wait_s: float
    reason: str


def outlook(run: Run) -> Outlook:
    """``run``'s place, wait and reason from one read of the line and the slots (each reads every queued run's
    status: a room pressing Start at once made every Start read them five times)."""
    line, running = _line(), holders()
    return Outlook(_place(run, line, running), wait_s(run, line, running), _reason(run, line, running))


@contextlib.contextmanager
def holding(slot: int, lock: FileLock, run: Run) -> Iterator[None]:
    """Name ``run`` as the holder of ``slot`` (whose ``lock`` is held) while the block trains; unname it and
    let go after."""
    named = _holder_path(slot)
    try:
        path = run.path.resolve()
        named.write_text(str(path.relative_to(shared_root()) if path.is_relative_to(shared_root()) else path))
        yield
    finally:
        named.write_text("")
        lock.release()


def _take_free_slot() -> tuple[int, FileLock] | None:
    """The first free slot and its lock, held; None when all are busy."""
    for slot in range(slot_count()):
        if (lock := _try_lock(slot)) is not None:
            return slot, lock
    return None


def wait_for_turn(run: Run, poll_s: float = 0.5) -> contextlib.AbstractContextManager | None:
    """Block until ``run`` may train; return a context that holds its slot while the block trains.

    Returns None when a stop was requested while waiting.
    """
    said = None
    while not run.stop_requested():
        line, running = _line(), holders()
        ahead = len(_ahead(run, line))
        if ahead < slot_count() - len(running) and _memory_fits(run, running):
            taken = _take_free_slot()
            if taken is not None:
                return holding(*taken, run)
        reason = _reason(run, line, running)
        if reason != said:
            run.update_status(state="queued", reason=reason)
            if reason.split(",")[0] != (said or "").split(",")[0]:  # the log says when the place changes
                print(reason, flush=True)
            said = reason
        time.sleep(poll_s if ahead < slot_count() else max(poll_s, FAR_BACK_POLL_S))
    return None
