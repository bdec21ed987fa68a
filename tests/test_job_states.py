"""The job state machine of SERVICE_RULES §7: every transition, allowed and refused."""

from __future__ import annotations

import itertools

import pytest

from geo.errors import InputError
from optimizer.dispatch.model import ALLOWED_TRANSITIONS, Caller, Intake, Job, JobState, Vehicle

ALLOWED = {
    ("received", "assigned"),
    ("received", "cancelled"),
    ("assigned", "en_route"),
    ("assigned", "received"),
    ("assigned", "cancelled"),
    ("en_route", "on_scene"),
    ("en_route", "received"),
    ("en_route", "cancelled"),
    ("on_scene", "fixed"),
    ("on_scene", "towing"),
    ("on_scene", "cancelled"),
    ("fixed", "closed"),
    ("towing", "delivered"),
    ("delivered", "closed"),
}


def _job(state: JobState) -> Job:
    intake = Intake(
        caller=Caller("李女士", "13900000000"),
        vehicle=Vehicle("京A00001", "", ""),
        member=True,
        member_card="C1",
        location=(116.4, 39.9),
        landmarks="",
        on_highway_reported=None,
        fault_symptoms="",
        fault_category="flat_tyre",
        customer_need="",
        tow_destination=None,
        tow_destination_name="",
        accident=False,
        insurer=None,
        customer_details="",
    )
    return Job(
        id="J1",
        intake=intake,
        required_kind="service",
        created_at_s=1000.0,
        deadline_s=3400.0,
        state=state,
        truck_id="T1",
    )


def test_the_table_is_the_manuals_flow() -> None:
    table = {(a.value, b.value) for a, nexts in ALLOWED_TRANSITIONS.items() for b in nexts}
    assert table == ALLOWED


@pytest.mark.parametrize(("start", "end"), sorted(ALLOWED))
def test_allowed_transition(start: str, end: str) -> None:
    job = _job(JobState(start))
    job.transition(end, at_s=2000.0)
    assert job.state == JobState(end)
    assert job.history[-1].state == JobState(end)
    assert job.truck_id == (None if end == "received" else "T1")


@pytest.mark.parametrize(
    ("start", "end"),
    sorted(set(itertools.product([s.value for s in JobState], repeat=2)) - ALLOWED),
)
def test_refused_transition_names_the_state_and_what_is_allowed(start: str, end: str) -> None:
    job = _job(JobState(start))
    with pytest.raises(InputError, match=rf"state='{end}': job J1 is {start}; allowed next states"):
        job.transition(end, at_s=2000.0)
    assert job.state == JobState(start) and job.history == []


def test_unknown_state_is_refused() -> None:
    with pytest.raises(InputError, match="state='teleported': unknown job state"):
        _job(JobState.RECEIVED).transition("teleported", at_s=2000.0)


def test_time_cannot_run_backwards() -> None:
    job = _job(JobState.RECEIVED)
    job.transition("assigned", at_s=2000.0)
    with pytest.raises(InputError, match=r"at_s=1500\.0"):
        job.transition("en_route", at_s=1500.0)
