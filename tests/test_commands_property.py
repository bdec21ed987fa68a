"""Property test of the dispatch room's commands (Hypothesis, stateful): random sequences
of intake, dispatch, reassign, advance, convert_to_tow, cancel, truck_duty, replan (also
previewed then applied, and undone), the clock moving and the server restarting, through
:class:`webmap.center.DispatchCenter` on the real Beijing network, a small fleet and a
temporary store.

After every step: no exception but :class:`InputError` (a refusal naming field and value),
nothing logged as an error, and the board's invariants hold (every job in a truck's queue
is on that truck and in an on-truck state, in one queue only; the work under way is first;
a truck's state is that of its first job; received, closed and cancelled jobs are in no
queue; the drives and the promise watch follow the board). A restart (and the end of every
sequence) replays the stored events into a fresh center, which must be in the same state.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from geo.errors import InputError
from geo.places import Geo
from optimizer.dispatch.cancel import CANCEL_REASONS
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.legs import drive_key
from optimizer.dispatch.model import ALLOWED_TRANSITIONS, ON_TRUCK_STATES, JobState, TruckState
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from records.store import EventStore
from tests.conftest import seed_member
from webmap.center import FINAL_STATES, DispatchCenter
from webmap.clock import ManualClock

FLEET = {
    "trucks": [
        {"id": "S1", "kind": "service", "position": [116.3980, 39.8990]},  # Qianmen
        {"id": "S2", "kind": "service", "position": [116.3600, 39.9300]},  # Xisi
        {"id": "F1", "kind": "flatbed", "position": [116.4300, 39.9400]},  # Dongzhimen
        {"id": "F2", "kind": "flatbed", "position": [116.3165, 39.9995]},  # Zhongguancun
    ]
}
TRUCKS = [t["id"] for t in FLEET["trucks"]]
PLACES = [(116.3975, 39.9087), (116.45, 39.93), (116.33, 39.98), (116.40, 39.88)]
FAULTS = ["flat_battery", "flat_tyre", "engine_failure"]
STATES = [s.value for s in JobState] + ["teleported"]
WORKING = (JobState.EN_ROUTE, JobState.ON_SCENE, JobState.TOWING)
CREW_NEXT = {  # the usual next step of a job on a truck (on scene: fixed, unless a tow)
    JobState.ASSIGNED: JobState.EN_ROUTE,
    JobState.EN_ROUTE: JobState.ON_SCENE,
    JobState.ON_SCENE: JobState.FIXED,
    JobState.TOWING: JobState.DELIVERED,
    JobState.FIXED: JobState.CLOSED,
    JobState.DELIVERED: JobState.CLOSED,
}
TRUCK_STATE = {  # the truck's state while its first job is in this state
    JobState.ASSIGNED: TruckState.IDLE,
    JobState.EN_ROUTE: TruckState.EN_ROUTE,
    JobState.ON_SCENE: TruckState.ON_SCENE,
    JobState.TOWING: TruckState.TOWING,
}
MAX_JOBS = 6  # calls in one sequence: enough to queue work on every truck
EXAMPLES = int(os.environ.get("RESCUE_PROPERTY_EXAMPLES", "30"))
"""Sequences tried; set ``RESCUE_PROPERTY_EXAMPLES=1000`` to search longer."""
START_S = epoch_at_clock("10:00", day=dt.date(2026, 11, 25))  # a Wednesday, daytime band
USER = "anna"

versions_ = st.sampled_from(["current", "current", "current", "stale", "none"])


class _Errors(logging.Handler):
    """Errors the center logs instead of raising (after a command was applied)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _comparable(center: DispatchCenter) -> dict[str, Any]:
    """The center's state without what depends on when it was computed: the clock fields,
    promise predictions (made again at a restart) and drive timings (a restarted truck
    drives on from where it is)."""
    snapshot = center.snapshot()
    for key in ("now_s", "server_time", "alerts"):
        snapshot.pop(key)
    for job in snapshot["jobs"]:
        job.pop("promise")
    for truck in snapshot["trucks"]:
        route = truck.pop("route")
        truck["drive"] = route and (route["job_id"], route["purpose"], route["moving"])
    board = center.board
    snapshot["all_jobs"] = {
        job_id: (
            job.state,
            job.truck_id,
            job.required_kind,
            job.pinned,
            job.cancel_reason,
            job.cancel_note,
            job.tow_destination,
            job.history,
            center.versions[job_id],
        )
        for job_id, job in sorted(board.jobs.items())
    }
    return snapshot


