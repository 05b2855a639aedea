"""Tests that need a busy machine hold a slot as a training job would, through the queue's own lock."""

import contextlib

from rlhf_playground.jobs import queue


@contextlib.contextmanager
def slot_held_by(run, slot: int = 0):
    """``run`` holds ``slot`` (the lock, and its name in the slot's holder file) while the block runs."""
    lock = queue._try_lock(slot)
    assert lock is not None, f"slot {slot} is already held"
    with queue.holding(slot, lock, run):
        yield run
