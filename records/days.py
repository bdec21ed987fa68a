"""Beijing calendar days and hours of epoch seconds (China keeps UTC+8 all year)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")


def beijing_time(at_s: float) -> datetime:
    return datetime.fromtimestamp(at_s, BEIJING)


def beijing_day(at_s: float) -> str:
    """``YYYY-MM-DD`` of the Beijing day ``at_s`` falls in."""
    return beijing_time(at_s).date().isoformat()


def beijing_hour(at_s: float) -> int:
    return beijing_time(at_s).hour


def day_start_s(day: date) -> float:
    """Epoch seconds of midnight, Beijing time, starting ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp()
