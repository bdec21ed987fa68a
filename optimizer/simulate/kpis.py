"""The day's figures of one policy, from the board's jobs at the end of the day.

A call's response is the time from the call coming in to the first truck on scene (the
one that fixes the car or the first of a repair turned tow); it is on time when that is
within the promise (config/rules.toml ``[promise]``). Revenue is the quotes' totals of
the calls served (after a conversion to tow, the tow's quote); tow km are the road km of
the tows delivered. Utilisation is the share of the day's window each kind of truck spent
with work in hand or queued.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from geo.zones import Ring
from optimizer.dispatch.model import Job, JobState
from optimizer.simulate.engine import DayResult

DELIVERED_STATES = (JobState.DELIVERED, JobState.CLOSED)


@dataclass(frozen=True)
class CallOutcome:
    job_id: str
    lonlat: tuple[float, float]
    zone: str
    band: str
    response_s: float | None
    """None: never reached."""
    on_time: bool
    tow_km: float
    revenue_yuan: float


class RingBands:
    """Ring-road zones by the innermost ring a place lies inside (rings by area): inside
    the 2nd ring, between the 2nd and 3rd, ..., beyond the outermost."""

    def __init__(self, rings: Iterable[Ring]) -> None:
        self.rings = sorted(rings, key=lambda ring: ring.polygon.area)
        for ring in self.rings:
            shapely.prepare(ring.polygon)
        short_en = [ring.name_en.removesuffix(" Road") for ring in self.rings]
        short_zh = [ring.name_zh.removesuffix("路") for ring in self.rings]
        self.names = [f"inside {short_en[0]}"]
        self.labels_zh = {self.names[0]: f"{short_zh[0]}内"}
        for i in range(1, len(self.rings)):
            self.names.append(f"{short_en[i - 1]} to {short_en[i]}")
            self.labels_zh[self.names[-1]] = f"{short_zh[i - 1]}至{short_zh[i]}"
        self.names.append(f"beyond {short_en[-1]}")
        self.labels_zh[self.names[-1]] = f"{short_zh[-1]}外"

    def zone(self, lon: float, lat: float) -> str:
        for ring, name in zip(self.rings, self.names, strict=False):
            if shapely.intersects_xy(ring.polygon, lon, lat):
                return name
        return self.names[-1]


def first_on_scene_s(job: Job) -> float | None:
    return next((h.at_s for h in job.history if h.state == JobState.ON_SCENE), None)


def outcomes(result: DayResult, zones: RingBands) -> list[CallOutcome]:
    """Each of the day's calls' outcome, in call order."""
    board = result.board
    out = []
    for job_id in result.call_ids:
        job = board.jobs[job_id]
        arrived_s = first_on_scene_s(job)
        response_s = None if arrived_s is None else arrived_s - job.created_at_s
        towed = job.needs_tow and job.state in DELIVERED_STATES and job.tow_m is not None
        out.append(
            CallOutcome(
                job_id=job_id,
                lonlat=job.intake.location,
                zone=zones.zone(*job.intake.location),
                band=board.band_at(job.created_at_s),
                response_s=response_s,
                on_time=response_s is not None and response_s <= board.rules.promise_s,
                tow_km=(job.tow_m or 0.0) / 1000.0 if towed else 0.0,
                revenue_yuan=job.quote.total_yuan
                if job.quote is not None and response_s is not None
                else 0.0,
            )
        )
    return out


def _summary(calls: list[CallOutcome]) -> dict[str, Any]:
    served = [c.response_s for c in calls if c.response_s is not None]
    response = np.array(served, dtype=np.float64)
    return {
        "calls": len(calls),
        "served": len(served),
        "unserved": len(calls) - len(served),
        "on_time_rate": round(sum(c.on_time for c in calls) / len(calls), 4) if calls else None,
        "response_s_mean": round(float(response.mean()), 1) if served else None,
        "response_s_p50": round(float(np.percentile(response, 50)), 1) if served else None,
        "response_s_p90": round(float(np.percentile(response, 90)), 1) if served else None,
    }


def _grouped(calls: list[CallOutcome], key: str, order: Iterable[str]) -> dict[str, Any]:
    groups: dict[str, list[CallOutcome]] = defaultdict(list)
    for call in calls:
        groups[getattr(call, key)].append(call)
    return {name: _summary(groups[name]) for name in order if groups[name]}


def utilisation_by_kind(result: DayResult) -> dict[str, float]:
    """Busy share of the day's window of each kind of truck."""
    window_s = result.end_s - result.start_s
    busy: dict[str, float] = defaultdict(float)
    trucks: dict[str, int] = defaultdict(int)
    for truck in result.board.trucks.values():
        trucks[truck.kind] += 1
        for since_s, until_s in result.busy_s.get(truck.id, []):
            busy[truck.kind] += max(0.0, min(until_s, result.end_s) - max(since_s, result.start_s))
    return {kind: round(busy[kind] / (trucks[kind] * window_s), 4) for kind in sorted(trucks)}


def day_kpis(result: DayResult, calls: list[CallOutcome], zones: RingBands) -> dict[str, Any]:
    """The policy's figures (see the module docstring); numbers rounded for stable JSON."""
    bands = list(dict.fromkeys(result.board.geo.network.bands))
    return {
        **_summary(calls),
        "by_zone": _grouped(calls, "zone", zones.names),
        "by_band": _grouped(calls, "band", bands),
        "utilisation_by_kind": utilisation_by_kind(result),
        "tow_km": round(sum(c.tow_km for c in calls), 1),
        "revenue_yuan": round(sum(c.revenue_yuan for c in calls), 1),
    }
