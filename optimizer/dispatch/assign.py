"""Assign one new job: rank every suitable truck by predicted arrival (fast path).

Predicted arrival = time until the truck is free (its remaining work, see
:mod:`optimizer.dispatch.workload`) + preparation + road travel time from where it will be free,
in the current time-of-day band. One backward search from the job gives the travel time
from every truck at once. The promise (SERVICE_RULES §1) is checked for each candidate:
``on_time``, ``at_risk`` (within the margin of the deadline) or ``late``, with the reason
and the sentence the dispatcher tells the caller.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from geo.places import Geo
from geo.router import Snap, SnapSet
from optimizer.dispatch.rules import Rules, TruckKind

PromiseStatus = Literal["on_time", "at_risk", "late"]
Reason = Literal["distance", "congestion", "all_suitable_busy", "no_suitable_truck"]
FREE_FLOW_BAND = "night"
CANDIDATES_SHOWN = 6  # the best truck and the next five


@dataclass(frozen=True, eq=False)
class FleetView:
    """The trucks that may take work, as arrays (rebuilt when a truck's work changes)."""

    truck_ids: tuple[str, ...]
    kinds: tuple[TruckKind, ...]
    is_flatbed: npt.NDArray[np.bool_]
    free_at_s: npt.NDArray[np.float64]
    free_snaps: SnapSet

    @classmethod
    def build(cls, rows: Sequence[tuple[str, TruckKind, float, Snap]]) -> FleetView:
        """From ``(truck_id, kind, free_at_s, free_snap)`` rows of on-duty trucks."""
        return cls(
            truck_ids=tuple(r[0] for r in rows),
            kinds=tuple(r[1] for r in rows),
            is_flatbed=np.array([r[1] == "flatbed" for r in rows], dtype=bool),
            free_at_s=np.array([r[2] for r in rows], dtype=np.float64),
            free_snaps=SnapSet.of([r[3] for r in rows]),
        )

    def suitable(
        self, required_kind: TruckKind, *, flatbed_can_service: bool
    ) -> npt.NDArray[np.bool_]:
        """Skills (§3): a service vehicle never tows; a flatbed may also do on-site service."""
        if required_kind == "flatbed":
            return self.is_flatbed.copy()
        return np.ones_like(self.is_flatbed) if flatbed_can_service else ~self.is_flatbed


@dataclass(frozen=True)
class Candidate:
    truck: str
    kind: TruckKind
    eta_s: float
    wait_s: float
    travel_s: float
    status: PromiseStatus
    reason: Reason | None


@dataclass(frozen=True)
class Proposal:
    """The ranked answer for one job."""

    best: Candidate | None
    candidates: list[Candidate]
    status: PromiseStatus
    reason: Reason | None
    deadline_s: float
    band: str
    script_zh: str
    script_en: str

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for row in [out["best"], *out["candidates"]]:
            if row:
                for key in ("eta_s", "wait_s", "travel_s"):
                    row[key] = round(row[key], 1)
        return out


def promise_status(arrival_s: float, deadline_s: float, rules: Rules) -> PromiseStatus:
    if arrival_s > deadline_s:
        return "late"
    if arrival_s > deadline_s - rules.at_risk_margin_s:
        return "at_risk"
    return "on_time"


def promise_reason(
    *,
    now_s: float,
    deadline_s: float,
    wait_s: float,
    travel_s: float,
    free_flow_s: float,
    rules: Rules,
    prep_s: float | None = None,
) -> Reason:
    """Why a truck will not keep the promise: the first cause whose removal would keep it.

    ``wait_s`` is the time until the truck is free for this job, ``travel_s`` its drive in
    the current band and ``free_flow_s`` the same drive at night; ``prep_s`` defaults to
    the rules' preparation time (0 for a crew already on its way).
    """
    prep_s = rules.prep_s if prep_s is None else prep_s
    keep_by_s = deadline_s - rules.at_risk_margin_s
    if wait_s > 0 and now_s + prep_s + travel_s <= keep_by_s:
        return "all_suitable_busy"
    if now_s + wait_s + prep_s + free_flow_s <= keep_by_s:
        return "congestion"
    return "distance"


def caller_script(
    status: PromiseStatus, reason: Reason | None, eta_s: float, rules: Rules
) -> tuple[str, str]:
    """The sentence to tell the caller (SERVICE_RULES §1), Chinese and English."""
    key = "on_time" if status == "on_time" else (reason or "distance")
    minutes = math.ceil(eta_s / 60.0) if math.isfinite(eta_s) else 0
    return (
        rules.scripts[f"{key}_zh"].format(minutes=minutes),
        rules.scripts[f"{key}_en"].format(minutes=minutes),
    )


def rank_trucks(
    job_snap: Snap,
    required_kind: TruckKind,
    *,
    deadline_s: float,
    view: FleetView,
    now_s: float,
    band: str,
    rules: Rules,
    geo: Geo,
) -> Proposal:
    """Rank the suitable trucks of ``view`` for a job at ``job_snap``; see module docstring."""
    suitable = view.suitable(required_kind, flatbed_can_service=rules.flatbed_can_service)
    if not suitable.any():
        zh, en = caller_script("late", "no_suitable_truck", math.inf, rules)
        return Proposal(None, [], "late", "no_suitable_truck", deadline_s, band, zh, en)
    travel_s = geo.router.travel_times_to(job_snap, view.free_snaps, band=band)
    wait_s = np.maximum(view.free_at_s - now_s, 0.0)
    eta_s = np.where(suitable, wait_s + rules.prep_s + travel_s, np.inf)
    order = np.argsort(eta_s, kind="stable")[:CANDIDATES_SHOWN]
    order = order[np.isfinite(eta_s[order])]
    if order.size == 0:
        zh, en = caller_script("late", "no_suitable_truck", math.inf, rules)
        return Proposal(None, [], "late", "no_suitable_truck", deadline_s, band, zh, en)
    statuses = [promise_status(now_s + eta_s[i], deadline_s, rules) for i in order]
    free_flow_s = None
    if any(s != "on_time" for s in statuses):
        free_flow_s = geo.router.travel_times_to(job_snap, view.free_snaps, band=FREE_FLOW_BAND)
    candidates = []
    for i, status in zip(order, statuses, strict=True):
        reason = None
        if status != "on_time" and free_flow_s is not None:
            reason = promise_reason(
                now_s=now_s,
                deadline_s=deadline_s,
                wait_s=float(wait_s[i]),
                travel_s=float(travel_s[i]),
                free_flow_s=float(free_flow_s[i]),
                rules=rules,
            )
        candidates.append(
            Candidate(
                truck=view.truck_ids[i],
                kind=view.kinds[i],
                eta_s=float(eta_s[i]),
                wait_s=float(wait_s[i]),
                travel_s=float(travel_s[i]),
                status=status,
                reason=reason,
            )
        )
    best = candidates[0]
    zh, en = caller_script(best.status, best.reason, best.eta_s, rules)
    return Proposal(best, candidates, best.status, best.reason, deadline_s, band, zh, en)
