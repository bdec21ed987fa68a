"""The member register (SERVICE_RULES §5, records/members.py) on both backends: members
added and checked, the CSV file round trip and its all-or-nothing import, the card check
by status with exact dates, and the intake: a member price needs a valid card, and a
caller who joins now is priced as a member with the 380-yuan enrolment committed in the
intake's transaction. Also the command line and the page's JSON endpoints."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from geo.errors import InputError
from geo.places import Geo
from optimizer.dispatch.rules import load_business_rules
from records import enrolment, member_csv, schema
from records import members as register
from records.card_check import card_check
from records.member_csv import ImportRefusedError, import_csv
from records.members import add_member
from records.rules import load_record_rules
from records.store import EventStore
from rescue.cli import main as rescue_main
from webmap.center import DispatchCenter, StoreError
from webmap.clock import ManualClock
from webmap.sim import SimConfig, Simulation

MakeCall = Callable[..., dict[str, Any]]
TODAY = "2026-11-25"
"""The tests' day (conftest ``clock``: 10:00 Beijing time)."""
WANG = {
    "card_no": "BJ-000123",
    "name": "王先生",
    "phones": "13800138000;010-65123456",
    "plates": "京N12345; 京A·12345",
    "valid_from": "2026-01-01",
    "valid_to": TODAY,
    "fee_paid_yuan": "380",
    "receipt_no": "R20260101-0007",
}
SUN = {**WANG, "card_no": "BJ-000777", "plates": "京Q77777", "receipt_no": "R20260101-0777"}
"""A member added on the page (the test apps' register already holds card BJ-000123)."""
LI = {
    "card_no": "BJ12345678",
    "name": "李女士",
    "phones": ["13911112222"],
    "plates": ["京AD12345"],
    "valid_from": "2026-06-01",
    "valid_to": "2027-05-31",
    "fee_paid_yuan": 380,
}
HEADER = "card_no,name,phones,plates,valid_from,valid_to,fee_paid_yuan,receipt_no"
TOW_20_KM = [116.5675, 39.9087]
"""From Tiananmen (the ``centre`` fixture) 19.6 road km: billed 20 km (ceil)."""


@pytest.fixture
def store(db_url: str) -> Iterator[EventStore]:
    opened = EventStore(db_url)
    yield opened
    opened.close()


@pytest.fixture
def center(store: EventStore, geo: Geo, clock: ManualClock) -> DispatchCenter:
    return DispatchCenter.open(store=store, geo=geo, rules=load_business_rules(), clock=clock)


def _rows(store: EventStore, table: Any) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(select(table))]


def _log_kinds(store: EventStore) -> list[str]:
    return [row["kind"] for row in _rows(store, schema.record_log)]


