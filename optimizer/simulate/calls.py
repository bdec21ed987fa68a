"""The day's calls: when (the demand model's hourly profile) and what (its call maker).

The ``count`` calls of a day are drawn once from a seed, so every policy gets the same
calls. Times are epoch seconds of a fixed simulated day (:data:`SIM_DAY`), never the
wall clock.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.errors import InputError
from geo.places import Geo
from optimizer.demand import MEMBER_SHARE, CallMaker, DemandModel
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.rules import Rules

SIM_DAY = dt.date(2026, 1, 5)
"""The simulated day (a Monday); only its clock times matter to the models."""


@dataclass(frozen=True)
class SimCall:
    """A call of the day: when it comes in and its intake (SERVICE_RULES §2)."""

    at_s: float
    intake: dict[str, Any]


def day_start_s(clock: str) -> float:
    """Epoch seconds of ``"HH:MM"`` on the simulated day."""
    return epoch_at_clock(clock, day=SIM_DAY)


def draw_calls(
    geo: Geo, rules: Rules, *, count: int, start_s: float, hours: float, seed: int
) -> list[SimCall]:
    """``count`` calls between ``start_s`` and ``hours`` later, at times following the
    demand model's hourly profile (rejection sampling), places and callers from it."""
    demand = DemandModel(geo, calls_per_hour=1.0, rng=np.random.default_rng(seed))
    maker = CallMaker(
        demand,
        fault_kinds=dict(rules.fault_kinds),
        insurers=tuple(rules.insurers),
        member_share=MEMBER_SHARE,
        rng=random.Random(seed),
    )
    window_s = hours * 3600.0
    peak = max(demand.rate_per_hour(start_s + h * 3600.0) for h in range(24))
    if peak <= 0:
        raise InputError("demand", peak, "the demand model expects no calls at any hour")
    times: list[float] = []
    while len(times) < count:
        at_s = start_s + float(demand.rng.uniform(0.0, window_s))
        if demand.rng.uniform(0.0, peak) < demand.rate_per_hour(at_s):
            times.append(at_s)
    return [SimCall(at_s, maker.make(at_s)) for at_s in sorted(times)]
