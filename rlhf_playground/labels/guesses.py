"""Wrong class codes: a client that keeps guessing is slowed down, so nobody can walk through the codes.

A code is 5 letters out of 31 (28.6 million codes). Each wrong code counts against the session that typed
it and against the network address it came from (a whole room may share one, so it is allowed more). Past
the free misses, the next try has to wait 2, 4, 8 ... seconds (at most a minute) after the last miss; a
try before then is refused *before* the code is looked at, so guessing faster learns nothing. A few typos
cost nothing, and a right code joins at once unless its sender has been guessing. Misses are forgotten
after ten quiet minutes. Kept in the server's memory only: a restart forgets them.
"""

from __future__ import annotations

import math
import threading
import time

from ..errors import UserError

SESSION_FREE_MISSES = 5  # typos one attendee may make before waiting
ADDRESS_FREE_MISSES = 30  # one network address may be a whole room behind one router
LONGEST_WAIT_S = 60.0
FORGET_AFTER_S = 600.0
MAX_TRACKED = 10_000  # clients remembered at once; the quietest are forgotten first


class Misses:
    """Wrong codes per client key: ``wait_s(key)`` before a try, ``missed(key)`` after a wrong one."""

    def __init__(self, free: int, clock=time.monotonic):
        self.free, self.clock = free, clock
        self._seen: dict[str, tuple[int, float]] = {}  # key -> (misses, when the last one was)
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        """Seconds ``key`` must still wait before its next try (0: it may try now)."""
        with self._lock:
            count, last = self._recent(key)
        if count < self.free:
            return 0.0
        return max(0.0, last + min(LONGEST_WAIT_S, 2.0 ** (count - self.free + 1)) - self.clock())

    def missed(self, key: str) -> None:
        with self._lock:
            count, _ = self._recent(key)
            self._seen[key] = (count + 1, self.clock())
            if len(self._seen) > MAX_TRACKED:
                del self._seen[min(self._seen, key=lambda k: self._seen[k][1])]

    def _recent(self, key: str) -> tuple[int, float]:
        count, last = self._seen.get(key, (0, -math.inf))
        if self.clock() - last > FORGET_AFTER_S:
            self._seen.pop(key, None)
            return 0, -math.inf
        return count, last


SESSIONS, ADDRESSES = Misses(SESSION_FREE_MISSES), Misses(ADDRESS_FREE_MISSES)


def check(session: str, address: str) -> None:
    """UserError when this session or address must wait before trying another code."""
    wait = max(SESSIONS.wait_s(session), ADDRESSES.wait_s(address) if address else 0.0)
    if wait > 0:
        raise UserError(
            f"Too many wrong class codes from here: wait {math.ceil(wait)} s, then type the code on the "
            "instructor's screen again."
        )


def missed(session: str, address: str) -> None:
    SESSIONS.missed(session)
    if address:
        ADDRESSES.missed(address)