# ---------------------------------------------------------------------------- adding
def test_a_member_is_added_normalized_with_a_log_row(store: EventStore) -> None:
    member = add_member(store, WANG, user="anna", at_s=1.0e9)
    assert member.card_no == "BJ000123"  # as intake keeps it: dash removed, uppercase
    assert member.phones == ("01065123456", "13800138000")  # sorted
    assert member.plates == ("京A12345", "京N12345")
    assert (member.valid_from, member.valid_to, member.fee_paid_yuan) == (
        "2026-01-01",
        TODAY,
        380.0,
    )
    assert register.get_member(store, "bj-000123") == member
    assert _log_kinds(store) == ["member_add"]
    log = _rows(store, schema.record_log)[0]
    assert (log["user"], log["card_no"], log["at_s"]) == ("anna", "BJ000123", 1.0e9)
    assert json.loads(log["payload"])["plates"] == ["京A12345", "京N12345"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"card_no": "card 7"}, "card_no"),
        ({"card_no": ""}, "card_no"),
        ({"name": " "}, "name"),
        ({"phones": "13800138000;12345"}, "phones"),
        ({"plates": "京N12345;京I12345"}, "plates"),  # no I on plates
        ({"plates": ""}, "plates"),
        ({"valid_from": "2026-13-01"}, "valid_from"),
        ({"valid_to": "25/11/2026"}, "valid_to"),
        ({"valid_to": "2025-12-31"}, "valid_to"),  # before valid_from
        ({"fee_paid_yuan": "-1"}, "fee_paid_yuan"),
        ({"fee_paid_yuan": "380元"}, "fee_paid_yuan"),
        ({"fee_paid_yuan": float("nan")}, "fee_paid_yuan"),
        ({"receipt_no": "R 1"}, "receipt_no"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_member_is_refused_naming_the_field_and_nothing_is_written(
    store: EventStore, change: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputError) as error:
        add_member(store, {**WANG, **change}, user="anna", at_s=1.0e9)
    assert error.value.field == field
    assert register.member_count(store) == 0 and _log_kinds(store) == []


def test_a_card_already_in_the_register_is_refused(store: EventStore) -> None:
    add_member(store, WANG, user="anna", at_s=1.0e9)
    with pytest.raises(InputError, match="already in the member register") as error:
        add_member(store, {**LI, "card_no": "bj000123"}, user="anna", at_s=1.0e9)
    assert error.value.field == "card_no"
    with pytest.raises(InputError, match="already used") as error:
        add_member(store, {**LI, "receipt_no": WANG["receipt_no"]}, user="anna", at_s=1.0e9)
    assert register.member_count(store) == 1 and _log_kinds(store) == ["member_add"]


def test_search_by_card_phone_plate_or_name(store: EventStore) -> None:
    add_member(store, WANG, user="anna", at_s=1.0e9)
    add_member(store, LI, user="anna", at_s=1.0e9)

    def cards(query: str) -> list[str]:
        return [m.card_no for m in register.find_members(store, query)]

    assert cards("") == ["BJ000123", "BJ12345678"]
    assert cards("bj-0001") == ["BJ000123"]
    assert cards("139 1111") == ["BJ12345678"]  # phone, separators removed
    assert cards("京a·12345") == ["BJ000123"]  # plate
    assert cards("李") == ["BJ12345678"]
    assert cards("%") == [] and cards("_") == []  # LIKE wildcards are literal


# ---------------------------------------------------------------------------- CSV
def test_csv_round_trip(store: EventStore, tmp_path: Path) -> None:
    add_member(store, WANG, user="anna", at_s=1.0e9)
    add_member(store, LI, user="anna", at_s=1.0e9)
    text = member_csv.export_csv(store)
    assert text.splitlines() == [
        HEADER,
        "BJ000123,王先生,01065123456;13800138000,京A12345;京N12345,2026-01-01,2026-11-25,380,"
        "R20260101-0007",
        "BJ12345678,李女士,13911112222,京AD12345,2026-06-01,2027-05-31,380,",
    ]
    other = EventStore(tmp_path / "other.sqlite")
    try:
        imported = import_csv(other, text, user="bo", at_s=2.0e9)
        assert [m.card_no for m in imported] == ["BJ000123", "BJ12345678"]
        assert member_csv.export_csv(other) == text
        assert register.all_members(other) == register.all_members(store)
        assert _log_kinds(other) == ["member_import"]
        payload = json.loads(_rows(other, schema.record_log)[0]["payload"])
        assert payload == {"count": 2, "cards": ["BJ000123", "BJ12345678"]}
    finally:
        other.close()


MALFORMED = "\n".join(
    [
        HEADER,
        "BJ000200,赵先生,13800000001,京A00001,2026-01-01,2026-12-31,380,",
        "BJ000201,钱先生,13800000002,京A00002,2026-02-30,2026-12-31,380,",  # line 3: no such day
        "BJ000202,孙先生,13800000003,京A00003,2026-01-01,2026-12-31,380,",
        ",李先生,13800000004,京A00004,2026-01-01,2026-12-31,380,",  # line 5: no card
        "BJ000206,周先生,13800000006,京A00006,2026-01-01,2026-12-31,380,",
    ]
)


def test_a_malformed_csv_names_each_bad_cell_and_imports_nothing(store: EventStore) -> None:
    with pytest.raises(ImportRefusedError) as refused:
        import_csv(store, MALFORMED, user="anna", at_s=1.0e9)
    error = refused.value
    assert [(e.line, e.column) for e in error.errors] == [(3, "valid_from"), (5, "card_no")]
    assert error.field == "line 3, column valid_from; line 5, column card_no"
    assert error.value == "2026-02-30"
    assert "YYYY-MM-DD" in error.reason
    assert error.errors[1].to_json()["message"] == "is required"
    assert register.member_count(store) == 0 and _log_kinds(store) == []  # nothing of it


def test_duplicate_cards_in_the_file_or_the_register_refuse_the_import(store: EventStore) -> None:
    add_member(store, LI, user="anna", at_s=1.0e9)
    text = "\n".join(
        [
            HEADER,
            "BJ000300,a,13800000001,京A00001,2026-01-01,2026-12-31,380,",
            "BJ-000300,b,13800000002,京A00002,2026-01-01,2026-12-31,380,",  # same card
            "BJ12345678,c,13800000003,京A00003,2026-01-01,2026-12-31,380,",  # in the register
            "BJ000301,d,13800000004,京A00004,2026-01-01,2026-12-31,380",  # a column short
        ]
    )
    with pytest.raises(ImportRefusedError) as refused:
        import_csv(store, text, user="anna", at_s=1.0e9)
    assert [(e.line, e.column, e.reason_id) for e in refused.value.errors] == [
        (3, "card_no", "is in the file twice (first on line {line})"),
        (4, "card_no", "already in the member register"),
        (5, "receipt_no", "expected {count} columns, found {found}"),
    ]
    assert refused.value.errors[0].params == {"line": 2}
    assert register.member_count(store) == 1
    with pytest.raises(ImportRefusedError) as refused:
        import_csv(store, "card,name\nBJ000300,a\n", user="anna", at_s=1.0e9)
    assert refused.value.field == "line 1, column header"


# ---------------------------------------------------------------------------- card check
@pytest.mark.parametrize(
    ("card", "plate", "day", "status"),
    [
        ("BJ000123", "京N12345", "2026-01-01", "valid"),  # the first day
        ("BJ000123", "京N12345", TODAY, "valid"),  # the last day is included
        ("bj-000123", "京n·12345", TODAY, "valid"),  # typed as a dispatcher types
        ("BJ000123", None, TODAY, "valid"),  # no plate yet: the card alone
        ("BJ000123", "京N12345", "2026-11-26", "expired"),  # the day after
        ("BJ000123", "京N12345", "2025-12-31", "expired"),  # the day before
        ("BJ000123", "京B54321", TODAY, "plate_not_on_card"),
        ("BJ000124", "京N12345", TODAY, "unknown"),
    ],
)
def test_card_check_by_status_with_inclusive_dates(
    store: EventStore, card: str, plate: str | None, day: str, status: str
) -> None:
    add_member(store, WANG, user="anna", at_s=1.0e9)
    check = card_check(store, card, plate, dt.date.fromisoformat(day))
    assert check.status == status
    assert check.card_no == card.upper().replace("-", "")
    if status == "unknown":
        assert check.name is None and check.valid_to is None
    else:
        assert (check.name, check.valid_to) == ("王先生", TODAY)


def test_card_check_lines_for_the_dispatcher(store: EventStore) -> None:
    add_member(store, WANG, user="anna", at_s=1.0e9)
    day = dt.date(2026, 11, 25)
    lines = {
        "valid": card_check(store, "BJ000123", "京N12345", day).script_en,
        "expired": card_check(store, "BJ000123", "京N12345", day.replace(day=26)).script_en,
        "plate": card_check(store, "BJ000123", "京B54321", day).script_en,
        "unknown": card_check(store, "BJ000999", None, day).script_en,
    }
    assert lines == {
        "valid": "Member card valid and the plate matches: 王先生, valid until 2026-11-25; "
        "member prices apply.",
        "expired": "Your membership expired on 2026-11-25; you can renew now for 380 yuan, "
        "effective at once, or we serve you at non-member prices.",
        "plate": "Card BJ000123 is valid, but the plate 京B54321 is not on it; member prices "
        "apply to the cars on the card only.",
        "unknown": "We cannot find card BJ000999 in the member register; please check the "
        "number. You can also join now for 380 yuan, effective at once.",
    }
    zh = card_check(store, "BJ000123", "京N12345", day).script_zh
    assert zh and "王先生" in zh and "2026-11-25" in zh
    with pytest.raises(InputError) as error:
        card_check(store, "card?", None, day)
    assert error.value.field == "member_card"


# ---------------------------------------------------------------------------- intake
def _items(answer: dict[str, Any]) -> dict[str, float]:
    return {i["code"]: i["fee_yuan"] for i in answer["job"]["quote"]["items"]}


def _tow_call(make_call: MakeCall, **fields: Any) -> dict[str, Any]:
    """A non-member's call at Tiananmen: engine failure, towed 20 road km."""
    call = make_call(
        fault="engine_failure",
        member=False,
        member_card=None,
        vehicle={"plate": "京Q67890", "model": "Buick", "colour": "white"},
        caller={"name": "赵女士", "phone": "13712345678"},
        tow_destination=TOW_20_KM,
        customer_need="tow",
    )
    return {**call, **fields}


def test_join_now_is_priced_as_a_member_and_enrolled_with_the_intake(
    center: DispatchCenter, store: EventStore, make_call: MakeCall
) -> None:
    # Without joining, the non-member pays the call-out fee and 15 yuan a km.
    plain = center.intake(_tow_call(make_call), user="anna")
    assert plain["job"]["quote"]["billed_tow_km"] == 20
    assert _items(plain) == {"callout": 100.0, "tow_km": 20 * 15.0}
    assert plain["job"]["quote"]["join_offer"]["member_total_yuan"] == 40.0
    events_before = store.event_count()

    answer = center.intake(_tow_call(make_call, join_now=True), user="anna")
    job = answer["job"]
    quote = job["quote"]
    assert quote["member"] is True and quote["billed_tow_km"] == 20
    assert _items(answer) == {"on_site_service": 0.0, "tow_free_km": 0.0, "tow_extra_km": 40.0}
    assert quote["total_yuan"] == (20 - 15) * 8 == 40.0  # no call-out fee
    enrolment = answer["enrolment"]
    card = "BJ202611250001"  # issued: no card was given
    assert enrolment == {
        "card_no": card,
        "receipt_no": "R20261125-0001",
        "valid_from": TODAY,
        "valid_to": "2027-11-24",  # 365 days, both ends included
        "fee_paid_yuan": 380.0,
        "renewal": False,
        "issued": True,
    }
    assert job["member"] is True and job["member_card"] == card
    # One event: the intake, with the enrolment, in the same transaction as the member.
    assert store.event_count() == events_before + 1
    event = list(store.events())[-1]
    assert event.payload["data"]["member"] is True and "join_now" not in event.payload["data"]
    assert event.payload["enrolment"]["card_no"] == card
    member = register.get_member(store, card)
    assert member is not None
    assert member.enrolled_job_id == job["id"] and member.receipt_no == "R20261125-0001"
    assert member.phones == ("13712345678",) and member.plates == ("京Q67890",)
    assert member.fee_paid_yuan == load_record_rules().membership_yuan == 380
    logs = [r for r in _rows(store, schema.record_log) if r["kind"] == "member_enrol"]
    assert [(r["job_id"], r["card_no"]) for r in logs] == [(job["id"], card)]
    jobs = {r["job_id"]: r for r in _rows(store, schema.jobs)}
    assert jobs[job["id"]]["member"] is True and jobs[job["id"]]["member_card"] == card
    assert jobs[job["id"]]["total_yuan"] == 40.0
    # The new card is valid at once: the next call is a member's.
    again = center.intake(
        _tow_call(
            make_call,
            member=True,
            member_card=card,
            fault_category="flat_battery",
            tow_destination=None,
        ),
        user="anna",
    )
    assert again["job"]["quote"]["total_yuan"] == 0.0
    # A second join on the day gets the next numbers.
    second = center.intake(
        _tow_call(make_call, join_now=True, vehicle={"plate": "京Q67891"}), user="anna"
    )
    assert (second["enrolment"]["card_no"], second["enrolment"]["receipt_no"]) == (
        "BJ202611250002",
        "R20261125-0002",
    )


def test_join_now_with_the_card_handed_over_or_an_expired_card_renewed(
    center: DispatchCenter, store: EventStore, make_call: MakeCall
) -> None:
    answer = center.intake(_tow_call(make_call, join_now=True, member_card="bj-77001122"), user="a")
    assert answer["enrolment"]["card_no"] == "BJ77001122" and not answer["enrolment"]["issued"]
    add_member(store, {**WANG, "valid_to": "2026-11-24"}, user="anna", at_s=1.0e9)  # expired
    renewed = center.intake(
        _tow_call(make_call, join_now=True, member_card="BJ000123", vehicle={"plate": "京N12345"}),
        user="anna",
    )
    assert renewed["enrolment"]["renewal"] is True
    member = register.get_member(store, "BJ000123")
    assert member is not None
    assert (member.valid_from, member.valid_to) == (TODAY, "2027-11-24")
    assert member.receipt_no == renewed["enrolment"]["receipt_no"] == "R20261125-0002"
    # A card valid today cannot join again.
    with pytest.raises(InputError, match="is a valid card") as error:
        center.intake(_tow_call(make_call, join_now=True, member_card="BJ000123"), user="anna")
    assert error.value.field == "member_card"


def test_a_refused_intake_writes_neither_the_call_nor_the_member(
    center: DispatchCenter, store: EventStore, make_call: MakeCall
) -> None:
    events = store.event_count()
    for bad in (
        {"fault_category": "alien_abduction"},
        {"location": [0.0, 0.0]},
        {"caller": {"name": "赵女士", "phone": "123"}},
    ):
        with pytest.raises(InputError):
            center.intake(_tow_call(make_call, join_now=True, **bad), user="anna")
    assert store.event_count() == events
    assert register.member_count(store) == 0 and _log_kinds(store) == []


def test_the_enrolment_and_the_intake_commit_together_or_not_at_all(
    center: DispatchCenter, store: EventStore, make_call: MakeCall, monkeypatch: Any
) -> None:
    def broken_log(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(enrolment, "log_change", broken_log)  # fails after the member's insert
    with pytest.raises(StoreError):
        center.intake(_tow_call(make_call, join_now=True), user="anna")
    assert store.event_count() == 0 and register.member_count(store) == 0
    assert _rows(store, schema.jobs) == [] and center.board.jobs == {}


def test_a_member_price_needs_a_valid_card(
    center: DispatchCenter, store: EventStore, make_call: MakeCall
) -> None:
    # An empty register: the card is unknown, and the member price refused.
    with pytest.raises(InputError, match="member_card"):
        center.intake(make_call(), user="anna")
    assert store.event_count() == 0
    add_member(store, WANG, user="anna", at_s=1.0e9)
    warnings = center.intake(make_call(), user="anna")["warnings"]  # valid today, its last day
    assert warnings == []
    events = store.event_count()
    refusals = {
        "is not in the member register: check the number": make_call(member_card="BJ000999"),
        "the plate 京B54321 is not on this card (its plates: 京A12345, 京N12345)": make_call(
            vehicle={"plate": "京B54321", "model": "x", "colour": "y"}
        ),
    }
    for reason, call in refusals.items():
        with pytest.raises(InputError) as error:
            center.intake(call, user="anna")
        assert error.value.field == "member_card" and error.value.reason.startswith(reason)
    with store.engine.begin() as connection:
        connection.execute(
            update(schema.members)
            .where(schema.members.c.card_no == "BJ000123")
            .values(valid_to="2026-11-24")
        )
    with pytest.raises(InputError, match="expired on 2026-11-24") as error:
        center.intake(make_call(), user="anna")
    assert error.value.field == "member_card"
    assert store.event_count() == events  # refusals store nothing


def test_replay_does_not_check_cards_again(
    store: EventStore, geo: Geo, clock: ManualClock, make_call: MakeCall
) -> None:
    center = DispatchCenter.open(store=store, geo=geo, rules=load_business_rules(), clock=clock)
    add_member(store, WANG, user="anna", at_s=1.0e9)
    job_id = center.intake(make_call(), user="anna")["job"]["id"]
    with store.engine.begin() as connection:  # the card expires later (or is removed)
        connection.execute(update(schema.members).values(valid_to="2026-01-31"))
    again = DispatchCenter.open(store=store, geo=geo, rules=load_business_rules(), clock=clock)
    assert again.replay_report == {"events": 1, "skipped": []}
    assert again.board.jobs[job_id].intake.member is True


def test_the_simulation_enrols_its_members(center: DispatchCenter, store: EventStore) -> None:
    add_member(store, LI, user="anna", at_s=1.0e9)  # the register is in use: cards checked
    sim = Simulation(center, SimConfig(seed=5, member_share=1.0, first_call_after_s=1e9))
    jobs = [sim.call(center.now()) for _ in range(4)]
    assert all(jobs) and sim.stats["call_refused"] == 0
    assert sim.stats["members_registered"] == 4
    for job_id in jobs:
        assert job_id is not None
        card = center.board.jobs[job_id].intake.member_card
        assert card is not None
        check = card_check(store, card, center.board.jobs[job_id].intake.vehicle.plate, TODAY)
        assert check.status == "valid"


# ---------------------------------------------------------------------------- command line
def _cli(capsys: Any, *words: str) -> tuple[int, Any, str]:
    code = rescue_main(["--lang", "en", *words])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip().startswith("{") else out), err


def test_member_commands(tmp_path: Path, capsys: Any) -> None:
    db = str(tmp_path / "cli.sqlite")
    code, added, _ = _cli(
        capsys,
        "member", "add", "--card", "BJ-000123", "--name", "王先生", "--phone", "13800138000",
        "--plate", "京N12345", "--plate", "京A12345", "--valid-from", "2026-01-01",
        "--valid-to", TODAY, "--fee", "380", "--db", db,
    )  # fmt: skip
    assert code == 0 and added["member"]["plates"] == ["京A12345", "京N12345"]
    code, shown, _ = _cli(capsys, "member", "show", "BJ000123", "--plate", "京A12345",
                          "--day", TODAY, "--db", db)  # fmt: skip
    assert code == 0 and shown["status"] == "valid" and shown["member"]["name"] == "王先生"
    code, shown, _ = _cli(capsys, "member", "show", "BJ000999", "--day", TODAY, "--db", db)
    assert code == 0 and shown["status"] == "unknown" and shown["member"] is None
    assert shown["script"].startswith("We cannot find card BJ000999")
    code, text, _ = _cli(capsys, "member", "export", "--db", db)
    assert code == 0 and text.splitlines()[0] == HEADER
    bad = tmp_path / "bad.csv"
    bad.write_text(MALFORMED, encoding="utf-8")
    code, _, err = _cli(capsys, "member", "import", str(bad), "--db", db)
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[0].startswith("line 3, column valid_from: ")
    assert lines[1] == "line 5, column card_no: is required"
    assert json.loads(lines[-1])["field"] == "line 3, column valid_from; line 5, column card_no"
    good = tmp_path / "good.csv"
    good.write_text(MALFORMED.replace("2026-02-30", "2026-02-28").replace("\n,", "\nBJ000204,"))
    code, imported, _ = _cli(capsys, "member", "import", str(good), "--db", db)
    assert code == 0 and imported["imported"] == 5
    code, _, err = _cli(capsys, "member", "add", "--card", "BJ000123", "--name", "x",
                        "--plate", "京N12345", "--valid-from", TODAY, "--valid-to", TODAY,
                        "--fee", "0", "--db", db)  # fmt: skip
    assert code == 2 and json.loads(err)["field"] == "card_no"


# ---------------------------------------------------------------------------- web
@pytest.fixture
def web(
    new_app: Callable[..., Flask], login: Callable[..., FlaskClient], tmp_path: Path
) -> tuple[Flask, FlaskClient, str]:
    app = new_app(tmp_path / "web.sqlite")
    client = login(app)
    page = client.get("/records/members").get_data(as_text=True)
    config = re.search(r'<script id="page-config" type="application/json">(.*?)</script>', page)
    assert config is not None
    return app, client, json.loads(config.group(1))["csrf_token"]


def test_members_page_adds_searches_and_checks(web: tuple[Flask, FlaskClient, str]) -> None:
    app, client, token = web
    page = client.get("/records/members")
    assert page.status_code == 200 and "members.js" in page.get_data(as_text=True)
    headers = {"X-CSRFToken": token}
    added = client.post("/api/members", json=SUN, headers=headers)
    assert added.status_code == 200 and added.json["member"]["card_no"] == "BJ000777"
    refused = client.post("/api/members", json={**SUN, "valid_to": "2026-13-01"}, headers=headers)
    assert refused.status_code == 400 and refused.json["error"]["field"] == "valid_to"
    assert client.post("/api/members", json=SUN).status_code == 400  # no CSRF token
    found = client.get("/api/members?q=京Q77777").json
    assert [m["card_no"] for m in found["members"]] == ["BJ000777"]
    checked = client.get("/api/members/check?card=bj-000777&plate=京Q77777").json
    assert checked["ok"] and checked["status"] == "valid" and checked["valid_to"] == TODAY
    other = client.get("/api/members/check?card=BJ000777&plate=京B54321").json
    assert other["status"] == "plate_not_on_card"
    unknown = client.get("/api/members/check?card=BJ999999").json
    assert unknown["ok"] and unknown["status"] == "unknown"
    bad = client.get("/api/members/check?card=what")
    assert bad.status_code == 400 and bad.json["error"]["field"] == "member_card"
    assert app.test_client().get("/api/members/check?card=BJ000123").status_code in (302, 401)
    index = client.get("/").get_data(as_text=True)
    assert 'id="join-now"' in index and 'data-fee="380"' in index
