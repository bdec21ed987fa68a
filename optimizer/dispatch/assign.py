"""Assign one new job: rank every suitable truck by predicted arrival (fast path).

Predicted arrival = time until the truck is free (its remaining work, see
:mod:`optimizer.dispatch.workload`) + preparation + road travel time from where it will be free,
in the current time-of-day band. One backward search from the job gives the travel time
from every truck at once. The promise (SERVICE_RULES §1) is checked for each candidate:
``on_time``, ``at_risk`` (within the margin of the deadline) or ``late``, with the reasons
(:func:`promise_reasons`: every cause, the main one first) and the sentence the dispatcher
tells the caller.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from geo.i18n import N_, both, translate
from geo.places import Geo
from geo.router import Snap, SnapSet
from optimizer.dispatch.rules import Rules, TruckKind

PromiseStatus = Literal["on_time", "at_risk", "late"]
Reason = Literal[
    "distance",
    "congestion",
    "all_suitable_busy",
    "no_suitable_truck",
    "not_dispatched",
    "converted_to_tow",
]
CAUSE_ORDER: tuple[Reason, ...] = (
    "converted_to_tow",
    "not_dispatched",
    "all_suitable_busy",
    "congestion",
)
"""Causes of a late arrival that can be taken away, in the order the main one is chosen:
the time lost on a repair that turned into a tow, the time the call waited for a dispatch,
the time until the truck is free, the traffic. What none of them explains is ``distance``."""
# SERVICE_RULES §1: what the dispatcher tells the caller (texts of the message catalogue,
# Chinese in i18n/zh_CN). Promises must be kept, never exaggerated; when a truck will be
# late the dispatcher says why and gives a new estimate. {minutes}: the predicted arrival in
# whole minutes (rounded up).
SCRIPTS: dict[str, str] = {
    "on_time": N_(
        "We are sending a rescue truck right away; it should reach you in about {minutes} minutes."
    ),
    "distance": N_(
        "You are far from our nearest suitable truck; it should reach you in about {minutes} "
        "minutes."
    ),
    "congestion": N_(
        "Because of traffic congestion the rescue truck should reach you in about {minutes} "
        "minutes."
    ),
    "all_suitable_busy": N_(
        "Our trucks near you are busy on other rescues; the next one should reach you in "
        "about {minutes} minutes."
    ),
    "no_suitable_truck": N_(
        "No suitable truck is free right now; we will arrange one and call you back with an "
        "arrival time."
    ),
}
"""The caller's sentence per status/cause; a cause without one of its own (or several
causes adding up) uses :data:`SEVERAL_CAUSES`."""
SEVERAL_CAUSES = N_(
    "Because {causes}, the rescue truck should reach you in about {minutes} minutes."
)
"""The caller hears every cause: {causes} is the clauses of :data:`CAUSES` joined with
:data:`CAUSES_JOIN`."""
CAUSES_JOIN = N_(", and ")
CAUSES: dict[str, str] = {
    "not_dispatched": N_("your call is still waiting for a truck to be sent"),
    "converted_to_tow": N_("your car could not be fixed on the spot and a tow truck must come"),
    "all_suitable_busy": N_("our trucks near you are busy on other rescues"),
    "congestion": N_("the roads are congested at this time of day"),
    "distance": N_("you are far from our nearest suitable truck"),
}
ESTIMATE_NOTE = N_(" (Your location is beyond our road data, so this time is an estimate.)")
"""Added when the place is beyond the road data (geo/estimates.py)."""
FREE_FLOW_BAND = "night"
CANDIDATES_SHOWN = 6  # the best truck and the next five


@dataclass(frozen=True, eq=False)
class FleetView:
    """The trucks that may take work, as arrays.

    The set of trucks is fixed; a truck's free time and place change in place
    (:meth:`refresh`) when its work or, idle, its position changes, so a view handed out
    holds until the board next changes."""

    truck_ids: tuple[str, ...]
    kinds: tuple[TruckKind, ...]
    is_flatbed: npt.NDArray[np.bool_]
    free_at_s: npt.NDArray[np.float64]
    free_snaps: SnapSet
    row_of: dict[str, int]
    """Each truck's row."""

    @classmethod
    def build(cls, rows: Sequence[tuple[str, TruckKind, float, Snap]]) -> FleetView:
        """From ``(truck_id, kind, free_at_s, free_snap)`` rows of on-duty trucks."""
        return cls(
            truck_ids=tuple(r[0] for r in rows),
            kinds=tuple(r[1] for r in rows),
            is_flatbed=np.array([r[1] == "flatbed" for r in rows], dtype=bool),
            free_at_s=np.array([r[2] for r in rows], dtype=np.float64),
            free_snaps=SnapSet.of([r[3] for r in rows]),
            row_of={r[0]: i for i, r in enumerate(rows)},
        )

    def refresh(
        self, truck_ids: Sequence[str], free_at_s: Sequence[float], snaps: Sequence[Snap]
    ) -> None:
        """New free times and places of some of the trucks (in the view's set)."""
        rows = np.array([self.row_of[t] for t in truck_ids], dtype=np.int64)
        self.free_at_s[rows] = free_at_s
        self.free_snaps.edge[rows] = [s.edge for s in snaps]
        self.free_snaps.fraction[rows] = [s.fraction for s in snaps]
        self.free_snaps.twin[rows] = [s.twin for s in snaps]

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
    reasons: list[Reason] = field(default_factory=list)
    """Every cause when not on time, the main one (``reason``) first."""


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
    reasons: list[Reason] = field(default_factory=list)
    """Every cause, the main one (``reason``) first; ``["not_dispatched"]`` for a call on
    time that has waited too long for a dispatch."""
    estimated: bool = False
    """The place lies beyond the road data: the arrivals include an estimate
    (:mod:`geo.estimates`)."""

    def candidate(self, truck_id: str) -> Candidate | None:
        return next((c for c in self.candidates if c.truck == truck_id), None)

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


