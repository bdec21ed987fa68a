"""A re-plan shown before it is applied, and the undo of the last one applied.

A preview (:class:`Preview`) is a solved re-plan kept for the dispatcher who asked for it,
with what the board looked like then (the version of every job it may move, the queue and
duty of every truck): it is applied only if none of that changed since, else the
dispatcher previews again. A dispatcher keeps at most :data:`MAX_PREVIEWS_PER_USER`, each
for :data:`PREVIEW_TTL_S` seconds of the dispatch clock (:class:`PreviewBook`).

The changes a preview lists (:func:`plan_changes`) are the jobs whose truck, place in the
queue, predicted arrival or promise status the plan changes. Arrivals before are the
board's predictions (:func:`optimizer.dispatch.promise.check_promise`: for a call not yet
dispatched, the best truck's); after, the solver's, which are the board's once the plan is
applied (``tests/test_replan_live.py``).

An applied re-plan (:class:`AppliedReplan`) remembers each truck's waiting jobs before it
and the version of each job it moved right after it: undoing it puts those queues back
(:func:`undo_payload`) while none of those jobs changed since.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from optimizer.dispatch.assign import promise_status
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.model import JobState, TruckState
from optimizer.dispatch.promise import check_promise
from optimizer.dispatch.replan import PLANNABLE, ReplanResult

PREVIEW_TTL_S = 300.0
"""How long a preview can be applied (dispatch clock): the board moves on meanwhile."""
MAX_PREVIEWS_PER_USER = 3
"""Previews a dispatcher keeps; a newer one drops the oldest."""
ETA_CHANGE_S = 60.0
"""A predicted arrival that moves by less than this (the page shows minutes) is no change."""

TruckMark = tuple[tuple[str, ...], bool]
"""A truck as a preview saw it: its queue and whether it is off duty."""


@dataclass(frozen=True)
class Prediction:
    """Where a job stands in a plan: its truck, its place among the truck's waiting jobs,
    its predicted arrival (epoch s) and promise status."""

    truck_id: str | None
    position: int | None
    eta_at_s: float | None
    status: str | None

    def differs(self, other: Prediction) -> bool:
        if (self.truck_id, self.position, self.status) != (
            other.truck_id,
            other.position,
            other.status,
        ):
            return True
        if self.eta_at_s is None or other.eta_at_s is None:
            return self.eta_at_s != other.eta_at_s
        return abs(self.eta_at_s - other.eta_at_s) >= ETA_CHANGE_S


@dataclass(frozen=True)
class Preview:
    """A solved re-plan kept until it is applied, discarded or expires."""

    plan_id: str
    user: str
    made_at_s: float
    result: ReplanResult
    job_versions: dict[str, int]
    """The version of every job the plan may move (received or assigned) when solved."""
    trucks: dict[str, TruckMark]


@dataclass(frozen=True)
class AppliedReplan:
    """The last re-plan applied: each truck's waiting jobs before it, and each job it moved
    with its version right after it."""

    before: dict[str, list[str]]
    moved_versions: dict[str, int]


class PreviewBook:
    """Each dispatcher's previews, newest last, at most :data:`MAX_PREVIEWS_PER_USER`."""

    def __init__(self) -> None:
        self._by_user: dict[str, dict[str, Preview]] = {}

    def add(self, preview: Preview) -> None:
        kept = self._fresh(preview.user, now_s=preview.made_at_s)
        kept[preview.plan_id] = preview
        while len(kept) > MAX_PREVIEWS_PER_USER:
            del kept[next(iter(kept))]

    def take(self, user: str, plan_id: str, *, now_s: float) -> Preview | None:
        """The preview, removed from the book; None if unknown or expired."""
        return self._fresh(user, now_s=now_s).pop(plan_id, None)

    def discard(self, user: str, plan_id: str) -> bool:
        return self._by_user.get(user, {}).pop(plan_id, None) is not None

    def clear(self) -> None:
        self._by_user.clear()

    def _fresh(self, user: str, *, now_s: float) -> dict[str, Preview]:
        kept = self._by_user.setdefault(user, {})
        for plan_id in [p for p, v in kept.items() if now_s - v.made_at_s > PREVIEW_TTL_S]:
            del kept[plan_id]
        return kept


def new_plan_id() -> str:
    return secrets.token_hex(8)


def truck_marks(board: DispatchBoard) -> dict[str, TruckMark]:
    return {
        truck_id: (tuple(truck.queue), truck.state == TruckState.OFF_DUTY)
        for truck_id, truck in board.trucks.items()
    }


def waiting_queues(board: DispatchBoard) -> dict[str, list[str]]:
    """Each truck's jobs not yet started (``assigned``), in order: what a re-plan orders."""
    return {
        truck_id: [j for j in truck.queue if board.jobs[j].state == JobState.ASSIGNED]
        for truck_id, truck in board.trucks.items()
    }


def predictions_now(board: DispatchBoard, *, now_s: float) -> dict[str, Prediction]:
    """Each job a re-plan may move, as the board stands."""
    positions = {
        job_id: n for queue in waiting_queues(board).values() for n, job_id in enumerate(queue)
    }
    predictions = {}
    for job in board.jobs.values():
        if job.state not in PLANNABLE:
            continue
        check = check_promise(board, job, now_s=now_s)
        predictions[job.id] = Prediction(
            job.truck_id,
            positions.get(job.id),
            None if check is None else check.eta_at_s,
            None if check is None else check.status,
        )
    return predictions


def planned_predictions(
    board: DispatchBoard, result: ReplanResult, *, now_s: float
) -> dict[str, Prediction]:
    """Each job the plan serves, as the plan has it."""
    predictions = {}
    for truck_id, job_ids in result.queues.items():
        for position, job_id in enumerate(job_ids):
            at_s = now_s + result.arrivals_s[job_id]
            status = promise_status(at_s, board.jobs[job_id].deadline_s, board.rules)
            predictions[job_id] = Prediction(truck_id, position, at_s, status)
    return predictions


def plan_changes(
    before: Mapping[str, Prediction], after: Mapping[str, Prediction]
) -> list[dict[str, Any]]:
    """The jobs whose truck, place, arrival or status the plan changes (a job the plan
    leaves unserved keeps its truck: no change), in job order."""
    changes = []
    for job_id in sorted(before):
        old, new = before[job_id], after.get(job_id, before[job_id])
        if not old.differs(new):
            continue
        changes.append(
            {
                "job_id": job_id,
                "truck_before": old.truck_id,
                "truck_after": new.truck_id,
                "eta_before_s": _rounded(old.eta_at_s),
                "eta_after_s": _rounded(new.eta_at_s),
                "status_before": old.status,
                "status_after": new.status,
            }
        )
    return changes


def _rounded(at_s: float | None) -> float | None:
    return None if at_s is None else round(at_s, 1)


def undo_payload(board: DispatchBoard, applied: AppliedReplan) -> dict[str, Any]:
    """The ``replan_undo`` event's payload: ``queues``, each truck's waiting jobs as before
    the re-plan (those still waiting on it, or moved away by the re-plan), and ``release``,
    the jobs the re-plan dispatched that were waiting for a truck before."""
    queued_before = {j for queue in applied.before.values() for j in queue}
    queues = {
        truck_id: [
            j
            for j in job_ids
            if board.jobs[j].state == JobState.ASSIGNED
            and (j in applied.moved_versions or board.jobs[j].truck_id == truck_id)
        ]
        for truck_id, job_ids in applied.before.items()
        if truck_id in board.trucks
    }
    release = [j for j in applied.moved_versions if j not in queued_before]
    return {"queues": queues, "release": release}
