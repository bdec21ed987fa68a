"""The dispatch room's clock: real time, or accelerated for a simulation.

Every command is stamped with the clock's time (epoch seconds). A restarted room must
never run behind the events it replays (a job cannot change before its last change), so
the clock starts at the later of the wall clock and ``not_before``.
"""

from __future__ import annotations

import math
import time
from typing import Protocol


class Clock(Protocol):
    speed: float

    def now(self) -> float: ...


class SimClock:
    """``speed`` times real time from ``max(time.time(), not_before)``."""

    def __init__(self, *, speed: float = 1.0, not_before: float = 0.0) -> None:
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed={speed!r}: must be a positive number")
        self.speed = float(speed)
        self._start_s = max(time.time(), not_before)
        self._start_mono = time.monotonic()

    def now(self) -> float:
        return self._start_s + (time.monotonic() - self._start_mono) * self.speed


class ManualClock:
    """A clock that moves only when told (tests, replays)."""

    def __init__(self, start_s: float, *, speed: float = 1.0) -> None:
        self._now = float(start_s)
        self.speed = speed

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"seconds={seconds!r}: the clock does not run backwards")
        self._now += seconds
        return self._now