@pytest.fixture
def fleet_file(tmp_path: Path) -> Path:
    path = tmp_path / "fleet.json"
    path.write_text(json.dumps(FLEET), encoding="utf-8")
    return path


def _machine(
    geo: Geo, rules: Rules, shops: Shops, fleet: Path, make_call: Callable[..., dict[str, Any]]
) -> type[RuleBasedStateMachine]:
    class Commands(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.folder = tempfile.TemporaryDirectory()
            self.store = EventStore(Path(self.folder.name) / "dispatch.sqlite")
            seed_member(self.store)
            self.clock = ManualClock(START_S)
            self.center = self._open()
            self.errors = _Errors()
            logging.getLogger("webmap").addHandler(self.errors)

        def _open(self) -> DispatchCenter:
            return DispatchCenter.open(
                store=self.store,
                geo=geo,
                rules=rules,
                clock=self.clock,
                fleet_path=fleet,
                shops=shops,
            )

        def teardown(self) -> None:
            try:
                self.restart()
            finally:
                logging.getLogger("webmap").removeHandler(self.errors)
                self.store.close()
                self.folder.cleanup()

        # ------------------------------------------------------------------ helpers
        def pick_job(self, data: st.DataObject) -> str:
            """A job of the board, mostly; now and then one that does not exist."""
            return data.draw(
                st.sampled_from([*sorted(self.center.board.jobs), "J99999"]), label="job"
            )

        def pick_job_in(self, data: st.DataObject, *states: JobState) -> str | None:
            """A job in one of ``states``, if there is one."""
            jobs = self.center.board.jobs
            ids = sorted(j for j, job in jobs.items() if job.state in states)
            return data.draw(st.sampled_from(ids), label="job") if ids else None

        def pick_truck(self, data: st.DataObject, job_id: str) -> str:
            """A truck that could take the job, mostly; else any truck, or an unknown one."""
            job = self.center.board.jobs.get(job_id)
            kinds = (
                {"flatbed"} if job and job.required_kind == "flatbed" else {"service", "flatbed"}
            )
            fit = [t for t in TRUCKS if self.center.board.trucks[t].kind in kinds]
            return data.draw(
                st.one_of(st.sampled_from(fit), st.sampled_from([*TRUCKS, "T99"])), label="truck"
            )

        def version(self, job_id: str, kind: str) -> int | None:
            if kind == "none":
                return None
            current = self.center.versions.get(job_id, 1)
            return current if kind == "current" else current - 1

        def attempt(self, command: Callable[[], Any]) -> None:
            """Run a command: it is applied or refused with an InputError, nothing else."""
            try:
                command()
            except InputError as error:
                assert error.field and str(error), error
            self.center.watch_promises()  # what the live loop does every second

        # ------------------------------------------------------------------ commands
        @initialize(
            calls=st.lists(
                st.tuples(st.sampled_from(PLACES), st.sampled_from(FAULTS)),
                min_size=1,
                max_size=3,
            ),
            confirmed=st.integers(min_value=0, max_value=3),
        )
        def calls_come_in(
            self, calls: list[tuple[tuple[float, float], str]], confirmed: int
        ) -> None:
            """Every sequence starts with a few calls, the first ``confirmed`` dispatched."""
            for n, (where, fault) in enumerate(calls):
                answer = self.center.intake(make_call(where, fault), user=USER)
                best = answer["proposal"]["best"]
                if n < confirmed and best is not None:
                    self.center.dispatch(answer["job"]["id"], best["truck"], user=USER)

        @precondition(lambda self: len(self.center.board.jobs) < MAX_JOBS)
        @rule(where=st.sampled_from(PLACES), fault=st.sampled_from(FAULTS), member=st.booleans())
        def intake(self, where: tuple[float, float], fault: str, member: bool) -> None:
            extra: dict[str, Any] = {}
            if not member:
                extra = {"member": False, "member_card": None, "customer_need": "help"}
            self.attempt(lambda: self.center.intake(make_call(where, fault, **extra), user=USER))

        @rule(data=st.data())
        def confirm_the_proposal(self, data: st.DataObject) -> None:
            """The dispatcher's "Confirm": the proposed best truck, with what was shown."""
            job_id = self.pick_job_in(data, JobState.RECEIVED)
            if job_id is None:
                return
            proposal = self.center.propose(job_id)
            best = proposal["best"]
            if best is None:
                return
            self.attempt(
                lambda: self.center.dispatch(
                    job_id,
                    best["truck"],
                    user=USER,
                    version=self.center.version(job_id),
                    eta_at_s=best["eta_at_s"],
                    status=best["status"],
                )
            )

        @rule(data=st.data(), steps=st.integers(min_value=1, max_value=5), fix=st.booleans())
        def crew(self, data: st.DataObject, steps: int, fix: bool) -> None:
            """A crew's next steps on its job: leave, arrive, fix (or convert to a tow, or
            tow and deliver), close."""
            job_id = self.pick_job_in(data, *CREW_NEXT)
            for _ in range(steps):
                job = self.center.board.jobs.get(job_id or "")
                if job is None or job.state not in CREW_NEXT:
                    return
                version = self.center.version(job.id)
                if job.state == JobState.ON_SCENE and not job.needs_tow and not fix:
                    self.attempt(
                        partial(self.center.convert_to_tow, job.id, user=USER, version=version)
                    )
                    continue
                state = CREW_NEXT[job.state]
                if job.state == JobState.ON_SCENE and job.needs_tow:
                    state = JobState.TOWING
                self.attempt(
                    partial(self.center.advance, job.id, state.value, user=USER, version=version)
                )

        @rule(data=st.data())
        def wrong_move(self, data: st.DataObject) -> None:
            """A move §7 does not allow from the job's state, with the right version."""
            job_id = self.pick_job_in(data, *JobState)
            if job_id is None:
                return
            job = self.center.board.jobs[job_id]
            wrong = [s.value for s in JobState if s not in ALLOWED_TRANSITIONS[job.state]]
            state = data.draw(st.sampled_from(wrong), label="state")
            version = self.center.version(job_id)
            self.attempt(lambda: self.center.advance(job_id, state, user=USER, version=version))

        @rule(data=st.data(), version=versions_, shown=st.booleans())
        def dispatch(self, data: st.DataObject, version: str, shown: bool) -> None:
            job_id = self.pick_job(data)
            truck = self.pick_truck(data, job_id)
            seen: dict[str, Any] = {}
            job = self.center.board.jobs.get(job_id)
            if shown and job is not None and job.state == JobState.RECEIVED:
                rows = self.center.propose(job_id)["candidates"]
                row = next((c for c in rows if c["truck"] == truck), None)
                if row is not None:
                    seen = {"eta_at_s": row["eta_at_s"], "status": row["status"]}
            self.attempt(
                lambda: self.center.dispatch(
                    job_id, truck, user=USER, version=self.version(job_id, version), **seen
                )
            )

        @rule(data=st.data(), version=versions_)
        def reassign(self, data: st.DataObject, version: str) -> None:
            job_id = self.pick_job(data)
            truck = self.pick_truck(data, job_id)
            self.attempt(
                lambda: self.center.reassign(
                    job_id, truck, user=USER, version=self.version(job_id, version)
                )
            )

        @rule(data=st.data(), version=versions_)
        def advance(self, data: st.DataObject, version: str) -> None:
            """Mostly a move §7 allows from the job's state, else any state or none."""
            job_id = self.pick_job(data)
            job = self.center.board.jobs.get(job_id)
            allowed = sorted(s.value for s in ALLOWED_TRANSITIONS[job.state]) if job else []
            anything = st.sampled_from(STATES)
            state = data.draw(
                st.one_of(st.sampled_from(allowed), anything) if allowed else anything,
                label="state",
            )
            self.attempt(
                lambda: self.center.advance(
                    job_id, state, user=USER, version=self.version(job_id, version)
                )
            )

        @rule(
            data=st.data(),
            version=versions_,
            reason=st.sampled_from([*CANCEL_REASONS, "bogus"]),
            note=st.sampled_from([None, "", "   ", "客户已自行离开"]),
        )
        def cancel(self, data: st.DataObject, version: str, reason: str, note: str | None) -> None:
            job_id = self.pick_job(data)
            self.attempt(
                lambda: self.center.cancel(
                    job_id, reason, note=note, user=USER, version=self.version(job_id, version)
                )
            )

        @rule(data=st.data(), version=versions_, destination=st.sampled_from([None, None, "shop"]))
        def convert_to_tow(
            self, data: st.DataObject, version: str, destination: str | None
        ) -> None:
            job_id = self.pick_job(data)
            self.attempt(
                lambda: self.center.convert_to_tow(
                    job_id,
                    user=USER,
                    destination=destination,
                    version=self.version(job_id, version),
                )
            )

        @rule(truck=st.sampled_from([*TRUCKS, "T99"]), on_duty=st.booleans())
        def truck_duty(self, truck: str, on_duty: bool) -> None:
            self.attempt(lambda: self.center.set_duty(truck, on_duty, user=USER))

        @precondition(
            lambda self: any(j.state == JobState.RECEIVED for j in self.center.board.jobs.values())
        )
        @rule()
        def replan(self) -> None:
            self.attempt(lambda: self.center.replan(user=USER, time_limit_s=0.2))

        @precondition(
            lambda self: any(j.state == JobState.RECEIVED for j in self.center.board.jobs.values())
        )
        @rule(stale=st.booleans())
        def preview_and_apply_replan(self, stale: bool) -> None:
            """A previewed re-plan applied; now and then after a dispatcher's drag."""
            plan = self.center.replan(user=USER, time_limit_s=0.2, preview=True)
            if stale:
                received = sorted(
                    j for j, job in self.center.board.jobs.items() if job.state == JobState.RECEIVED
                )
                job_id = received[0]
                version = self.center.version(job_id)
                self.attempt(lambda: self.center.reassign(job_id, "F1", user=USER, version=version))
            self.attempt(lambda: self.center.replan_apply(plan["plan_id"], user=USER))

        @rule()
        def undo_replan(self) -> None:
            self.attempt(lambda: self.center.replan_undo(user=USER))

        @rule(seconds=st.sampled_from([1, 60, 200, 900, 1800]))
        def wait(self, seconds: int) -> None:
            self.clock.advance(seconds)
            self.center.watch_promises()

        @rule()
        def restart(self) -> None:
            """The server restarts: the stored events replayed give the same state."""
            again = self._open()
            assert again.replay_report["skipped"] == []
            assert _comparable(again) == _comparable(self.center)
            self.center = again

        # ------------------------------------------------------------------ invariants
        @invariant()
        def nothing_logged_as_an_error(self) -> None:
            assert [r.getMessage() for r in self.errors.records] == []

        @invariant()
        def queues_trucks_and_jobs_agree(self) -> None:
            board = self.center.board
            queued: dict[str, str] = {}
            for truck in board.trucks.values():
                for job_id in truck.queue:
                    assert job_id not in queued, f"{job_id} on {queued.get(job_id)} and {truck.id}"
                    queued[job_id] = truck.id
                    job = board.jobs[job_id]
                    assert job.truck_id == truck.id, (job_id, job.truck_id, truck.id)
                    assert job.state in ON_TRUCK_STATES, (job_id, job.state)
                    if job.state in WORKING:
                        assert truck.queue[0] == job_id, (truck.id, truck.queue)
                if truck.state == TruckState.OFF_DUTY:
                    assert truck.queue == [], truck
                elif truck.queue:
                    first = board.jobs[truck.queue[0]]
                    assert truck.state == TRUCK_STATE[first.state], (truck, first.state)
                else:
                    assert truck.state == TruckState.IDLE, truck
            for job_id, job in board.jobs.items():
                assert (job_id in queued) == (job.state in ON_TRUCK_STATES), (job_id, job.state)
                if job.state == JobState.RECEIVED:
                    assert job.truck_id is None, (job_id, job.truck_id)

        @invariant()
        def the_center_follows_the_board(self) -> None:
            center, board = self.center, self.center.board
            active = {j for j, job in board.jobs.items() if job.state not in FINAL_STATES}
            assert set(center.active_job_ids()) == active
            assert set(center.versions) == set(board.jobs)
            for truck_id in board.trucks:
                drive = center.drive(truck_id)
                assert (drive and drive.key) == drive_key(board, truck_id), truck_id
            watched = (JobState.RECEIVED, JobState.ASSIGNED, JobState.EN_ROUTE)
            for job_id, job in board.jobs.items():
                assert (center.promises.get(job_id) is not None) == (job.state in watched)

    return Commands


def test_random_commands_keep_the_board_consistent_and_replayable(
    geo: Geo,
    business_rules: Rules,
    shops: Shops,
    fleet_file: Path,
    make_call: Callable[..., dict[str, Any]],
) -> None:
    machine = _machine(geo, business_rules, shops, fleet_file, make_call)
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=25,
            deadline=None,
            database=None,  # nothing written into the checkout
            print_blob=True,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
