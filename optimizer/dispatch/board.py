"""The dispatch board: trucks, jobs and every operation on them, in one place.

The web server, the simulator, the command line and the benchmarks all go through this
class, so what is measured is what runs. It holds no I/O: persistence, versioning and
broadcasting belong to ``webmap.center``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from geo.errors import InputError
from geo.i18n import N_, both
from geo.places import Geo
from geo.router import Snap
from optimizer.dispatch.assign import (
    FREE_FLOW_BAND,
    FleetView,
    Proposal,
    Reason,
    promise_status,
    rank_trucks,
)
from optimizer.dispatch.cancel import check_cancel, history_note
from optimizer.dispatch.clock import beijing_time
from optimizer.dispatch.intake import parse_intake, parse_lonlat
from optimizer.dispatch.model import (
    ON_TRUCK_STATES,
    Job,
    JobState,
    LonLat,
    Truck,
    TruckState,
)
from optimizer.dispatch.pricing import price_call, quote_call
from optimizer.dispatch.rules import TRUCK_KINDS, Rules
from optimizer.dispatch.shops import Shops, choose_tow_destination
from optimizer.dispatch.words import word
from optimizer.dispatch.workload import TruckPlan, plan_truck

# Truck state while it works on a job in a given state.
_TRUCK_STATE_FOR_JOB = {
    JobState.ASSIGNED: TruckState.IDLE,
    JobState.EN_ROUTE: TruckState.EN_ROUTE,
    JobState.ON_SCENE: TruckState.ON_SCENE,
    JobState.TOWING: TruckState.TOWING,
}
CONVERTED_NOTE = "converted to tow"
"""How :meth:`optimizer.dispatch.model.Job.convert_to_tow` notes a job sent back for a flatbed."""
PROMISE_STATUSES = ("on_time", "at_risk", "late")


class StaleProposalError(InputError):
    """A confirmed dispatch refused because the chosen truck's arrival is no longer what
    the dispatcher was shown; ``proposal`` is the fresh one (made at ``now_s``)."""

    def __init__(
        self,
        field: str,
        value: Any,
        reason: str,
        /,
        *,
        proposal: Proposal,
        now_s: float,
        **params: Any,
    ) -> None:
        super().__init__(field, value, reason, **params)
        self.proposal = proposal
        self.now_s = now_s


class DispatchBoard:
    """Live dispatch state with its rules; every method validates before it changes anything."""

    def __init__(
        self,
        geo: Geo,
        rules: Rules,
        shops: Shops,
        trucks: Iterable[Truck],
    ) -> None:
        self.geo = geo
        self.rules = rules
        self.shops = shops
        self.trucks: dict[str, Truck] = {}
        self.jobs: dict[str, Job] = {}
        self._truck_snaps: dict[str, Snap] = {}
        self._plans: dict[str, TruckPlan] = {}
        self._view: FleetView | None = None
        self._stale: set[str] = set()
        for truck in trucks:
            self.add_truck(truck)

    # ------------------------------------------------------------------ lookups
    def band_at(self, now_s: float) -> str:
        return self.geo.band_at(beijing_time(now_s))

    def truck(self, truck_id: Any) -> Truck:
        if not isinstance(truck_id, str) or truck_id not in self.trucks:
            raise InputError("truck_id", truck_id, "no such truck")
        return self.trucks[truck_id]

    def job(self, job_id: Any) -> Job:
        if not isinstance(job_id, str) or job_id not in self.jobs:
            raise InputError("job_id", job_id, "no such job")
        return self.jobs[job_id]

    def truck_snap(self, truck_id: str) -> Snap:
        return self._truck_snaps[truck_id]

    def plan(self, truck_id: str, *, now_s: float, band: str | None = None) -> TruckPlan:
        """The truck's remaining work (cached until its work changes); ``band``: the band
        at ``now_s`` when the caller knows it."""
        plan = self._plans.get(truck_id)
        if plan is None:
            truck = self.trucks[truck_id]
            plan = plan_truck(
                truck,
                self._truck_snaps[truck_id],
                self.jobs,
                now_s=now_s,
                band=band or self.band_at(now_s),
                rules=self.rules,
                geo=self.geo,
            )
            self._plans[truck_id] = plan
        return plan

    def view(self, *, now_s: float) -> FleetView:
        """On-duty trucks as arrays for :func:`optimizer.dispatch.assign.rank_trucks`.

        Kept between calls: the trucks whose work changed since, or whose position did
        while idle, are refreshed in place; a truck coming on or off duty rebuilds it."""
        band = self.band_at(now_s)
        if self._view is None:
            on_duty = [t.id for t in self.trucks.values() if t.state != TruckState.OFF_DUTY]
            rows = [
                (truck_id, self.trucks[truck_id].kind, *self._free(truck_id, now_s, band))
                for truck_id in on_duty
            ]
            self._view = FleetView.build(rows)
        elif self._stale:
            stale = [t for t in self._stale if t in self._view.row_of]
            free = [self._free(truck_id, now_s, band) for truck_id in stale]
            self._view.refresh(stale, [f[0] for f in free], [f[1] for f in free])
        self._stale.clear()
        return self._view

    def _free(self, truck_id: str, now_s: float, band: str) -> tuple[float, Snap]:
        """When and where the truck is free of its work (back on the road)."""
        if not self.trucks[truck_id].queue:  # idle: here and now (what plan_truck says)
            return now_s, self._truck_snaps[truck_id]
        plan = self.plan(truck_id, now_s=now_s, band=band)
        return plan.free_at_s + plan.leaving_s, plan.free_snap

    def _changed(self, *truck_ids: str | None) -> None:
        """The trucks' work (or, idle, their place) changed: plans and view rows go stale."""
        for truck_id in truck_ids:
            if truck_id is not None:
                self._plans.pop(truck_id, None)
                self._stale.add(truck_id)

    def _fleet_changed(self) -> None:
        """A truck joined, or came on or off duty: the view is built anew."""
        self._view = None

    # ------------------------------------------------------------------ trucks
    def add_truck(self, truck: Truck) -> None:
        if truck.id in self.trucks:
            raise InputError("truck.id", truck.id, "already exists")
        if truck.kind not in TRUCK_KINDS:
            raise InputError(
                "truck.kind", truck.kind, "one of {names}", names=", ".join(TRUCK_KINDS)
            )
        self._truck_snaps[truck.id] = self.geo.router.snap(
            *truck.position, field=f"truck {truck.id} position"
        )
        self.trucks[truck.id] = truck
        self._changed(truck.id)
        self._fleet_changed()

    def move_truck(self, truck_id: str, position: LonLat, *, replan: bool = False) -> None:
        """One truck's position (see :meth:`move_trucks`); ``replan`` also re-plans a busy
        truck from there. Raises :class:`InputError` for a bad position."""
        _, errors = self.move_trucks({truck_id: position})
        if errors:
            raise errors[0]
        if replan:
            self._changed(truck_id)

    def move_trucks(self, positions: Mapping[str, Any]) -> tuple[list[str], list[InputError]]:
        """A batch of GPS positions, snapped together; returns the trucks moved and the
        errors of the positions refused (unknown truck, bad or off-network place).

        An idle truck's plan follows its position; a busy truck moves on its plan.
        """
        errors: list[InputError] = []
        known = []
        for truck_id, position in positions.items():
            if (
                truck_id in self.trucks
                and isinstance(position, list | tuple)
                and len(position) == 2
            ):
                known.append((truck_id, position))
            elif truck_id not in self.trucks:
                errors.append(InputError("truck_id", truck_id, "no such truck"))
            else:
                errors.append(InputError("position", position, "expected [lon, lat]"))
        results = self.geo.router.try_snap_many(
            [p[0] for _, p in known], [p[1] for _, p in known], field="position"
        )
        moved = []
        for (truck_id, position), (snap, error) in zip(known, results, strict=True):
            if snap is None:
                assert error is not None
                errors.append(error)
                continue
            truck = self.trucks[truck_id]
            truck.position = (float(position[0]), float(position[1]))
            self._truck_snaps[truck_id] = snap
            if not truck.queue:
                self._changed(truck_id)
            moved.append(truck_id)
        return moved, errors

    def set_on_duty(self, truck_id: str, on_duty: bool) -> None:
        truck = self.truck(truck_id)
        if not on_duty and truck.queue:
            raise InputError(
                "on_duty",
                on_duty,
                "truck {truck} still has work: {jobs}",
                truck=truck_id,
                jobs=", ".join(truck.queue),
            )
        truck.state = TruckState.IDLE if on_duty else TruckState.OFF_DUTY
        self._sync_truck_state(truck)  # back on duty with work: the state of its first job
        self._changed(truck_id)
        self._fleet_changed()

    # ------------------------------------------------------------------ calls
    def register_call(self, data: Any, *, now_s: float, job_id: str) -> Job:
        """Intake (§2) -> placement, triage (§3), tow destination (§4), quote (§5)."""
        if job_id in self.jobs:
            raise InputError("job_id", job_id, "already exists")
        intake = parse_intake(data, self.rules)
        created_s = now_s if intake.created_at_s is None else intake.created_at_s
        priced = price_call(
            intake, geo=self.geo, rules=self.rules, shops=self.shops, band=self.band_at(now_s)
        )
        job = Job(
            id=job_id,
            intake=intake,
            required_kind=priced.required_kind,
            created_at_s=created_s,
            deadline_s=created_s + self.rules.promise_s,
            placement=priced.placement,
        )
        if priced.tow is not None:
            tow = priced.tow
            job.tow_destination, job.tow_destination_name = tow.lonlat, tow.name
            job.destination_snap, job.tow_m = tow.snap, tow.tow_m
        job.quote = priced.quote
        self.jobs[job_id] = job
        return job

    def delays(self, job: Job, *, now_s: float) -> dict[Reason, float]:
        """Seconds the job lost before its truck's part (causes of a late arrival, see
        :func:`optimizer.dispatch.assign.promise_reasons`), from its history:

        - ``not_dispatched``: the time it waited in ``received`` for a truck, in all (the
          wait going on included), once that reaches the rules' ``undispatched_alert_min``;
        - ``converted_to_tow``: the time spent on trucks before a repair on site failed and
          the job went back for a flatbed.
        """
        waited_s = on_truck_s = converted_s = 0.0
        mark_s, waiting = job.created_at_s, True
        for entry in job.history:
            if entry.state == JobState.RECEIVED and not waiting:
                on_truck_s += entry.at_s - mark_s
                mark_s, waiting = entry.at_s, True
                if entry.note.startswith(CONVERTED_NOTE):
                    converted_s, on_truck_s = converted_s + on_truck_s, 0.0
            elif entry.state == JobState.ASSIGNED and waiting:
                waited_s += entry.at_s - mark_s
                mark_s, waiting = entry.at_s, False
        if job.state == JobState.RECEIVED:
            waited_s += max(0.0, now_s - mark_s)
        delays: dict[Reason, float] = {}
        if waited_s >= self.rules.promise.undispatched_alert_s:
            delays["not_dispatched"] = waited_s
        if converted_s > 0:
            delays["converted_to_tow"] = converted_s
        return delays

    def propose(self, job_id: str, *, now_s: float, include: str | None = None) -> Proposal:
        """Rank suitable trucks for an open job (the fast path); ``include`` adds that
        truck to the candidates if it is not among the best."""
        job = self.job(job_id)
        return rank_trucks(
            job.snap,
            job.required_kind,
            deadline_s=job.deadline_s,
            view=self.view(now_s=now_s),
            now_s=now_s,
            band=self.band_at(now_s),
            rules=self.rules,
            geo=self.geo,
            delays=self.delays(job, now_s=now_s),
            include=include,
            estimate_s=self.estimate_s(job, now_s=now_s),
        )

    def estimate_s(self, job: Job, *, now_s: float) -> tuple[float, float]:
        """For a job beyond the road data: the estimated seconds from its road point to the
        place, now and at free flow (0, 0 on the network)."""
        if job.placement is None or not job.placement.estimated:
            return (0.0, 0.0)
        geo = self.geo
        return (
            geo.off_network_s(job.placement, self.band_at(now_s)),
            geo.off_network_s(job.placement, FREE_FLOW_BAND),
        )

    def check_proposal(
        self,
        job_id: Any,
        truck_id: Any,
        *,
        now_s: float,
        eta_at_s: Any = None,
        eta_s: Any = None,
        status: Any = None,
    ) -> None:
        """Before a confirmed dispatch: predict the chosen truck's arrival again and compare
        it with what the dispatcher was shown (``eta_at_s``: the predicted arrival, epoch s;
        or ``eta_s``: seconds from now; ``status``: the promise status shown). Raises
        :class:`StaleProposalError`, with the fresh proposal, when the arrival is later by more
        than ``stale_proposal_margin_s`` or the status changed. Nothing shown: no check.
        """
        seen = {"eta_at_s": eta_at_s, "eta_s": eta_s}
        for name, value in seen.items():
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise InputError(name, value, "must be a number of seconds")
        if status is not None and status not in PROMISE_STATUSES:
            raise InputError("status", status, "one of {names}", names=", ".join(PROMISE_STATUSES))
        job, truck = self.job(job_id), self.truck(truck_id)
        self._check_received(job)
        self._check_can_take(job, truck)
        if eta_at_s is None and eta_s is None and status is None:
            return
        proposal = self.propose(job.id, now_s=now_s, include=truck.id)
        fresh = proposal.candidate(truck.id)
        if fresh is None:
            raise StaleProposalError(
                "truck_id",
                truck.id,
                N_("{truck} can no longer reach job {job}; look at the fresh proposal"),
                proposal=proposal,
                truck=truck.id,
                job=job.id,
                now_s=now_s,
            )
        shown_status, shown_at_s = status, None
        if eta_at_s is not None:
            shown_at_s = float(eta_at_s)
        elif eta_s is not None:
            shown_at_s = now_s + float(eta_s)
        if status is None and shown_at_s is not None:
            status = promise_status(shown_at_s, job.deadline_s, self.rules)
        later_s = None if shown_at_s is None else now_s + fresh.eta_s - shown_at_s
        later = later_s is not None and later_s > self.rules.promise.stale_proposal_margin_s
        changed = status != fresh.status
        if not (later or changed):
            return
        # The field named: the arrival shown if it is stale, else the status shown (or the
        # arrival it was worked out from).
        field, value = ("eta_at_s", eta_at_s) if eta_at_s is not None else ("eta_s", eta_s)
        if not later and shown_status is not None:
            field, value = "status", shown_status
        best = proposal.best
        assert best is not None  # the chosen truck is a candidate
        params = {
            "truck": truck.id,
            "eta_min": math.ceil(fresh.eta_s / 60.0),
            "best": best.truck,
            "best_eta_min": math.ceil(best.eta_s / 60.0),
            "best_status": word(best.status),
        }
        if later_s is not None and later and changed:
            raise StaleProposalError(
                field,
                value,
                N_(
                    "{truck} arrives {later_min} min later than shown and is now {status} "
                    "(shown: {shown}) (ETA now {eta_min} min): the proposal shown was out of "
                    "date; fresh proposal {best}, ETA {best_eta_min} min, {best_status}: "
                    "confirm again"
                ),
                proposal=proposal,
                now_s=now_s,
                later_min=math.ceil(later_s / 60.0),
                status=word(fresh.status),
                shown=word(status),
                **params,
            )
        if later_s is not None and later:
            raise StaleProposalError(
                field,
                value,
                N_(
                    "{truck} arrives {later_min} min later than shown (ETA now {eta_min} min): "
                    "the proposal shown was out of date; fresh proposal {best}, ETA "
                    "{best_eta_min} min, {best_status}: confirm again"
                ),
                proposal=proposal,
                now_s=now_s,
                later_min=math.ceil(later_s / 60.0),
                **params,
            )
        raise StaleProposalError(
            field,
            value,
            N_(
                "{truck} is now {status} (shown: {shown}) (ETA now {eta_min} min): the "
                "proposal shown was out of date; fresh proposal {best}, ETA {best_eta_min} "
                "min, {best_status}: confirm again"
            ),
            proposal=proposal,
            now_s=now_s,
            status=word(fresh.status),
            shown=word(status),
            **params,
        )

    # ------------------------------------------------------------------ work
    def _check_can_take(self, job: Job, truck: Truck) -> None:
        if not truck.can_do(job.required_kind, flatbed_can_service=self.rules.flatbed_can_service):
            if truck.state == TruckState.OFF_DUTY:
                raise InputError("truck_id", truck.id, "is off duty")
            raise InputError(
                "truck_id",
                truck.id,
                "is a {kind} truck and job {job} needs a {needed}",
                kind=word(truck.kind),
                job=job.id,
                needed=word(job.required_kind),
            )

    def _check_received(self, job: Job) -> None:
        if job.state != JobState.RECEIVED:
            if job.truck_id and job.state in ON_TRUCK_STATES:
                raise InputError(
                    "job_id",
                    job.id,
                    "is {state} on {truck}: only a received job can be dispatched "
                    "(drag it to move it)",
                    state=word(job.state),
                    truck=job.truck_id,
                )
            raise InputError(
                "job_id",
                job.id,
                "is {state}: only a received job can be dispatched",
                state=word(job.state),
            )

    def assign(self, job_id: str, truck_id: str, *, now_s: float) -> Job:
        """Give a received job to a truck (appended to its queue)."""
        job, truck = self.job(job_id), self.truck(truck_id)
        self._check_received(job)
        self._check_can_take(job, truck)
        zh, en = both(N_("to {truck}"), truck=truck.id)
        job.transition(JobState.ASSIGNED, at_s=now_s, note=en, note_zh=zh)
        job.truck_id = truck.id
        truck.queue.append(job.id)
        self._changed(truck.id)
        return job

    def reassign(self, job_id: str, truck_id: str, *, now_s: float, pin: bool = True) -> Job:
        """Move a job not yet on scene to another truck (a dispatcher's drag pins it there)."""
        job, truck = self.job(job_id), self.truck(truck_id)
        if job.state not in (JobState.RECEIVED, JobState.ASSIGNED, JobState.EN_ROUTE):
            raise InputError(
                "job_id",
                job_id,
                "is {state}: only jobs not yet on scene can move",
                state=word(job.state),
            )
        if job.truck_id == truck.id:
            raise InputError("truck_id", truck_id, "job {job} is already on this truck", job=job_id)
        self._check_can_take(job, truck)
        if job.state != JobState.RECEIVED:
            self._release(job, now_s=now_s, note=both(N_("moved to {truck}"), truck=truck.id))
        job.pinned = pin
        return self.assign(job_id, truck_id, now_s=now_s)

    def set_queue(self, truck_id: str, job_ids: list[str]) -> None:
        """Re-order a truck's queue (a re-plan): work under way first, then ``job_ids``."""
        truck = self.truck(truck_id)
        if sorted(job_ids) != sorted(
            j for j in truck.queue if self.jobs[j].state == JobState.ASSIGNED
        ):
            raise InputError(
                "job_ids", job_ids, "must be the jobs waiting on truck {truck}", truck=truck_id
            )
        started = [j for j in truck.queue if self.jobs[j].state != JobState.ASSIGNED]
        truck.queue[:] = started + job_ids
        self._changed(truck_id)

    def _release(self, job: Job, *, now_s: float, note: tuple[str, str]) -> None:
        """Take a job off its truck, back to received; ``note``: (Chinese, English)."""
        old = self.trucks[job.truck_id] if job.truck_id else None
        job.transition(JobState.RECEIVED, at_s=now_s, note=note[1], note_zh=note[0])
        if old is not None:
            old.queue.remove(job.id)
            self._sync_truck_state(old)
            self._changed(old.id)

    def cancel(self, job_id: str, reason: Any, note: Any, *, now_s: float) -> Job:
        """Cancel a job, saying why (:func:`optimizer.dispatch.cancel.check_cancel`); it
        leaves its truck's queue and the truck's state follows."""
        reason, note = check_cancel(reason, note)
        job = self.job(job_id)
        job.transition(JobState.CANCELLED, at_s=now_s, note=history_note(reason, note))
        job.cancel_reason, job.cancel_note = reason, note
        truck = self.trucks.get(job.truck_id) if job.truck_id else None
        if truck is not None:
            if job.id in truck.queue:
                truck.queue.remove(job.id)
            self._sync_truck_state(truck)
            self._changed(truck.id)
        return job

    def advance(self, job_id: str, state: str, *, now_s: float) -> Job:
        """A crew or dispatcher moves a job on (§7); the truck's state follows.

        Every refusal comes before any change: a transition §7 does not allow, a job given
        to a truck without saying which (``assigned``: dispatch it), a drive before the
        truck's current job is done, a tow before the job is converted to one.
        """
        job = self.job(job_id)
        target = job.allowed_target(state)
        if target == JobState.ASSIGNED:
            raise InputError(
                "state",
                state,
                "job {job} goes to a truck by dispatch, which names the truck",
                job=job_id,
            )
        truck = self.trucks.get(job.truck_id) if job.truck_id else None
        if target == JobState.TOWING and not job.needs_tow:
            raise InputError(
                "state", state, "job {job} has no tow; convert it to a tow first", job=job_id
            )
        if target == JobState.EN_ROUTE:
            if truck is None or job.id not in truck.queue:
                raise InputError("state", state, "job {job} is on no truck's queue", job=job_id)
            if truck.queue[0] != job.id:
                raise InputError(
                    "state",
                    state,
                    "truck {truck} must finish job {job} first",
                    truck=truck.id,
                    job=truck.queue[0],
                )
        job.transition(target, at_s=now_s)
        if truck is not None:
            if job.state not in ON_TRUCK_STATES and job.id in truck.queue:
                truck.queue.remove(job.id)
            self._sync_truck_state(truck)
            self._changed(truck.id)
        return job

    def convert_to_tow(
        self, job_id: str, *, now_s: float, destination: Any = None, destination_name: str = ""
    ) -> Job:
        """On scene, the car can't be fixed: tow it (customer's choice, else nearest shop)."""
        job = self.job(job_id)
        if job.state != JobState.ON_SCENE or job.truck_id is None:
            raise InputError(
                "job_id",
                job_id,
                "is {state}: only a job on scene can convert to a tow",
                state=word(job.state),
            )
        if job.needs_tow:
            if job.tow_destination_name:
                raise InputError(
                    "job_id", job_id, "is already a tow (to {shop})", shop=job.tow_destination_name
                )
            raise InputError("job_id", job_id, "is already a tow (to a shop)")
        truck = self.trucks[job.truck_id]
        chosen = None if destination is None else parse_lonlat(destination, field="destination")
        assert job.placement is not None
        band = self.band_at(now_s)
        tow = choose_tow_destination(
            self.geo, self.shops, job.placement, chosen=chosen, name=destination_name, band=band
        )
        job.convert_to_tow(
            at_s=now_s,
            truck_kind=truck.kind,
            destination=tow.lonlat,
            destination_name=tow.name,
            destination_snap=tow.snap,
            tow_m=tow.tow_m,
        )
        job.quote = quote_call(
            job.intake, job.placement, tow, geo=self.geo, rules=self.rules, band=band
        )
        if job.truck_id is None:  # a service truck can't tow: the job waits for a flatbed
            truck.queue.remove(job.id)
            self._sync_truck_state(truck)
        self._changed(truck.id)
        return job

    def _sync_truck_state(self, truck: Truck) -> None:
        if truck.state == TruckState.OFF_DUTY:
            return
        if not truck.queue:
            truck.state = TruckState.IDLE
            return
        truck.state = _TRUCK_STATE_FOR_JOB[self.jobs[truck.queue[0]].state]
