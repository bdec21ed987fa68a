"""Times are epoch seconds (``*_s``); the time-of-day band needs Beijing local time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from geo.speeds import parse_clock_min

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_time(epoch_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch_s, tz=BEIJING)


def epoch_at_clock(clock: str, *, day: dt.date | None = None) -> float:
    """Epoch seconds of ``"HH:MM"`` Beijing time on ``day`` (today in Beijing by default)."""
    minute = parse_clock_min(clock, "at")
    day = day or dt.datetime.now(tz=BEIJING).date()
    midnight = dt.datetime.combine(day, dt.time(0, 0), tzinfo=BEIJING)
    return (midnight + dt.timedelta(minutes=minute)).timestamp()
