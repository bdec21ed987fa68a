"""Login throttling: too many wrong passwords for a name, or from an address, in a minute.

Past :data:`MAX_FAILURES_PER_NAME` failures for one name or
:data:`MAX_FAILURES_PER_ADDRESS` from one address within :data:`WINDOW_S`, every login
for that name or from that address is answered 429 with the seconds to wait, without
checking the password (so guessing goes no faster than the limits, right or wrong). A
successful login clears its name's failures. Kept in the server's memory: a restart
forgets them, which costs an attacker a restart they cannot cause.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_S = 60.0
MAX_FAILURES_PER_NAME = 5
"""Enough for a dispatcher's typos, far too few to guess a password."""
MAX_FAILURES_PER_ADDRESS = 20
"""A control room shares one address: room for several people's typos."""
MAX_TRACKED_KEYS = 10_000
"""Names and addresses remembered at once: a flood of made-up names cannot fill memory."""


class LoginThrottle:
    """Sliding-window failure counts per name and per address (thread-safe)."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}

    def retry_after_s(self, name: str, address: str) -> int | None:
        """Whole seconds until ``name`` from ``address`` may try again; None if it may now."""
        now = self._clock()
        with self._lock:
            return self._retry_after_s(name, address, now)

    def begin(self, name: str, address: str) -> int | None:
        """Start a login attempt: the seconds to wait if it may not be made now; else None,
        and the attempt already counts as a failure until :meth:`succeeded` says otherwise
        (so simultaneous attempts cannot all pass the check before any is counted)."""
        now = self._clock()
        with self._lock:
            wait_s = self._retry_after_s(name, address, now)
            if wait_s is None:
                self._record(name, address, now)
        return wait_s

    def failed(self, name: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            self._record(name, address, now)

    def succeeded(self, name: str, address: str | None = None) -> None:
        """A right password: the name's failures are forgotten, and the attempt
        :meth:`begin` counted against ``address`` is taken back."""
        with self._lock:
            self._failures.pop(f"name:{name}", None)
            times = self._failures.get(f"addr:{address}") if address is not None else None
            if times:
                times.pop()

    def _record(self, name: str, address: str, now: float) -> None:
        if len(self._failures) > MAX_TRACKED_KEYS - 2:  # room for a name and an address
            self._make_room(now)
        for key in (f"name:{name}", f"addr:{address}"):
            self._failures.setdefault(key, deque()).append(now)

    def _retry_after_s(self, name: str, address: str, now: float) -> int | None:
        wait = max(
            self._wait_s(f"name:{name}", MAX_FAILURES_PER_NAME, now),
            self._wait_s(f"addr:{address}", MAX_FAILURES_PER_ADDRESS, now),
        )
        return math.ceil(wait) if wait > 0 else None

    def _wait_s(self, key: str, limit: int, now: float) -> float:
        times = self._failures.get(key)
        if not times:
            return 0.0
        while times and times[0] <= now - WINDOW_S:
            times.popleft()
        if len(times) < limit:
            return 0.0
        return times[-limit] + WINDOW_S - now

    def _make_room(self, now: float) -> None:
        """Forget expired failures; if the table is still full, forget the keys that are
        not locked out before any that is (oldest last failure first), so a flood of
        made-up names cannot unlock a name under attack."""
        for key in [k for k, t in self._failures.items() if not t or t[-1] <= now - WINDOW_S]:
            del self._failures[key]
        excess = len(self._failures) - (MAX_TRACKED_KEYS - 2)
        if excess <= 0:
            return

        def locked(key: str) -> bool:
            limit = MAX_FAILURES_PER_NAME if key.startswith("name:") else MAX_FAILURES_PER_ADDRESS
            return len(self._failures[key]) >= limit

        order = sorted(self._failures, key=lambda k: (locked(k), self._failures[k][-1]))
        for key in order[:excess]:
            del self._failures[key]
