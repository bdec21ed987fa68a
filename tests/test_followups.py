"""Follow-up calls (回访, SERVICE_RULES §8) on both databases: a closed job's call falls due
24 h after the close and is overdue after that; an outcome is recorded once (a correction is
explicit and logged); a complaint needs its text and reaches the quality review; a cancelled
job gets no call. Jobs go through the real path: a DispatchCenter on the store (intake,
dispatch, advance to closed); the pages' API through a Flask test app."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from geo.errors import InputError
from geo.i18n import translate
from geo.places import Geo
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from records import schema
from records.followups import (
    COMPLAINT_CHARS,
    complaints,
    followup,
    open_followups,
    overdue_followups,
    record_outcome,
)
from records.rules import load_record_rules
from records.store import EventStore
from rescue.cli import main
from tests.conftest import seed_member
from webmap.center import DispatchCenter
from webmap.clock import ManualClock

MakeCall = Callable[..., dict[str, Any]]
DAY_S = 24 * 3600  # config/rules.toml [records] followup_due_h = 24
STEP_S = 60  # each state change a minute after the one before


class Room:
    """A dispatch center on a fresh records database, with dispatchers anna and bo."""

    def __init__(self, db: str, geo: Geo, rules: Rules, shops: Shops, clock: ManualClock):
        self.store = EventStore(db)
        for name in ("anna", "bo"):
            self.store.add_user(name, "correct horse battery")
        seed_member(self.store)
        self.clock = clock
        self.center = DispatchCenter.open(
            store=self.store, geo=geo, rules=rules, clock=clock, shops=shops
        )

    def received(self, call: dict[str, Any], *, user: str = "anna") -> str:
        return str(self.center.intake(call, user=user)["job"]["id"])

    def dispatched(self, call: dict[str, Any], *, user: str = "anna") -> dict[str, Any]:
        ack = self.center.intake(call, user=user)
        job_id, truck = ack["job"]["id"], ack["proposal"]["best"]["truck"]
        job: dict[str, Any] = self.center.dispatch(job_id, truck, user=user)["job"]
        return job

    def closed(self, call: dict[str, Any], *, user: str = "anna") -> tuple[str, float]:
        """A call taken, dispatched and worked to closed, a minute per step: its id and
        the time it closed."""
        job = self.dispatched(call, user=user)
        for state in ("en_route", "on_scene", "fixed", "closed"):
            self.clock.advance(STEP_S)
            job = self.center.advance(job["id"], state, user=user, version=job["version"])["job"]
        assert job["state"] == "closed"
        return str(job["id"]), self.clock.now()

    def cancelled(self, call: dict[str, Any], *, user: str = "anna") -> str:
        job = self.dispatched(call, user=user)
        self.clock.advance(STEP_S)
        self.center.cancel(job["id"], "caller_cancelled", user=user, version=job["version"])
        return str(job["id"])

    def log(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as connection:
            rows = connection.execute(
                select(schema.record_log)
                .where(schema.record_log.c.job_id.is_not(None))  # not the register's seed
                .order_by(schema.record_log.c.id)
            ).mappings()
            return [{**row, "payload": json.loads(row["payload"])} for row in rows]

    def followup_rows(self) -> list[dict[str, Any]]:
        with self.store.engine.connect() as connection:
            rows = connection.execute(select(schema.followups).order_by(schema.followups.c.job_id))
            return [dict(row._mapping) for row in rows]


@pytest.fixture
def room(
    db_url: str, geo: Geo, business_rules: Rules, shops: Shops, clock: ManualClock
) -> Iterator[Room]:
    opened = Room(db_url, geo, business_rules, shops, clock)
    yield opened
    opened.store.close()


def _refused(field: str, action: Callable[[], Any]) -> InputError:
    with pytest.raises(InputError) as caught:
        action()
    assert caught.value.field == field, (caught.value.field, str(caught.value))
    return caught.value


# ---------------------------------------------------------------------------- the rules
def test_the_outcomes_are_the_rule_files() -> None:
    rules = load_record_rules()
    assert rules.followup_outcomes == ("satisfied", "not_satisfied", "complaint")
    assert rules.followup_due_s == DAY_S


# ---------------------------------------------------------------------------- due and overdue
def test_a_closed_job_is_due_24_h_after_closing_and_overdue_after(
    room: Room, make_call: MakeCall
) -> None:
    start = room.clock.now()
    job_id, closed_s = room.closed(make_call())
    assert closed_s == start + 4 * STEP_S
    [row] = room.followup_rows()
    assert row["job_id"] == job_id
    assert row["opened_at_s"] == closed_s
    assert row["due_at_s"] == closed_s + 86_400
    assert row["outcome"] is None and row["called_by"] is None
    engine = room.store.engine
    [listed] = open_followups(engine)
    assert listed["job_id"] == job_id and listed["order_no"] == "20261125-0001"
    assert listed["caller_name"] == "王先生" and listed["phone"] == "13800138000"
    assert listed["closed_at_s"] == closed_s and listed["due_at_s"] == closed_s + 86_400
    # Due exactly at close + 24 h: not overdue at that second, overdue the second after.
    assert overdue_followups(engine, now_s=closed_s + 86_400) == []
    assert [c["job_id"] for c in overdue_followups(engine, now_s=closed_s + 86_401)] == [job_id]
    # Once called, neither list has it.
    record_outcome(room.store, job_id, outcome="satisfied", called_by="bo", at_s=closed_s + 90_000)
    assert open_followups(engine) == []
    assert overdue_followups(engine, now_s=closed_s + 200_000) == []


def test_the_open_calls_come_in_order_of_due_time(room: Room, make_call: MakeCall) -> None:
    first, first_s = room.closed(make_call())
    room.clock.advance(3600)
    second, second_s = room.closed(make_call(caller={"name": "李女士", "phone": "13900139000"}))
    assert second_s == first_s + 3600 + 4 * STEP_S
    calls = open_followups(room.store.engine)
    assert [(c["job_id"], c["due_at_s"]) for c in calls] == [
        (first, first_s + 86_400),
        (second, second_s + 86_400),
    ]
    # Between the two due times only the first is overdue.
    now = first_s + 86_400 + 60
    assert [c["job_id"] for c in overdue_followups(room.store.engine, now_s=now)] == [first]


def test_a_cancelled_job_gets_no_follow_up(room: Room, make_call: MakeCall) -> None:
    job_id = room.cancelled(make_call())
    open_id = room.received(make_call(caller={"name": "赵先生", "phone": "13700137000"}))
    assert room.followup_rows() == []
    assert open_followups(room.store.engine) == []
    for job in (job_id, open_id):
        error = _refused(
            "job_id",
            lambda job=job: record_outcome(
                room.store, job, outcome="satisfied", called_by="anna", at_s=room.clock.now()
            ),
        )
        assert "not closed" in str(error)
    _refused("job_id", lambda: followup(room.store.engine, job_id))
    assert room.log() == []


# ---------------------------------------------------------------------------- recording
def test_an_outcome_is_recorded_once_with_its_log_row_and_corrected_explicitly(
    room: Room, make_call: MakeCall
) -> None:
    job_id, closed_s = room.closed(make_call())
    called_s = closed_s + 3 * 3600
    saved = record_outcome(
        room.store, job_id, outcome="not_satisfied", called_by="anna", at_s=called_s
    )
    assert saved["outcome"] == "not_satisfied" and saved["complaint"] == ""
    assert saved["called_by"] == "anna" and saved["called_at_s"] == called_s
    [entry] = room.log()
    assert entry["kind"] == "followup.outcome" and entry["job_id"] == job_id
    assert entry["user"] == "anna" and entry["at_s"] == called_s
    assert entry["payload"] == {"outcome": "not_satisfied", "complaint": ""}
    # A second recording is refused and changes nothing.
    error = _refused(
        "job_id",
        lambda: record_outcome(
            room.store, job_id, outcome="satisfied", called_by="bo", at_s=called_s + 60
        ),
    )
    assert "already recorded" in str(error) and "anna" in str(error)
    assert followup(room.store.engine, job_id)["outcome"] == "not_satisfied"
    assert len(room.log()) == 1
    # A correction says so; the log keeps what it replaced.
    fixed = record_outcome(
        room.store, job_id, outcome="satisfied", called_by="bo", at_s=called_s + 600, correct=True
    )
    assert fixed["outcome"] == "satisfied" and fixed["called_by"] == "bo"
    first, second = room.log()
    assert first["kind"] == "followup.outcome"
    assert second["kind"] == "followup.correction" and second["user"] == "bo"
    assert second["payload"]["previous"] == {
        "outcome": "not_satisfied",
        "complaint": "",
        "called_by": "anna",
        "called_at_s": called_s,
    }


def test_a_correction_needs_a_call_recorded_before(room: Room, make_call: MakeCall) -> None:
    job_id, closed_s = room.closed(make_call())
    _refused(
        "correct",
        lambda: record_outcome(
            room.store, job_id, outcome="satisfied", called_by="anna", at_s=closed_s, correct=True
        ),
    )
    assert room.log() == [] and followup(room.store.engine, job_id)["outcome"] is None


def test_a_complaint_needs_its_text_and_goes_to_the_quality_review(
    room: Room, make_call: MakeCall
) -> None:
    job_id, closed_s = room.closed(make_call())
    other, _ = room.closed(make_call(caller={"name": "李女士", "phone": "13900139000"}))
    for text in (None, "", "   "):
        _refused(
            "complaint",
            lambda text=text: record_outcome(
                room.store,
                job_id,
                outcome="complaint",
                complaint=text,
                called_by="anna",
                at_s=closed_s + 60,
            ),
        )
    _refused(
        "complaint",
        lambda: record_outcome(
            room.store,
            job_id,
            outcome="complaint",
            complaint="x" * (COMPLAINT_CHARS + 1),
            called_by="anna",
            at_s=closed_s + 60,
        ),
    )
    _refused(
        "complaint",
        lambda: record_outcome(
            room.store,
            job_id,
            outcome="satisfied",
            complaint="the crew was late",
            called_by="anna",
            at_s=closed_s + 60,
        ),
    )
    assert room.log() == []
    text = "师傅迟到了四十分钟，\n态度也不好"
    record_outcome(
        room.store,
        job_id,
        outcome="complaint",
        complaint="  " + text + " ",
        called_by="bo",
        at_s=closed_s + 7200,
    )
    record_outcome(room.store, other, outcome="satisfied", called_by="anna", at_s=closed_s + 7300)
    [heard] = complaints(room.store.engine)
    assert heard["job_id"] == job_id and heard["order_no"] == "20261125-0001"
    assert heard["caller_name"] == "王先生" and heard["phone"] == "13800138000"
    assert heard["complaint"] == text
    assert heard["called_by"] == "bo" and heard["called_at_s"] == closed_s + 7200
    assert heard["truck_id"]


def test_bad_values_are_refused_naming_the_field_and_nothing_changes(
    room: Room, make_call: MakeCall
) -> None:
    job_id, closed_s = room.closed(make_call())

    def attempt(**changes: Any) -> Callable[[], Any]:
        values: dict[str, Any] = {
            "outcome": "satisfied",
            "called_by": "anna",
            "at_s": closed_s + 60,
            **changes,
        }
        job = values.pop("job_id", job_id)
        return lambda: record_outcome(room.store, job, **values)

    _refused("outcome", attempt(outcome="happy"))
    _refused("outcome", attempt(outcome=None))
    _refused("outcome", attempt(outcome=["satisfied"]))
    _refused("called_by", attempt(called_by="zed"))  # no such dispatcher
    _refused("called_by", attempt(called_by="anna; drop table"))
    _refused("at_s", attempt(at_s=closed_s - 1))  # before the job closed
    _refused("at_s", attempt(at_s=float("nan")))
    _refused("at_s", attempt(at_s="soon"))
    _refused("correct", attempt(correct="yes"))
    _refused("job_id", attempt(job_id="J99999"))
    _refused("job_id", attempt(job_id=None))
    _refused("job_id", attempt(job_id="x" * 10_000))
    _refused("complaint", attempt(outcome="complaint", complaint="bad\x00text"))
    assert room.log() == []
    assert followup(room.store.engine, job_id)["outcome"] is None
    # The work-order number finds the same call.
    saved = record_outcome(
        room.store, "20261125-0001", outcome="satisfied", called_by="anna", at_s=closed_s
    )
    assert saved["job_id"] == job_id


# ---------------------------------------------------------------------------- the page's API
@pytest.fixture
def app(new_app: Callable[..., Flask], db_url: str) -> Flask:
    return new_app(db_url)


def _post(client: FlaskClient, url: str, body: Any) -> Any:
    page = client.get("/records/followups")
    assert page.status_code == 200
    token = json.loads(
        page.get_data(as_text=True)
        .split('id="page-config" type="application/json">')[1]
        .split("</script>")[0]
    )["csrf_token"]
    return client.post(url, json=body, headers={"X-CSRFToken": token})


def test_the_follow_up_api_lists_records_and_refuses(
    app: Flask,
    login: Callable[[Flask], FlaskClient],
    make_call: MakeCall,
    clock: ManualClock,
    user: str,
) -> None:
    center = app.extensions["rescue"].center
    ack = center.intake(make_call(), user=user)
    job = center.dispatch(ack["job"]["id"], ack["proposal"]["best"]["truck"], user=user)["job"]
    for state in ("en_route", "on_scene", "fixed", "closed"):
        clock.advance(STEP_S)
        job = center.advance(job["id"], state, user=user, version=job["version"])["job"]
    closed_s = clock.now()
    anonymous = app.test_client()
    assert anonymous.get("/api/records/followups").status_code == 401
    assert anonymous.get("/records/followups").status_code == 302
    assert anonymous.post("/api/records/followups/J00001", json={}).status_code in (400, 401)
    client = login(app)
    page = client.get("/records/followups").get_data(as_text=True)
    assert translate("Follow-up calls", "zh") in page
    assert translate("Complaint", "zh") in page
    listed = client.get("/api/records/followups").get_json()
    assert listed["now_s"] == closed_s
    [call] = listed["followups"]
    assert call["job_id"] == job["id"] and call["due_at_s"] == closed_s + DAY_S
    assert call["overdue"] is False
    assert client.get("/api/records/followups?overdue=1").get_json()["followups"] == []
    clock.advance(DAY_S + 1)
    [late] = client.get("/api/records/followups?overdue=1").get_json()["followups"]
    assert late["overdue"] is True
    bad = client.get("/api/records/followups?overdue=maybe")
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "overdue"
    # Without the CSRF token the post is refused.
    assert (
        client.post(
            f"/api/records/followups/{job['id']}", json={"outcome": "satisfied"}
        ).status_code
        == 400
    )
    refused = _post(client, f"/api/records/followups/{job['id']}", {"outcome": "complaint"})
    assert refused.status_code == 400
    error = refused.get_json()["error"]
    assert error["field"] == "complaint"
    assert error["message"] == translate("is required for a complaint: write what was said", "zh")
    saved = _post(
        client,
        f"/api/records/followups/{job['id']}",
        {"outcome": "complaint", "complaint": "等了太久"},
    )
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["followup"]["called_by"] == user
    assert saved.get_json()["followup"]["called_at_s"] == clock.now()
    again = _post(client, f"/api/records/followups/{job['id']}", {"outcome": "satisfied"})
    assert again.status_code == 400 and again.get_json()["error"]["field"] == "job_id"
    [heard] = client.get("/api/records/followups/complaints").get_json()["complaints"]
    assert heard["complaint"] == "等了太久" and heard["called_by"] == user
    assert client.get("/api/records/followups").get_json()["followups"] == []


# ---------------------------------------------------------------------------- command line
def test_the_command_line_lists_and_records_calls(
    room: Room, make_call: MakeCall, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    job_id, closed_s = room.closed(make_call())
    # The command line's calls are made at the wall clock's time, never before the last
    # event (so never before this close).
    assert main(["followup", "list", "--db", db_url]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [call["job_id"] for call in listed["followups"]] == [job_id]
    assert listed["followups"][0]["due_at_s"] == closed_s + DAY_S
    record = ["followup", "record", job_id, "--outcome", "complaint", "--db", db_url]
    assert main([*record, "--by", "bo"]) == 2  # no text
    assert json.loads(capsys.readouterr().err)["field"] == "complaint"
    assert main([*record, "--by", "nobody", "--complaint", "太慢"]) == 2
    assert json.loads(capsys.readouterr().err)["field"] == "--by"
    assert main([*record, "--by", "bo", "--complaint", "太慢"]) == 0
    saved = json.loads(capsys.readouterr().out)["followup"]
    assert saved["outcome"] == "complaint" and saved["called_by"] == "bo"
    assert main([*record, "--by", "bo", "--complaint", "again"]) == 2
    assert json.loads(capsys.readouterr().err)["field"] == "job_id"
    fix = ["followup", "record", job_id, "--outcome", "satisfied", "--by", "anna", "--correct"]
    assert main([*fix, "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["followup"]["outcome"] == "satisfied"
    assert main(["followup", "list", "--complaints", "--db", db_url]) == 0
    assert json.loads(capsys.readouterr().out)["complaints"] == []
    assert [entry["kind"] for entry in room.log()] == ["followup.outcome", "followup.correction"]