def promise_reasons(
    *,
    now_s: float,
    deadline_s: float,
    wait_s: float,
    travel_s: float,
    free_flow_s: float,
    rules: Rules,
    prep_s: float | None = None,
    delays: Mapping[Reason, float] | None = None,
) -> list[Reason]:
    """Why a truck will not keep the promise: every cause, the main one first.

    ``wait_s`` is the time until the truck is free for this job (cause
    ``all_suitable_busy``), ``travel_s`` its drive in the current band and ``free_flow_s``
    the same drive at night (the difference: ``congestion``); ``prep_s`` defaults to the
    rules' preparation time (0 for a crew already on its way). ``delays`` are the seconds
    lost before this truck's part: ``not_dispatched`` (the call waited for a dispatch),
    ``converted_to_tow`` (a repair on site failed and a flatbed must come).

    A set of causes keeps the promise if the arrival without their seconds is in time.
    The reasons are the causes of every smallest such set (one cause alone, or two that
    only together suffice, ...), in :data:`CAUSE_ORDER`; ``["distance"]`` when even
    without all of them the promise would not be kept.
    """
    prep_s = rules.prep_s if prep_s is None else prep_s
    keep_by_s = deadline_s - rules.at_risk_margin_s
    arrival_s = now_s + wait_s + prep_s + travel_s
    seconds: dict[Reason, float] = {k: v for k, v in (delays or {}).items() if v > 0}
    seconds["all_suitable_busy"] = wait_s
    seconds["congestion"] = travel_s - free_flow_s
    causes = [c for c in CAUSE_ORDER if seconds.get(c, 0.0) > 0]
    keeping: list[set[Reason]] = []
    for size in range(1, len(causes) + 1):
        for combo in itertools.combinations(causes, size):
            chosen = set(combo)
            if any(smaller <= chosen for smaller in keeping):
                continue
            if arrival_s - sum(seconds[c] for c in combo) <= keep_by_s:
                keeping.append(chosen)
    reasons = [c for c in causes if any(c in chosen for chosen in keeping)]
    return reasons or ["distance"]


def caller_script(
    status: PromiseStatus,
    reasons: Reason | Sequence[Reason] | None,
    eta_s: float,
    rules: Rules,
    *,
    estimated: bool = False,
) -> tuple[str, str]:
    """The sentence to tell the caller (SERVICE_RULES §1), Chinese and English.

    On time: the promise sentence. One cause with its own sentence in :data:`SCRIPTS`: that
    sentence. Several causes (or a cause without its own sentence): :data:`SEVERAL_CAUSES`
    naming every cause, so the caller hears all of them (busy trucks *and* traffic).
    ``estimated``: the place is beyond the road data, and the sentence says the time is
    an estimate (:data:`ESTIMATE_NOTE`). The texts are the catalogue's (:data:`SCRIPTS`).
    """
    zh, en = _caller_sentence(status, reasons, eta_s)
    if estimated:
        note_zh, note_en = both(ESTIMATE_NOTE)
        zh, en = zh + note_zh, en + note_en
    return zh, en


