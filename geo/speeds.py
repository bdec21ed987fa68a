"""Speeds per road class and time-of-day congestion bands (figures in config/rules.toml).

An edge's free-flow speed comes from its OSM ``maxspeed`` tag where present, otherwise
from its highway class; each band multiplies the free-flow travel time by a factor per
class. All figures and their sources are in the ``speeds`` and ``congestion`` sections of
the rule file.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from geo.errors import InputError

_MAXSPEED_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$")
_MPH_TO_KPH = 1.609344
_MINUTES_PER_DAY = 24 * 60


@dataclass(frozen=True)
class Band:
    """A time-of-day band: ``[start_min, end_min)`` minutes after midnight, may wrap."""

    name: str
    start_min: int
    end_min: int

    def contains(self, minute_of_day: int) -> bool:
        if self.start_min <= self.end_min:
            return self.start_min <= minute_of_day < self.end_min
        return minute_of_day >= self.start_min or minute_of_day < self.end_min


@dataclass(frozen=True)
class SpeedModel:
    """Free-flow speeds, the maxspeed rule and congestion factors, read from the rules."""

    free_flow_kph: dict[str, float]
    maxspeed_share: float
    maxspeed_cap_share: float
    bands: tuple[Band, ...]
    factors: dict[str, dict[str, float]]

    @classmethod
    def from_rules(cls, rules: dict[str, Any]) -> SpeedModel:
        speeds = rules["speeds"]
        congestion = rules["congestion"]
        bands = tuple(
            Band(b["name"], parse_clock_min(b["start"], "start"), parse_clock_min(b["end"], "end"))
            for b in congestion["bands"]
        )
        model = cls(
            free_flow_kph={k: float(v) for k, v in speeds["free_flow_kph"].items()},
            maxspeed_share=float(speeds["maxspeed"]["free_flow_share"]),
            maxspeed_cap_share=float(speeds["maxspeed"]["cap_share"]),
            bands=bands,
            factors={
                band.name: {k: float(v) for k, v in congestion["factor"][band.name].items()}
                for band in bands
            },
        )
        model._check_bands_cover_day()
        return model

    @property
    def band_names(self) -> tuple[str, ...]:
        return tuple(band.name for band in self.bands)

    def _check_bands_cover_day(self) -> None:
        for minute in range(_MINUTES_PER_DAY):
            owners = [band.name for band in self.bands if band.contains(minute)]
            if len(owners) != 1:
                clock = f"{minute // 60:02d}:{minute % 60:02d}"
                raise InputError(
                    "congestion.bands", owners, "{clock} must fall in exactly one band", clock=clock
                )

    def free_flow_speed_kph(self, highway: str, maxspeed: Any = None) -> float:
        """Free-flow speed of an edge of class ``highway`` with an optional maxspeed tag."""
        class_kph = self.free_flow_kph.get(highway, min(self.free_flow_kph.values()))
        tagged_kph = parse_maxspeed_kph(maxspeed)
        if tagged_kph is None:
            return class_kph
        return min(tagged_kph * self.maxspeed_share, class_kph * self.maxspeed_cap_share)

    def factor(self, band: str, highway: str) -> float:
        band_factors = self.factors[band]
        return band_factors.get(highway, band_factors["default"])

    def band_index_at(self, minute_of_day: int) -> int:
        for index, band in enumerate(self.bands):
            if band.contains(minute_of_day % _MINUTES_PER_DAY):
                return index
        raise AssertionError("bands were checked to cover the day")

    def band_at(self, when: str | dt.time | dt.datetime) -> str:
        """The band name at a clock time (``"HH:MM"``, ``time`` or ``datetime``)."""
        return self.bands[self.band_index_at(minute_of_day(when))].name


def parse_clock_min(text: str, field: str = "at") -> int:
    """Minutes after midnight of ``"HH:MM"`` (``"24:00"`` allowed as end of day)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", str(text).strip())
    if not match:
        raise InputError(field, text, "expected a clock time HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 24 or minutes > 59 or (hours == 24 and minutes):
        raise InputError(field, text, "expected a clock time between 00:00 and 24:00")
    return (hours * 60 + minutes) % _MINUTES_PER_DAY


def minute_of_day(when: str | dt.time | dt.datetime) -> int:
    if isinstance(when, str):
        return parse_clock_min(when)
    return when.hour * 60 + when.minute


def parse_maxspeed_kph(value: Any) -> float | None:
    """A maxspeed tag in km/h, or None when absent or unreadable (``"50"``, ``"30 mph"``).

    osmnx gives a list when merged ways disagree; the lowest value is used.
    """
    if value is None:
        return None
    if isinstance(value, list):
        parsed = [kph for kph in (parse_maxspeed_kph(v) for v in value) if kph is not None]
        return min(parsed) if parsed else None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    match = _MAXSPEED_NUMBER.match(str(value))
    if not match:
        return None
    kph = float(match.group(1))
    if match.group(2) == "mph":
        kph *= _MPH_TO_KPH
    return kph if kph > 0 else None
