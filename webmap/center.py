"""The dispatch center: the single owner of the live state.

It wraps :class:`optimizer.dispatch.board.DispatchBoard`, which makes every decision
(intake, triage, quote, proposal, assignment, state machine), and adds what a room of
dispatchers needs around it:

- a lock, so commands from many threads apply one at a time;
- a version per job: a command that changes a job carries the version its sender saw,
  and a stale one is refused saying who changed the job and how (two dispatchers drag the
  same job: the first wins, the second is told); a dispatch confirmed with what the
  dispatcher was shown (the truck's predicted arrival and promise status) is checked against
  a fresh prediction first, and refused with the fresh proposal if it went stale;
- the store: every accepted command is appended before it is acknowledged, and on start
  the events are replayed through the board, so a restart loses nothing;
- publishing: every change is handed to the subscribers (the app broadcasts it), with the
  trucks' drives (:mod:`optimizer.dispatch.legs`) and the promise watch
  (:mod:`optimizer.dispatch.promise`) kept up to date.

It never computes a route or a fee itself; what clients read is in :mod:`webmap.views`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geo.coords import check_crs
from geo.errors import InputError
from geo.places import Geo
from optimizer.dispatch.board import DispatchBoard, StaleProposalError
from optimizer.dispatch.cancel import check_cancel
from optimizer.dispatch.duplicates import duplicate_warnings
from optimizer.dispatch.fleet_file import load_board
from optimizer.dispatch.intake import parse_lonlat
from optimizer.dispatch.legs import Drive, DriveBook
from optimizer.dispatch.model import JobState, LonLat
from optimizer.dispatch.promise import PromiseWatch
from optimizer.dispatch.replan import ReplanResult, apply_replan, replan
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from records.jobs import JobRow, job_row
from records.rules import load_record_rules
from records.store import EventStore, InTransaction, encode_payload
from webmap.clock import Clock, SimClock
from webmap.job_ids import JobNumbers
from webmap.member_intake import member_step
from webmap.payloads import check_payload
from webmap.positions import positions_batch
from webmap.replan_preview import (
    PREVIEW_TTL_S,
    AppliedReplan,
    Preview,
    PreviewBook,
    new_plan_id,
    plan_changes,
    planned_predictions,
    predictions_now,
    truck_marks,
    undo_payload,
    waiting_queues,
)
from webmap.serialize import job_json, jsonable, proposal_json
from webmap.views import alert_view, job_view, snapshot_view, truck_view

log = logging.getLogger(__name__)

Publish = Callable[[str, dict[str, Any]], None]
Message = tuple[str, dict[str, Any]]
FINAL_STATES = frozenset({JobState.CLOSED, JobState.CANCELLED})


class StoreError(RuntimeError):
    """The store refused a command; the live state was rebuilt from the store."""


class RefusalError(InputError):
    """A refusal with more for the client than the field and value: ``details`` (JSON),
    e.g. the fresh proposal of a stale dispatch. ``reason`` and ``params`` as for
    :class:`InputError` (a catalogue text, marked with ``N_``)."""

    def __init__(
        self, field: str, value: Any, reason: str, /, *, details: dict[str, Any], **params: Any
    ) -> None:
        super().__init__(field, value, reason, **params)
        self.details = details


def _plan_scores(result: ReplanResult) -> dict[str, Any]:
    """What every re-plan answer tells of its plan."""
    return {
        "unassigned": result.unassigned,
        "broken_promises": result.broken_promises,
        "broken_promises_before": result.board_score.broken_promises,
        "fallback": result.solution["summary"].get("fallback"),
        "solve_s": round(result.total_s, 3),
    }


REPLAN_TIME_LIMIT_S = 1.5  # benchmarks/replan.py: 100 calls, 50 trucks within 2 s in all
MAX_REPLAN_TIME_LIMIT_S = 30.0


@dataclass
class _Touched:
    jobs: list[str] = field(default_factory=list)
    trucks: list[str] = field(default_factory=list)


class DispatchCenter:
    """Live state of the dispatch room; see the module docstring.

    Build it with :meth:`open` (board from the fleet file, then the store's events
    replayed). Commands raise :class:`geo.errors.InputError` naming the field and value,
    with the state unchanged.
    """

    def __init__(
        self,
        board: DispatchBoard,
        store: EventStore,
        *,
        clock: Clock,
        board_factory: Callable[[float], DispatchBoard] | None = None,
    ) -> None:
        self.board = board
        self.store = store
        self.clock = clock
        self.lock = threading.RLock()
        self._board_factory = board_factory
        self._subscribers: list[Publish] = []
        self.versions: dict[str, int] = {}
        """Each job's version; read under the lock."""
        self._last_change: dict[str, tuple[str, str]] = {}
        self._active: set[str] = set()
        self.drive_book = DriveBook()
        self.promises = PromiseWatch()
        self._moved: dict[str, LonLat] = {}
        self._last_s = 0.0
        self._job_numbers = JobNumbers()
        self._previews = PreviewBook()
        self._applied_replan: AppliedReplan | None = None
        """The last re-plan applied, while it can be undone."""
        self.replay_report: dict[str, Any] = {"events": 0, "skipped": []}
        self.record_rules = load_record_rules()
        self._approach_m: dict[str, float] = {}
        """Road metres of each job's drive to the scene (its work order's driven km)."""
        self._adopt_board_jobs()

    # ------------------------------------------------------------------ building
    @classmethod
    def open(
        cls,
        *,
        store: EventStore,
        geo: Geo,
        rules: Rules,
        clock: Clock | None = None,
        fleet_path: Path | None = None,
        shops: Shops | None = None,
    ) -> DispatchCenter:
        """The fleet file's trucks and work, then every stored event replayed in order."""
        clock = clock or SimClock(not_before=store.last_at_s())
        shops = shops or Shops.load(geo)

        def factory(now_s: float) -> DispatchBoard:
            return load_board(fleet_path, geo=geo, rules=rules, now_s=now_s, shops=shops)

        center = cls(factory(clock.now()), store, clock=clock, board_factory=factory)
        with center.lock:
            center._replay()
        return center

    def _adopt_board_jobs(self) -> None:
        """Jobs already on the board (a fleet file's work) start at version 1."""
        for job in self.board.jobs.values():
            self.versions.setdefault(job.id, 1)
            self._last_change.setdefault(job.id, ("fleet file", "intake"))
            if job.state not in FINAL_STATES:
                self._active.add(job.id)
            self._job_numbers.seen(job.id)

    def _replay(self) -> None:
        skipped = []
        count = 0
        touched_by: dict[str, int] = {}
        """The last event touching each job (its record must be as of that event)."""
        links: list[tuple[str, int]] = []
        for event in self.store.events():
            count += 1
            try:
                touched = self._apply(event.kind, event.payload, now_s=event.at_s)
            except (ValueError, KeyError, TypeError) as error:
                skipped.append({"seq": event.seq, "kind": event.kind, "error": str(error)})
                log.warning("replay: event %s (%s) skipped: %s", event.seq, event.kind, error)
                continue
            self._record(touched, event.kind, event.user)
            self._remember_replan(event.kind, event.payload, touched)
            self._last_s = max(self._last_s, event.at_s)
            touched_by.update(dict.fromkeys(touched.jobs, event.seq))
            links.extend((job_id, event.seq) for job_id in touched.jobs)
        self._backfill_records(touched_by, links)
        now_s = self._now()
        for truck_id, position in self.store.positions().items():
            if truck_id in self.board.trucks:
                try:
                    self.board.move_truck(truck_id, position, replan=True)
                except InputError as error:
                    log.warning("replay: position of %s ignored: %s", truck_id, error)
        for truck_id in self.board.trucks:
            self._refresh_drive(truck_id, now_s=now_s)
        for job_id in self._active:
            self._recheck(job_id, now_s=now_s)
        self.replay_report = {"events": count, "skipped": skipped}

    def _backfill_records(
        self, touched_by: Mapping[str, int], links: Sequence[tuple[str, int]]
    ) -> None:
        """Write the records of jobs whose events predate them (a database from before the
        records, upgraded): the store keeps what it has, adds what is missing."""
        self.store.link_events(links)
        stale = self.store.stale_jobs(touched_by)
        if stale:
            self.store.backfill_jobs(
                {job_id: touched_by[job_id] for job_id in stale}, self._job_rows(stale)
            )
            log.info("replay: records of %d jobs written from their events", len(stale))

    def _rebuild(self) -> None:
        """Throw the live state away and rebuild it from the store (after a failure)."""
        if self._board_factory is None:
            raise StoreError("cannot rebuild: the center was built without a board factory")
        self.board = self._board_factory(self._now())
        self.versions.clear()
        self._last_change.clear()
        self._active.clear()
        self.drive_book.clear()
        self.promises.clear()
        self._previews.clear()
        self._applied_replan = None
        self._adopt_board_jobs()
        self._replay()

    # ------------------------------------------------------------------ publishing
    def subscribe(self, publish: Publish) -> None:
        self._subscribers.append(publish)

    def _send(self, messages: Iterable[Message]) -> None:
        for event, payload in messages:
            for publish in self._subscribers:
                try:
                    publish(event, payload)
                except Exception:
                    log.exception("publishing %s failed", event)

    # ------------------------------------------------------------------ clock
    def _now(self) -> float:
        """The clock, never behind a command already applied."""
        self._last_s = max(self._last_s, self.clock.now())
        return self._last_s

    def now(self) -> float:
        with self.lock:
            return self._now()

    # ------------------------------------------------------------------ queries
    @property
    def rules(self) -> Rules:
        return self.board.rules

    @property
    def geo(self) -> Geo:
        return self.board.geo

    def last_change(self, job_id: str) -> tuple[str, str]:
        """Who made the job's last change, and which command it was."""
        with self.lock:
            self.board.job(job_id)
            return self._last_change[job_id]

    def version(self, job_id: str) -> int:
        with self.lock:
            self.board.job(job_id)
            return self.versions[job_id]

    def active_job_ids(self) -> list[str]:
        with self.lock:
            return sorted(self._active)

    def drive(self, truck_id: str) -> Drive | None:
        with self.lock:
            return self.drive_book.get(truck_id)

    def drives(self) -> dict[str, Drive]:
        with self.lock:
            return self.drive_book.all()

    def job_json(self, job_id: str) -> dict[str, Any]:
        with self.lock:
            return job_view(self, job_id)

    def truck_json(self, truck_id: str) -> dict[str, Any]:
        with self.lock:
            return truck_view(self, truck_id)

    def snapshot(self) -> dict[str, Any]:
        """The whole live state, as sent on connect and on ``sync``."""
        with self.lock:
            return snapshot_view(self, now_s=self._now())

    def propose(self, job_id: str) -> dict[str, Any]:
        """The ranked trucks for a received job (a query: nothing is stored)."""
        with self.lock:
            job = self.board.job(job_id)
            if job.state != JobState.RECEIVED:
                raise InputError(
                    "job_id",
                    job_id,
                    "is {state}: only a received job gets a proposal (drag it to move it)",
                    state=job.state.value,
                )
            now_s = self._now()
            return proposal_json(self.board.propose(job_id, now_s=now_s), now_s=now_s)

    # ------------------------------------------------------------------ commands
    def intake(self, data: Any, *, user: str) -> dict[str, Any]:
        """Register a call; answers the job (triage, quote), the proposal and ``warnings``:
        the calls it may repeat (:func:`optimizer.dispatch.duplicates.duplicate_warnings`).

        A member's card is checked against the register, and a caller joining now
        (``join_now``) is enrolled in the intake's transaction, priced as a member
        (:mod:`webmap.member_intake`; the answer's ``enrolment`` has the receipt)."""
        # Whole-payload check first (the center's clock stamps the call: a client cannot
        # send created_at and backdate the promise).
        call = check_payload("intake", data)
        with self.lock:
            job_id = self._job_numbers.peek()
            # The member register (live path only: a replayed intake is not checked again).
            step = member_step(
                self.store,
                call,
                job_id=job_id,
                now_s=self._now(),
                user=user,
                rules=self.rules.intake,
                record_rules=self.record_rules,
            )
            messages = self._commit("intake", step.event_payload(job_id), user=user, also=step.also)
            now_s = self._now()
            proposal = proposal_json(self.board.propose(job_id, now_s=now_s), now_s=now_s)
            warnings = duplicate_warnings(
                self.board.jobs[job_id],
                self.board.jobs.values(),
                now_s=now_s,
                window_s=self.rules.intake.duplicate_window_s,
            )
            answer: dict[str, Any] = {
                "job": job_view(self, job_id),
                "proposal": proposal,
                "warnings": [*warnings, *step.warnings],
            }
            if step.enrolment is not None:
                answer["enrolment"] = step.answer()
        self._send(messages)
        return answer

    def dispatch(
        self,
        job_id: Any,
        truck_id: Any,
        *,
        user: str,
        version: Any = None,
        eta_at_s: Any = None,
        eta_s: Any = None,
        status: Any = None,
    ) -> dict[str, Any]:
        """Confirm a received job on a truck.

        With what the dispatcher was shown for that truck (``eta_at_s``, the predicted
        arrival, or ``eta_s``, and the promise ``status``), the truck's arrival is predicted
        again first: if it got worse (see ``DispatchBoard.check_proposal``) the dispatch is
        refused with the fresh proposal (``details["proposal"]``) to confirm again. Without
        them (the simulation, the command line, a drag) the truck is taken as it is.
        """

        def check(now_s: float) -> None:
            try:
                self.board.check_proposal(
                    job_id, truck_id, now_s=now_s, eta_at_s=eta_at_s, eta_s=eta_s, status=status
                )
            except StaleProposalError as stale:
                fresh = proposal_json(stale.proposal, now_s=stale.now_s)
                raise RefusalError(
                    stale.field,
                    stale.value,
                    stale.reason_id,
                    details={"job_id": job_id, "truck_id": truck_id, "proposal": fresh},
                    **stale.params,
                ) from stale

        return self._job_command(
            "dispatch",
            job_id,
            version,
            required=False,
            user=user,
            payload={"job_id": job_id, "truck_id": truck_id},
            check=check,
        )

    def reassign(self, job_id: Any, truck_id: Any, *, user: str, version: Any) -> dict[str, Any]:
        """A dispatcher's drag: move a job not yet on scene to another truck."""
        return self._job_command(
            "reassign",
            job_id,
            version,
            required=True,
            user=user,
            payload={"job_id": job_id, "truck_id": truck_id},
        )

    def advance(self, job_id: Any, state: Any, *, user: str, version: Any) -> dict[str, Any]:
        """Move a job on through the state machine of SERVICE_RULES §7 (to cancel it, use
        :meth:`cancel`, which says why)."""
        if state == JobState.CANCELLED:
            raise InputError(
                "state", state, "cancel a job with the cancel command, giving a reason"
            )
        return self._job_command(
            "advance",
            job_id,
            version,
            required=True,
            user=user,
            payload={"job_id": job_id, "state": state},
        )

    def cancel(
        self, job_id: Any, reason: Any, *, user: str, version: Any, note: Any = None
    ) -> dict[str, Any]:
        """Cancel a job with a reason (and a note, required for ``other``): see
        :func:`optimizer.dispatch.cancel.check_cancel`. Both are stored with the event."""
        reason, note = check_cancel(reason, note)
        return self._job_command(
            "cancel",
            job_id,
            version,
            required=True,
            user=user,
            payload={"job_id": job_id, "reason": reason, "note": note},
        )

    def convert_to_tow(
        self,
        job_id: Any,
        *,
        user: str,
        destination: Any = None,
        destination_name: Any = "",
        crs: Any = "wgs84",
        version: Any = None,
    ) -> dict[str, Any]:
        """On scene the car can't be fixed: tow it (destination optional: nearest shop)."""
        if not isinstance(destination_name, str):
            raise InputError("destination_name", destination_name, "must be text")
        if destination is not None:
            destination = list(parse_lonlat(destination, field="destination", crs=check_crs(crs)))
        return self._job_command(
            "convert_to_tow",
            job_id,
            version,
            required=False,
            user=user,
            payload={
                "job_id": job_id,
                "destination": destination,
                "destination_name": destination_name,
            },
        )

    def replan(
        self, *, user: str, time_limit_s: Any = REPLAN_TIME_LIMIT_S, preview: Any = False
    ) -> dict[str, Any]:
        """Re-plan all open work jointly (OR-Tools).

        Without ``preview`` the plan is applied if it beats the board's (else nothing
        changes and nothing is stored: ``improved`` is false). With it nothing is applied:
        the answer lists the changes the plan would make (:mod:`webmap.replan_preview`) and
        its ``plan_id``, to apply it (:meth:`replan_apply`) or drop it (:meth:`replan_discard`).

        The solver runs under the lock, so nothing changes while it plans; what is stored
        and replayed is the resulting queue of every truck (and each truck's waiting jobs
        before it, for :meth:`replan_undo`), not the solver run.
        """
        if (
            isinstance(time_limit_s, bool)
            or not isinstance(time_limit_s, int | float)
            or not (0 < time_limit_s <= MAX_REPLAN_TIME_LIMIT_S)
        ):
            raise InputError(
                "time_limit_s",
                time_limit_s,
                "must be a number of seconds in (0, {max_s:g}]",
                max_s=MAX_REPLAN_TIME_LIMIT_S,
            )
        if not isinstance(preview, bool):
            raise InputError("preview", preview, "must be true or false")
        with self.lock:
            now_s = self._now()
            result = replan(self.board, now_s=now_s, time_limit_s=float(time_limit_s))
            if preview:
                return self._preview(result, user=user, now_s=now_s)
            messages, answer = self._apply_plan(result, user=user)
        self._send(messages)
        return answer

    def _preview(self, result: ReplanResult, *, user: str, now_s: float) -> dict[str, Any]:
        before = predictions_now(self.board, now_s=now_s)
        after = planned_predictions(self.board, result, now_s=now_s)
        plan = Preview(
            plan_id=new_plan_id(),
            user=user,
            made_at_s=now_s,
            result=result,
            job_versions={job_id: self.versions[job_id] for job_id in before},
            trucks=truck_marks(self.board),
        )
        self._previews.add(plan)
        return {
            "plan_id": plan.plan_id,
            "improved": result.improved,
            "changes": plan_changes(before, after) if result.improved else [],
            **_plan_scores(result),
        }

    def _apply_plan(
        self, result: ReplanResult, *, user: str
    ) -> tuple[list[Message], dict[str, Any]]:
        """Apply a re-plan that improves on the board (stored with each truck's waiting jobs
        before it); the messages to send and the answer. The caller holds the lock."""
        before = {job_id: job.truck_id for job_id, job in self.board.jobs.items()}
        messages: list[Message] = []
        if result.improved:
            payload = {"queues": result.queues, "before": waiting_queues(self.board)}
            messages = self._commit("replan", payload, user=user)
        moved = sorted(j for j, job in self.board.jobs.items() if job.truck_id != before.get(j))
        return messages, {"improved": result.improved, "moved": moved, **_plan_scores(result)}

    def replan_apply(self, plan_id: Any, *, user: str) -> dict[str, Any]:
        """Apply ``user``'s previewed re-plan if none of the jobs it may move and none of the
        trucks changed since the preview; else refuse (preview again). The answer is
        :meth:`replan`'s, with ``undo``: whether :meth:`replan_undo` can take it back."""
        with self.lock:
            plan = (
                self._previews.take(user, plan_id, now_s=self._now())
                if isinstance(plan_id, str)
                else None
            )
            if plan is None:
                raise InputError(
                    "plan_id",
                    plan_id,
                    "no such preview: it was applied, discarded or is over {minutes} "
                    "minutes old; preview the re-plan again",
                    minutes=round(PREVIEW_TTL_S / 60),
                )
            self._check_unchanged_since(plan)
            messages, answer = self._apply_plan(plan.result, user=user)
            answer["undo"] = plan.result.improved
        self._send(messages)
        return answer

    def _check_unchanged_since(self, plan: Preview) -> None:
        for job_id, version in plan.job_versions.items():
            if self.versions[job_id] != version:
                who, what = self._last_change[job_id]
                raise InputError(
                    "plan_id",
                    plan.plan_id,
                    "the board changed since the preview (job {job}: {what} by {who}): "
                    "preview the re-plan again",
                    job=job_id,
                    what=what,
                    who=who,
                )
        now = truck_marks(self.board)
        for truck_id, mark in plan.trucks.items():
            if now.get(truck_id) != mark:
                raise InputError(
                    "plan_id",
                    plan.plan_id,
                    "the board changed since the preview (truck {truck}): "
                    "preview the re-plan again",
                    truck=truck_id,
                )

    def replan_discard(self, plan_id: Any, *, user: str) -> dict[str, Any]:
        """Drop ``user``'s preview; ``discarded`` is false if it was gone already."""
        with self.lock:
            return {"discarded": isinstance(plan_id, str) and self._previews.discard(user, plan_id)}

    def replan_undo(self, *, user: str) -> dict[str, Any]:
        """Put the trucks' queues back as they were before the last re-plan applied, while
        no command since changed a job it moved (else refuse naming the job); the jobs it
        dispatched go back to waiting for a truck. Stored as an event (replayed)."""
        with self.lock:
            applied = self._applied_replan
            if applied is None:
                raise InputError(
                    "replan", None, "no re-plan to undo: none was applied since the last undo"
                )
            for job_id, version in applied.moved_versions.items():
                if self.versions[job_id] != version:
                    who, what = self._last_change[job_id]
                    raise InputError(
                        "job_id",
                        job_id,
                        "job {job} changed since the re-plan ({what} by {who}): the re-plan "
                        "can no longer be undone",
                        job=job_id,
                        what=what,
                        who=who,
                    )
            payload = undo_payload(self.board, applied)
            for truck_id, job_ids in payload["queues"].items():
                truck = self.board.trucks[truck_id]
                for job_id in job_ids:
                    kind = self.board.jobs[job_id].required_kind
                    if not truck.can_do(kind, flatbed_can_service=self.rules.flatbed_can_service):
                        raise InputError(
                            "truck_id",
                            truck_id,
                            "truck {truck} can no longer take job {job}: the re-plan can no "
                            "longer be undone",
                            truck=truck_id,
                            job=job_id,
                        )
            before = {job_id: job.truck_id for job_id, job in self.board.jobs.items()}
            messages = self._commit("replan_undo", payload, user=user)
            moved = sorted(j for j, job in self.board.jobs.items() if job.truck_id != before.get(j))
            answer = {"moved": moved, "released": payload["release"]}
        self._send(messages)
        return answer

    def _remember_replan(self, kind: str, payload: Mapping[str, Any], touched: _Touched) -> None:
        """After a re-plan is applied (live or replayed): what :meth:`replan_undo` needs."""
        if kind == "replan":
            before = payload.get("before")  # absent in events stored before undo existed
            self._applied_replan = (
                None
                if before is None
                else AppliedReplan(
                    before={truck_id: list(queue) for truck_id, queue in before.items()},
                    moved_versions={job_id: self.versions[job_id] for job_id in touched.jobs},
                )
            )
        elif kind == "replan_undo":
            self._applied_replan = None

    def set_duty(self, truck_id: Any, on_duty: Any, *, user: str) -> dict[str, Any]:
        if not isinstance(on_duty, bool):
            raise InputError("on_duty", on_duty, "must be true or false")
        with self.lock:
            self.board.truck(truck_id)
            messages = self._commit(
                "truck_duty", {"truck_id": truck_id, "on_duty": on_duty}, user=user
            )
            answer = {"truck": truck_view(self, truck_id)}
        self._send(messages)
        return answer

    def _job_command(
        self,
        kind: str,
        job_id: Any,
        version: Any,
        *,
        required: bool,
        user: str,
        payload: dict[str, Any],
        check: Callable[[float], None] | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            self.board.job(job_id)
            self._check_version(job_id, version, required=required)
            if check is not None:
                check(self._now())
            messages = self._commit(kind, payload, user=user)
            answer = {"job": job_view(self, job_id)}
        self._send(messages)
        return answer

    def _check_version(self, job_id: str, version: Any, *, required: bool) -> None:
        if version is None:
            if required:
                raise InputError("version", None, "is required: the job version you saw")
            return
        if not isinstance(version, int) or isinstance(version, bool):
            raise InputError("version", version, "must be an integer")
        current = self.versions[job_id]
        if version != current:
            who, what = self._last_change[job_id]
            raise InputError(
                "version",
                version,
                "job {job} is at version {current}: it was changed ({what} by {who}) "
                "since you saw it; look again and retry",
                job=job_id,
                current=current,
                what=what,
                who=who,
            )

    def _commit(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        user: str,
        also: Sequence[InTransaction] = (),
    ) -> list[Message]:
        """Apply through the board, store (with the touched jobs' records and ``also``, in
        one transaction), then record; the caller holds the lock."""
        try:
            stored = encode_payload(payload)
        except ValueError as error:
            raise InputError("payload", str(error), "cannot be stored: nothing changed") from None
        now_s = self._now()
        try:
            touched = self._apply(kind, payload, now_s=now_s)
        except InputError:
            raise
        except Exception:
            log.exception("%s failed unexpectedly; rebuilding the live state", kind)
            self._rebuild()
            raise
        try:
            self.store.append(
                kind, stored, at_s=now_s, user=user, jobs=self._job_rows(touched.jobs), also=also
            )
        except Exception as error:
            log.exception("storing %s failed; rebuilding the live state from the store", kind)
            self._rebuild()
            raise StoreError(f"the command was not stored ({error}); nothing changed") from error
        self._record(touched, kind, user)
        self._remember_replan(kind, payload, touched)
        return self._after(touched, now_s=now_s)

    def _refresh_drive(self, truck_id: str, *, now_s: float) -> None:
        """The truck's current drive; a drive to a scene is the job's road km driven."""
        self.drive_book.refresh(self.board, truck_id, now_s=now_s)
        drive = self.drive_book.get(truck_id)
        if drive is not None and drive.purpose == "to_scene" and drive.depart_s is not None:
            self._approach_m[drive.job_id] = drive.route.length_m

    def _job_rows(self, job_ids: Iterable[str]) -> list[JobRow]:
        """The records of ``job_ids`` as they are now (written with the event)."""
        rows = []
        for job_id in job_ids:
            job = self.board.jobs[job_id]
            rows.append(
                job_row(
                    job,
                    truck=self.board.trucks.get(job.truck_id or ""),
                    detail=job_json(
                        job,
                        version=self.versions.get(job_id, 0) + 1,
                        promise=None,
                        rules=self.rules,
                    ),
                    followup_due_after_s=self.record_rules.followup_due_s,
                    driven_m=self._approach_m.get(job_id),
                )
            )
        return rows

    # ------------------------------------------------------------------ applying
    def _apply(self, kind: str, payload: Mapping[str, Any], *, now_s: float) -> _Touched:
        """One command through the board (live and in replay: the same code path)."""
        board = self.board
        if kind == "intake":
            job = board.register_call(payload["data"], now_s=now_s, job_id=payload["job_id"])
            return _Touched(jobs=[job.id])
        if kind == "truck_duty":
            board.set_on_duty(payload["truck_id"], payload["on_duty"])
            return _Touched(trucks=[payload["truck_id"]])
        if kind == "replan":
            queues = payload["queues"]
            moved = apply_replan(board, queues, now_s=now_s)
            return _Touched(jobs=moved, trucks=list(queues))
        if kind == "replan_undo":
            released = payload["release"]
            left = [board.job(job_id).truck_id for job_id in released]
            for job_id in released:
                board.advance(job_id, JobState.RECEIVED, now_s=now_s)
            moved = apply_replan(board, payload["queues"], now_s=now_s)
            left_trucks = [t for t in left if t is not None]
            return _Touched(
                jobs=list(dict.fromkeys([*released, *moved])),
                trucks=list(dict.fromkeys([*payload["queues"], *left_trucks])),
            )
        job = board.job(payload["job_id"])
        before = job.truck_id
        if kind == "dispatch":
            board.assign(job.id, payload["truck_id"], now_s=now_s)
        elif kind == "reassign":
            board.reassign(job.id, payload["truck_id"], now_s=now_s)
        elif kind == "advance":
            board.advance(job.id, payload["state"], now_s=now_s)
        elif kind == "cancel":
            board.cancel(job.id, payload["reason"], payload.get("note"), now_s=now_s)
        elif kind == "convert_to_tow":
            destination = payload.get("destination")
            board.convert_to_tow(
                job.id,
                now_s=now_s,
                destination=None if destination is None else tuple(destination),
                destination_name=payload.get("destination_name") or "",
            )
        else:
            raise InputError("kind", kind, "unknown command")
        trucks = [t for t in dict.fromkeys((before, job.truck_id)) if t is not None]
        return _Touched(jobs=[job.id], trucks=trucks)

    def _record(self, touched: _Touched, kind: str, user: str) -> None:
        for job_id in touched.jobs:
            self.versions[job_id] = self.versions.get(job_id, 0) + 1
            self._last_change[job_id] = (user, kind)
            self._job_numbers.seen(job_id)
            if self.board.jobs[job_id].state in FINAL_STATES:
                self._active.discard(job_id)
                self.promises.drop(job_id)
            else:
                self._active.add(job_id)

    def _after(self, touched: _Touched, *, now_s: float) -> list[Message]:
        """Legs, promises and the messages of an applied command (it stands regardless)."""
        alerts: list[Message] = []
        try:
            for truck_id in touched.trucks:
                self._refresh_drive(truck_id, now_s=now_s)
            for job_id in touched.jobs:
                if job_id in self._active:
                    alerts.extend(self._recheck(job_id, now_s=now_s, job_update=False))
        except Exception:
            log.exception("refreshing legs and promises after a command failed")
        return [
            *[("job_updated", job_view(self, job_id)) for job_id in touched.jobs],
            *[("truck_updated", truck_view(self, truck_id)) for truck_id in touched.trucks],
            *alerts,
        ]

    # ------------------------------------------------------------------ promises
    def _recheck(self, job_id: str, *, now_s: float, job_update: bool = True) -> list[Message]:
        change = self.promises.recheck(self.board, self.board.jobs[job_id], now_s=now_s)
        if change is None:
            return []
        messages: list[Message] = []
        if job_update:
            messages.append(("job_updated", job_view(self, job_id)))
        if change.alert:
            messages.append(("promise_alert", alert_view(self, job_id, now_s=now_s)))
        return messages

    def watch_promises(self) -> None:
        """Re-check every open job not yet reached; publish what changed."""
        with self.lock:
            now_s = self._now()
            messages: list[Message] = []
            for job_id in sorted(self._active):
                messages.extend(self._recheck(job_id, now_s=now_s))
        self._send(messages)

    # ------------------------------------------------------------------ telemetry
    def move_trucks(
        self, positions: Mapping[str, Any], *, received_at: float | None = None
    ) -> dict[str, Any]:
        """GPS positions of trucks (one batch, at most once a second per truck).

        Telemetry, not a command: bad positions are skipped and reported, the rest
        applied, and one ``truck_positions`` batch is published
        (:func:`webmap.positions.positions_batch`: ids, integer coordinates). ``received_at`` (wall
        clock, epoch s) is when the batch reached the server; it travels with the batch
        so clients can measure the delay from the GPS batch to their screen.
        """
        received_at = time.time() if received_at is None else received_at
        with self.lock:
            moved, errors = self.board.move_trucks(positions)
            trucks = self.board.trucks
            lonlats = [trucks[truck_id].position for truck_id in moved]
            self._moved.update(zip(moved, lonlats, strict=True))
            now_s = self._now()
        rejected = [{"field": e.field, "value": jsonable(e.value), "error": str(e)} for e in errors]
        if moved:
            batch = positions_batch(
                moved, lonlats, now_s=now_s, received_at=received_at, sent_at=time.time()
            )
            self._send([("truck_positions", batch)])
        return {"moved": len(moved), "rejected": rejected}

    def flush_positions(self) -> int:
        """Write the positions moved since the last flush to the store."""
        with self.lock:
            moved, self._moved = self._moved, {}
            now_s = self._now()
        self.store.save_positions(moved, at_s=now_s)
        return len(moved)