def _caller_sentence(
    status: PromiseStatus,
    reasons: Reason | Sequence[Reason] | None,
    eta_s: float,
) -> tuple[str, str]:
    causes: list[Reason] = [reasons] if isinstance(reasons, str) else list(reasons or [])
    minutes = math.ceil(eta_s / 60.0) if math.isfinite(eta_s) else 0
    key = "on_time" if status == "on_time" else (causes[0] if causes else "distance")
    if status == "on_time" or (len(causes) <= 1 and key in SCRIPTS):
        return both(SCRIPTS[key], minutes=minutes)
    sentences = []
    for lang in ("zh", "en"):
        joined = translate(CAUSES_JOIN, lang).join(translate(CAUSES[c], lang) for c in causes)
        sentences.append(translate(SEVERAL_CAUSES, lang, causes=joined, minutes=minutes))
    return sentences[0], sentences[1]


def _no_suitable_truck(deadline_s: float, band: str, rules: Rules, *, estimated: bool) -> Proposal:
    zh, en = caller_script("late", "no_suitable_truck", math.inf, rules, estimated=estimated)
    return Proposal(
        None, [], "late", "no_suitable_truck", deadline_s, band, zh, en,
        ["no_suitable_truck"], estimated,
    )  # fmt: skip


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
    delays: Mapping[Reason, float] | None = None,
    include: str | None = None,
    estimate_s: tuple[float, float] = (0.0, 0.0),
) -> Proposal:
    """Rank the suitable trucks of ``view`` for a job at ``job_snap``; see module docstring.

    ``delays``: seconds already lost before any truck's part (see :func:`promise_reasons`);
    with ``not_dispatched`` among them, a proposal on time still says so. ``include``: a
    truck also listed among the candidates (after the best six) if it is suitable, so its
    fresh arrival can be compared with what a dispatcher was shown. ``estimate_s``: for a
    place beyond the road data, the estimated seconds from the road point to it, in
    ``band`` and at free flow (:meth:`geo.places.Geo.off_network_s`).
    """
    estimated = estimate_s[0] > 0
    suitable = view.suitable(required_kind, flatbed_can_service=rules.flatbed_can_service)
    if not suitable.any():
        return _no_suitable_truck(deadline_s, band, rules, estimated=estimated)
    wait_s = np.maximum(view.free_at_s - now_s, 0.0)
    road_s = geo.router.travel_times_to(job_snap, view.free_snaps, band=band)
    travel_s = road_s + estimate_s[0]
    eta_s = np.where(suitable, wait_s + rules.prep_s + travel_s, np.inf)
    order = np.argsort(eta_s, kind="stable")[:CANDIDATES_SHOWN]
    order = order[np.isfinite(eta_s[order])]
    if order.size == 0:
        return _no_suitable_truck(deadline_s, band, rules, estimated=estimated)
    if include in view.truck_ids:
        extra = view.truck_ids.index(include)
        if math.isfinite(eta_s[extra]) and extra not in order:
            order = np.append(order, extra)
    statuses = [promise_status(now_s + eta_s[i], deadline_s, rules) for i in order]
    free_flow_s = None
    if any(s != "on_time" for s in statuses):
        free_flow_s = (
            geo.router.travel_times_to(job_snap, view.free_snaps, band=FREE_FLOW_BAND)
            + estimate_s[1]
        )
    candidates = []
    for i, status in zip(order, statuses, strict=True):
        reasons: list[Reason] = []
        if status != "on_time" and free_flow_s is not None:
            reasons = promise_reasons(
                now_s=now_s,
                deadline_s=deadline_s,
                wait_s=float(wait_s[i]),
                travel_s=float(travel_s[i]),
                free_flow_s=float(free_flow_s[i]),
                rules=rules,
                delays=delays,
            )
        candidates.append(
            Candidate(
                truck=view.truck_ids[i],
                kind=view.kinds[i],
                eta_s=float(eta_s[i]),
                wait_s=float(wait_s[i]),
                travel_s=float(travel_s[i]),
                status=status,
                reason=reasons[0] if reasons else None,
                reasons=reasons,
            )
        )
    best = candidates[0]
    reasons = list(best.reasons)
    if best.status == "on_time" and (delays or {}).get("not_dispatched", 0.0) > 0:
        reasons = ["not_dispatched"]  # on time if sent now, but the call has waited too long
    zh, en = caller_script(best.status, reasons, best.eta_s, rules, estimated=estimated)
    return Proposal(
        best,
        candidates,
        best.status,
        reasons[0] if reasons else None,
        deadline_s,
        band,
        zh,
        en,
        reasons,
        estimated,
    )
