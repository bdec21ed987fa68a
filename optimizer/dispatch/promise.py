"""Promise watch: will each open job's truck arrive within the 40-minute promise?

A received job is checked with the board's proposal (the best truck it could get now).
An assigned job is checked against its truck's plan (:mod:`optimizer.dispatch.workload`): the
predicted arrival at the scene, never earlier than now. The status, the reasons and the
sentence for the caller are those of :mod:`optimizer.dispatch.assign`, applied to the plan's leg to
this job (when the truck is free for it, from where, and how long the drive is), with the
time the job lost before (:meth:`optimizer.dispatch.board.DispatchBoard.delays`: waiting for
a dispatch, a repair on site that turned into a tow).

A check alerts when the promise is at risk or broken, and also when a call has waited for
a dispatch longer than ``[promise] undispatched_alert_min`` (reason ``not_dispatched``),
even if a truck sent now would still be on time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from optimizer.dispatch.assign import (
    FREE_FLOW_BAND,
    Reason,
    caller_script,
    promise_reasons,
    promise_status,
)
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.model import Job, JobState

WATCHED_STATES = frozenset({JobState.RECEIVED, JobState.ASSIGNED, JobState.EN_ROUTE})


@dataclass(frozen=True)
class PromiseCheck:
    status: str
    """``on_time``, ``at_risk`` or ``late``."""
    reason: Reason | None
    """The main cause (``reasons[0]``)."""
    eta_at_s: float | None
    """Predicted arrival at the scene (epoch s), None when no truck can take the job."""
    deadline_s: float
    truck_id: str | None
    script_zh: str
    script_en: str
    reasons: list[Reason] = field(default_factory=list)
    estimated: bool = False
    """The place lies beyond the road data: the arrival is an estimate."""
    """Every cause, the main one first."""

    @property
    def alerting(self) -> bool:
        return self.status != "on_time" or "not_dispatched" in self.reasons

    def key(self) -> tuple[Any, ...]:
        """What makes a check worth re-sending: status, reasons, ETA to the minute."""
        eta_min = None if self.eta_at_s is None else math.ceil(self.eta_at_s / 60.0)
        return (self.status, tuple(self.reasons), eta_min, self.truck_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "reason": self.reason,
            "reasons": list(self.reasons),
            "alerting": self.alerting,
            "eta_at_s": None if self.eta_at_s is None else round(self.eta_at_s, 1),
            "deadline_s": self.deadline_s,
            "truck_id": self.truck_id,
            "script_zh": self.script_zh,
            "script_en": self.script_en,
            "estimated": self.estimated,
        }


def check_promise(board: DispatchBoard, job: Job, *, now_s: float) -> PromiseCheck | None:
    """The promise of a job not yet reached; None once the crew is on scene or later."""
    if job.state not in WATCHED_STATES:
        return None
    rules = board.rules
    if job.state == JobState.RECEIVED:
        proposal = board.propose(job.id, now_s=now_s)
        best = proposal.best
        return PromiseCheck(
            status=proposal.status,
            reason=proposal.reason,
            eta_at_s=None if best is None else now_s + best.eta_s,
            deadline_s=job.deadline_s,
            truck_id=None if best is None else best.truck,
            script_zh=proposal.script_zh,
            script_en=proposal.script_en,
            reasons=list(proposal.reasons),
            estimated=proposal.estimated,
        )
    assert job.truck_id is not None
    leg = board.plan(job.truck_id, now_s=now_s).legs[job.id]
    arrival_s = max(leg.arrival_s, now_s)
    status = promise_status(arrival_s, job.deadline_s, rules)
    reasons: list[Reason] = []
    if status != "on_time":
        free_flow_s = (
            float(
                board.geo.router.travel_times_from(leg.origin, [job.snap], band=FREE_FLOW_BAND)[0]
            )
            + board.estimate_s(job, now_s=now_s)[1]
        )
        reasons = promise_reasons(
            now_s=now_s,
            deadline_s=job.deadline_s,
            wait_s=max(0.0, leg.ready_s - now_s),
            travel_s=leg.travel_s,
            free_flow_s=free_flow_s,
            rules=rules,
            prep_s=leg.prep_s,
            delays=board.delays(job, now_s=now_s),
        )
    estimated = bool(job.placement and job.placement.estimated)
    zh, en = caller_script(status, reasons, arrival_s - now_s, rules, estimated=estimated)
    reason = reasons[0] if reasons else None
    return PromiseCheck(
        status,
        reason,
        arrival_s,
        job.deadline_s,
        job.truck_id,
        zh,
        en,
        reasons=reasons,
        estimated=estimated,
    )


@dataclass(frozen=True)
class PromiseChange:
    """What a re-check found new for one job: its check, and whether to raise an alert."""

    job_id: str
    check: PromiseCheck
    alert: bool


class PromiseWatch:
    """The last promise check of every watched job, and what changed since."""

    def __init__(self) -> None:
        self._checks: dict[str, PromiseCheck] = {}

    def get(self, job_id: str) -> PromiseCheck | None:
        return self._checks.get(job_id)

    def alerting(self) -> list[str]:
        """Jobs whose promise is at risk or broken, sorted."""
        return sorted(j for j, check in self._checks.items() if check.alerting)

    def drop(self, job_id: str) -> None:
        self._checks.pop(job_id, None)

    def clear(self) -> None:
        self._checks.clear()

    def recheck(self, board: DispatchBoard, job: Job, *, now_s: float) -> PromiseChange | None:
        """Check ``job`` again; the change when the check is worth re-sending
        (:meth:`PromiseCheck.key`), with ``alert`` when its status or reason turned bad."""
        check = check_promise(board, job, now_s=now_s)
        old = self._checks.get(job.id)
        if check is None:
            self._checks.pop(job.id, None)
            return None
        if old is not None and old.key() == check.key():
            return None
        self._checks[job.id] = check
        changed = old is None or (old.status, old.reasons) != (check.status, check.reasons)
        return PromiseChange(job.id, check, alert=check.alerting and changed)
