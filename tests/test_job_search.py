"""Job search and job history on both databases: each key (phone, plate, card, job id or
work-order number, days, state) finds exactly the right jobs, normalized as intake
normalizes; the days are Beijing days, both ends included; bad parameters are refused
naming the field; a job's history lists each command with its dispatcher and time, and
the record edits, in order. Jobs are made through a DispatchCenter on the store."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from geo.errors import InputError
from geo.i18n import translate
from geo.places import Geo
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from records.followups import record_outcome
from records.members import add_member
from records.search import MAX_LIMIT, job_history, search_jobs
from records.store import EventStore
from rescue.cli import main
from tests.conftest import MEMBER, seed_member
from webmap.center import DispatchCenter
from webmap.clock import ManualClock

MakeCall = Callable[..., dict[str, Any]]
STEP_S = 60

ZHOU = {
    **MEMBER,
    "card_no": "BJ-777777",
    "name": "周先生",
    "phones": "010-65123456",
    "plates": "京AD12345",
    "receipt_no": "R20260101-0777",
}
"""The member of job C (in the register beside the test calls' member)."""


@dataclass
class Jobs:
    """Four calls over three Beijing days (2026-11-25 .. 27), made through the center:

    - A 11-25 10:00, 13800138000, 京N12345, card BJ000123: closed (anna and bo in turn);
    - B 11-25 23:59:59, 13900139000, 京A99999, not a member: received;
    - C 11-26 00:00:00 (midnight), 010-65123456, 京AD12345, card BJ777777: assigned;
    - D 11-27 09:00, 13800138000 again, 京B55555: cancelled.
    """

    store: EventStore
    ids: dict[str, str]
    times: dict[str, float]
    """What happened when: ``A.created``, ``A.en_route``...``A.closed``, ``A.called``."""

    def found(self, **keys: Any) -> list[str]:
        """The letters of the jobs a search finds, in its order."""
        letter = {job_id: name for name, job_id in self.ids.items()}
        return [letter[job["job_id"]] for job in search_jobs(self.store.engine, **keys)]


def _make_jobs(
    store: EventStore,
    geo: Geo,
    rules: Rules,
    shops: Shops,
    clock: ManualClock,
    make_call: MakeCall,
) -> Jobs:
    day = dt.date(2026, 11, 25)
    assert clock.now() == epoch_at_clock("10:00", day=day)
    center = DispatchCenter.open(store=store, geo=geo, rules=rules, clock=clock, shops=shops)
    ids: dict[str, str] = {}
    times: dict[str, float] = {}

    def intake(name: str, call: dict[str, Any], user: str) -> dict[str, Any]:
        ack = center.intake(call, user=user)
        ids[name] = ack["job"]["id"]
        times[f"{name}.created"] = clock.now()
        return ack

    def dispatch(ack: dict[str, Any], user: str) -> dict[str, Any]:
        truck = ack["proposal"]["best"]["truck"]
        job: dict[str, Any] = center.dispatch(ack["job"]["id"], truck, user=user)["job"]
        return job

    ack = intake("A", make_call(), "anna")
    job = dispatch(ack, "anna")
    for state, user in (
        ("en_route", "bo"),
        ("on_scene", "anna"),
        ("fixed", "bo"),
        ("closed", "anna"),
    ):
        clock.advance(STEP_S)
        job = center.advance(job["id"], state, user=user, version=job["version"])["job"]
        times[f"A.{state}"] = clock.now()
    clock.advance(3600)
    times["A.called"] = clock.now()
    record_outcome(store, ids["A"], outcome="satisfied", called_by="bo", at_s=clock.now())

    midnight = epoch_at_clock("00:00", day=day + dt.timedelta(days=1))
    clock.advance(midnight - 1 - clock.now())
    intake(
        "B",
        make_call(
            caller={"name": "李女士", "phone": "139 0013 9000"},
            vehicle={"plate": "京A·99999", "model": "Toyota Corolla", "colour": "white"},
            member=False,
            member_card=None,
            customer_need="jump start",
        ),
        "bo",
    )
    clock.advance(1)
    ack = intake(
        "C",
        make_call(
            caller={"name": "周先生", "phone": "010-65123456"},
            vehicle={"plate": "京AD12345", "model": "BYD Han", "colour": "blue"},
            member_card="BJ-777777",
        ),
        "anna",
    )
    dispatch(ack, "anna")
    clock.advance(epoch_at_clock("09:00", day=day + dt.timedelta(days=2)) - clock.now())
    ack = intake(
        "D",
        make_call(vehicle={"plate": "京B55555", "model": "Audi A4", "colour": "grey"}),
        "bo",
    )
    job = dispatch(ack, "bo")
    clock.advance(STEP_S)
    center.cancel(job["id"], "caller_cancelled", user="anna", version=job["version"])
    times["D.cancelled"] = clock.now()
    return Jobs(store, ids, times)


@pytest.fixture
def jobs(
    db_url: str,
    geo: Geo,
    business_rules: Rules,
    shops: Shops,
    clock: ManualClock,
    make_call: MakeCall,
) -> Iterator[Jobs]:
    store = EventStore(db_url)
    for name in ("anna", "bo"):
        store.add_user(name, "correct horse battery")
    seed_member(store)
    add_member(store, ZHOU, user="setup", at_s=0.0)
    try:
        yield _make_jobs(store, geo, business_rules, shops, clock, make_call)
    finally:
        store.close()


# ---------------------------------------------------------------------------- search
def test_each_key_finds_exactly_its_jobs_newest_first(jobs: Jobs) -> None:
    assert jobs.ids == {"A": "J00001", "B": "J00002", "C": "J00003", "D": "J00004"}
    assert jobs.found() == ["D", "C", "B", "A"]
    # Phones, plates and cards as a dispatcher types them, normalized as intake does.
    assert jobs.found(phone="138 0013 8000") == ["D", "A"]
    assert jobs.found(phone="13900139000") == ["B"]
    assert jobs.found(phone="010-6512 3456") == ["C"]
    assert jobs.found(phone="65123456") == ["C"]  # a Beijing number without its area code
    assert jobs.found(phone="13700137000") == []
    assert jobs.found(plate="京n·12345") == ["A"]
    assert jobs.found(plate="京ad 12345") == ["C"]
    assert jobs.found(plate="京A99999") == ["B"]
    assert jobs.found(card="bj-000123") == ["D", "A"]  # D's caller is the same member
    assert jobs.found(card="BJ777777") == ["C"]
    # Job ids and work-order numbers (numbered per Beijing day).
    assert jobs.found(job_id="j00002") == ["B"]
    assert jobs.found(job_id="20261125-0001") == ["A"]
    assert jobs.found(job_id="20261125-0002") == ["B"]
    assert jobs.found(job_id="20261126-0001") == ["C"]
    assert jobs.found(job_id="20261127-0001") == ["D"]
    assert jobs.found(job_id="J00009") == []
    # States.
    assert jobs.found(state="closed") == ["A"]
    assert jobs.found(state="received") == ["B"]
    assert jobs.found(state="assigned") == ["C"]
    assert jobs.found(state="cancelled") == ["D"]
    assert jobs.found(state="en_route") == []
    # Keys together must all match.
    assert jobs.found(phone="13800138000", state="closed") == ["A"]
    assert jobs.found(phone="13800138000", day_from="2026-11-27") == ["D"]
    assert jobs.found(phone="13800138000", plate="京A99999") == []
    # Limits.
    assert jobs.found(limit=2) == ["D", "C"]
    assert jobs.found(limit="3") == ["D", "C", "B"]


def test_the_search_answers_what_the_list_shows(jobs: Jobs) -> None:
    [a] = search_jobs(jobs.store.engine, job_id="J00001")
    assert a["order_no"] == "20261125-0001" and a["day"] == "2026-11-25"
    assert a["created_at_s"] == jobs.times["A.created"]
    assert a["closed_at_s"] == jobs.times["A.closed"]
    assert a["state"] == "closed" and a["member"] is True and a["member_card"] == "BJ000123"
    assert a["caller_name"] == "王先生" and a["plate"] == "京N12345"
    assert a["truck_id"] and a["crew"]
    assert "detail" not in a
    [b] = search_jobs(jobs.store.engine, job_id="J00002")
    assert b["member"] is False and b["member_card"] is None and b["truck_id"] is None


def test_the_days_are_beijing_days_both_ends_included(jobs: Jobs) -> None:
    # B came in one second before Beijing midnight, C at midnight exactly.
    assert jobs.found(day_from="2026-11-25", day_to="2026-11-25") == ["B", "A"]
    assert jobs.found(day_from="2026-11-26", day_to="2026-11-26") == ["C"]
    assert jobs.found(day_from="2026-11-25", day_to="2026-11-26") == ["C", "B", "A"]
    assert jobs.found(day_from="2026-11-26", day_to="2026-11-27") == ["D", "C"]
    assert jobs.found(day_from="2026-11-26") == ["D", "C"]
    assert jobs.found(day_to="2026-11-25") == ["B", "A"]
    assert jobs.found(day_from=dt.date(2026, 11, 27), day_to=dt.date(2026, 11, 27)) == ["D"]
    assert jobs.found(day_from="2026-11-28") == []
    assert jobs.found(day_to="2026-11-24") == []
    # Empty form fields are no keys.
    assert jobs.found(phone="", plate=" ", day_from="", state="") == ["D", "C", "B", "A"]


@pytest.mark.parametrize(
    ("keys", "field"),
    [
        ({"phone": "abc"}, "phone"),
        ({"phone": "1380013800"}, "phone"),  # ten digits
        ({"phone": 13800138000}, "phone"),
        ({"phone": "1" * 1000}, "phone"),
        ({"plate": "xx"}, "plate"),
        ({"plate": ["京N12345"]}, "plate"),
        ({"card": "!!"}, "card"),
        ({"job_id": "J0001; drop table jobs"}, "job_id"),
        ({"job_id": 7}, "job_id"),
        ({"job_id": "J" * 100}, "job_id"),
        ({"day_from": "2026-13-01"}, "day_from"),
        ({"day_from": "25/11/2026"}, "day_from"),
        ({"day_to": "tomorrow"}, "day_to"),
        ({"day_from": "2026-11-27", "day_to": "2026-11-25"}, "day_to"),
        ({"state": "flying"}, "state"),
        ({"state": 3}, "state"),
        ({"limit": 0}, "limit"),
        ({"limit": MAX_LIMIT + 1}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": 2.5}, "limit"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(
    db_url: str, keys: dict[str, Any], field: str
) -> None:
    store = EventStore(db_url)
    try:
        with pytest.raises(InputError) as caught:
            search_jobs(store.engine, **keys)
        assert caught.value.field == field
        assert len(str(caught.value)) < 300  # a short prefix of the value, never all of it
    finally:
        store.close()


# ---------------------------------------------------------------------------- history
def test_the_history_lists_each_command_with_its_dispatcher_and_time_in_order(
    jobs: Jobs,
) -> None:
    t = jobs.times
    history = job_history(jobs.store.engine, "J00001")
    assert [(e["source"], e["kind"], e["user"], e["at_s"]) for e in history] == [
        ("event", "intake", "anna", t["A.created"]),
        ("event", "dispatch", "anna", t["A.created"]),
        ("event", "advance", "bo", t["A.created"] + 60),
        ("event", "advance", "anna", t["A.created"] + 120),
        ("event", "advance", "bo", t["A.created"] + 180),
        ("event", "advance", "anna", t["A.created"] + 240),
        ("record", "followup.outcome", "bo", t["A.created"] + 240 + 3600),
    ]
    assert t["A.closed"] == t["A.created"] + 240 and t["A.called"] == t["A.closed"] + 3600
    summaries = [e["summary"] for e in history]
    assert summaries[0]["fault_category"] == "flat_battery"
    assert summaries[0]["caller_name"] == "王先生"
    assert (
        summaries[1]["truck_id"] == search_jobs(jobs.store.engine, job_id="J00001")[0]["truck_id"]
    )
    assert [s["state"] for s in summaries[2:6]] == ["en_route", "on_scene", "fixed", "closed"]
    assert summaries[6] == {"outcome": "satisfied", "complaint": ""}
    seqs = [e["seq"] for e in history if e["source"] == "event"]
    assert seqs == sorted(seqs)
    # The work-order number gives the same history.
    assert job_history(jobs.store.engine, "20261125-0001") == history


def test_a_cancelled_jobs_history_says_why_and_who(jobs: Jobs) -> None:
    history = job_history(jobs.store.engine, jobs.ids["D"])
    assert [(e["kind"], e["user"]) for e in history] == [
        ("intake", "bo"),
        ("dispatch", "bo"),
        ("cancel", "anna"),
    ]
    assert history[-1]["at_s"] == jobs.times["D.cancelled"]
    assert history[-1]["summary"] == {"reason": "caller_cancelled", "note": ""}


def test_the_history_of_an_unknown_or_malformed_job_is_refused(jobs: Jobs) -> None:
    for key in ("J00099", "20261125-0009", "", None, "J 1", "x" * 500):
        with pytest.raises(InputError) as caught:
            job_history(jobs.store.engine, key)
        assert caught.value.field == "job_id"


# ---------------------------------------------------------------------------- the page's API
@pytest.fixture
def app(new_app: Callable[..., Flask], db_url: str) -> Flask:
    return new_app(db_url)


def test_the_jobs_api_and_page(
    app: Flask,
    login: Callable[[Flask], FlaskClient],
    make_call: MakeCall,
    clock: ManualClock,
    user: str,
) -> None:
    center = app.extensions["rescue"].center
    first = center.intake(make_call(), user=user)["job"]["id"]
    clock.advance(STEP_S)
    second = center.intake(
        make_call(
            vehicle={"plate": "京C12345", "model": "Kia K5", "colour": "red"},
            member=False,
            member_card=None,
            customer_need="start the car",
        ),
        user=user,
    )["job"]["id"]
    anonymous = app.test_client()
    assert anonymous.get("/api/records/jobs").status_code == 401
    assert anonymous.get(f"/api/records/jobs/{first}/history").status_code == 401
    assert anonymous.get("/records/jobs").status_code == 302
    client = login(app)
    found = client.get("/api/records/jobs", query_string={"plate": "京c 12345"}).get_json()
    assert [job["job_id"] for job in found["jobs"]] == [second]
    found = client.get("/api/records/jobs", query_string={"phone": "13800138000"}).get_json()
    assert [job["job_id"] for job in found["jobs"]] == [second, first]
    bad = client.get("/api/records/jobs", query_string={"day_from": "2026-02-30"})
    assert bad.status_code == 400
    error = bad.get_json()["error"]
    assert error["field"] == "day_from" and error["value"] == "2026-02-30"
    assert error["message"] == translate("not a day like {example}", "zh", example="2026-11-25")
    long = client.get("/api/records/jobs", query_string={"phone": "1" * 100_000})
    assert long.status_code == 400 and len(long.get_data()) < 1000
    history = client.get(f"/api/records/jobs/{first}/history").get_json()
    assert history["job"]["order_no"] == "20261125-0001"
    assert [(e["kind"], e["user"]) for e in history["history"]] == [("intake", user)]
    missing = client.get("/api/records/jobs/J09999/history")
    assert missing.status_code == 400 and missing.get_json()["error"]["field"] == "job_id"
    page = client.get("/records/jobs?phone=13800138000&state=received").get_data(as_text=True)
    assert translate("Job or work-order number", "zh") in page
    assert translate("Received", "zh") in page  # the states' labels in the page language
    assert 'value="13800138000"' in page


# ---------------------------------------------------------------------------- command line
def test_the_command_line_searches_and_tells_a_history(
    jobs: Jobs, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["jobs", "search", "--phone", "138-0013-8000", "--db", db_url]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["count"] == 2
    assert [job["job_id"] for job in found["jobs"]] == [jobs.ids["D"], jobs.ids["A"]]
    assert (
        main(["jobs", "search", "--from", "2026-11-26", "--to", "2026-11-26", "--db", db_url]) == 0
    )
    assert [job["order_no"] for job in json.loads(capsys.readouterr().out)["jobs"]] == [
        "20261126-0001"
    ]
    assert main(["jobs", "history", "20261127-0001", "--db", db_url]) == 0
    told = json.loads(capsys.readouterr().out)
    assert told["job"]["job_id"] == jobs.ids["D"]
    assert [e["kind"] for e in told["history"]] == ["intake", "dispatch", "cancel"]
    assert main(["--lang", "en", "jobs", "search", "--state", "lost", "--db", db_url]) == 2
    refusal = json.loads(capsys.readouterr().err)
    assert refusal["field"] == "state" and refusal["value"] == "lost"
    assert main(["jobs", "history", "J09999", "--db", db_url]) == 2
    assert json.loads(capsys.readouterr().err)["field"] == "job_id"
