"""The live map's server: login, every Socket.IO event with good and bad payloads,
versioned drags, broadcasts to other dispatchers, and a restart that rebuilds the state
from the store. Real Beijing network and fleet, Flask-SocketIO's test client."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient

from geo.coords import wgs84_to_gcj02
from geo.i18n import catalogue, translate
from geo.router import Snap
from optimizer.dispatch.model import JobState
from optimizer.dispatch.rules import Rules
from records.store import EventStore
from rescue.cli import main
from webmap.app import Runtime, socketio
from webmap.auth import FIRST_LOGIN_FILE, ensure_first_user
from webmap.clock import ManualClock
from webmap.layers import MAIN_ROADS
from webmap.positions import read_positions_batch

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
Login = Callable[[Flask], FlaskClient]  # the ``login`` fixture
Connect = Callable[[Flask], SocketIOTestClient]  # the ``connect`` fixture
PostLogin = Callable[[FlaskClient, str, str], Any]  # the ``post_login`` fixture
FAR_NORTH_WEST = (116.15, 40.05)  # between the 5th and 6th rings, far from the bases
NEAR_CENTRE = (116.4035, 39.9050)  # a few hundred metres east of Tiananmen


@pytest.fixture
def make_app(new_app: Callable[..., Flask], tmp_path: Path) -> Callable[..., Flask]:
    """``make_app(**config)``: an app on ``tmp_path/dispatch.sqlite`` (same store each time)."""

    def make(**config: Any) -> Flask:
        return new_app(tmp_path / "dispatch.sqlite", **config)

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


def _rt(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["rescue"]
    return runtime


def _drain(sio: SocketIOTestClient) -> dict[str, list[Any]]:
    """Everything the client received since the last call, by event name."""
    by_name: dict[str, list[Any]] = {}
    for message in sio.get_received():
        by_name.setdefault(message["name"], []).append(message["args"][0])
    return by_name


def _travel_s(app: Flask, origin: Snap, dest: Snap) -> float:
    """Road travel time now (the tests' clock is in the daytime band)."""
    geo = _rt(app).center.geo
    return float(geo.router.travel_times_from(origin, [dest], band="daytime")[0])


def _state(app: Flask) -> dict[str, Any]:
    """The live state without the clock fields, for before/after comparisons."""
    snapshot = _rt(app).center.snapshot()
    for key in ("now_s", "server_time"):
        snapshot.pop(key)
    return snapshot


def _intake(sio: SocketIOTestClient, call: dict[str, Any]) -> dict[str, Any]:
    ack = sio.emit("intake", call, callback=True)
    assert ack["ok"], ack
    return ack


def _dispatched(sio: SocketIOTestClient, call: dict[str, Any]) -> dict[str, Any]:
    """``call`` registered and confirmed on its proposed best truck; returns the job."""
    ack = _intake(sio, call)
    job, best = ack["job"], ack["proposal"]["best"]["truck"]
    answer = sio.emit(
        "dispatch",
        {"job_id": job["id"], "truck_id": best, "version": job["version"]},
        callback=True,
    )
    assert answer["ok"], answer
    return answer["job"]


def _other_truck(app: Flask, job: dict[str, Any], kind: str) -> str:
    trucks = _rt(app).center.board.trucks
    return next(t.id for t in trucks.values() if t.kind == kind and t.id != job["truck_id"])


def _refused(
    sio: SocketIOTestClient, event: str, payload: Any, field: str | None
) -> dict[str, Any]:
    """Send, expect ``ok: false`` and exactly one ``error`` event naming ``field``."""
    ack = sio.emit(event, payload, callback=True)
    assert ack["ok"] is False, ack
    errors = _drain(sio).get("error", [])
    assert errors == [ack["error"]]
    error = errors[0]
    assert error["event"] == event
    assert error["field"] == field, error
    assert error["message"]
    # The message is in the dispatcher's language (Chinese unless chosen), with the
    # catalogue's English text and its params beside it.
    assert error["message_id"] in catalogue("zh") or error["field"] is None, error
    assert isinstance(error["params"], dict)
    if error["message_id"] in catalogue("zh"):
        assert error["message"] != _english(error), error
    return error


def _english(error: dict[str, Any]) -> str:
    """A refusal's message in English (``message_id`` with its ``params``)."""
    return translate(error["message_id"], "en", **error["params"])


# ---------------------------------------------------------------------------- login
def test_pages_and_api_need_a_login(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/").status_code == 302
    assert client.get("/api/state").status_code == 401
    assert client.get("/api/roads.geojson").status_code == 401
    assert client.get("/healthz").status_code == 200


def test_wrong_password_is_refused(app: Flask, user: str, post_login: PostLogin) -> None:
    response = post_login(app.test_client(), user, "nope")
    assert response.status_code == 401
    assert translate("Unknown user or wrong password.", "zh").encode() in response.data


def test_socket_connection_without_login_is_refused(
    app: Flask, user: str, post_login: PostLogin
) -> None:
    anonymous = socketio.test_client(app, flask_test_client=app.test_client())
    assert not anonymous.is_connected()
    wrong = app.test_client()
    post_login(wrong, user, "nope")
    assert not socketio.test_client(app, flask_test_client=wrong).is_connected()


def test_logged_in_client_gets_the_whole_state(app: Flask, login: Login) -> None:
    client = login(app)
    assert client.get("/").status_code == 200
    sio = socketio.test_client(app, flask_test_client=client)
    assert sio.is_connected()
    [state] = _drain(sio)["state"]
    assert len(state["trucks"]) == 46
    assert state["jobs"] == [] and state["alerts"] == []
    assert state["band"] == "daytime"
    truck = state["trucks"][0]
    assert {"id", "kind", "state", "position", "queue", "route"} <= set(truck)


def test_user_add_reads_the_password_from_stdin(tmp_path, monkeypatch, capsys) -> None:
    db = tmp_path / "users.sqlite"
    monkeypatch.setattr("sys.stdin", _Stdin("s3cret-enough\n"))
    assert main(["user", "add", "bo", "--db", str(db)]) == 0
    assert EventStore(db).check_user("bo", "s3cret-enough")
    monkeypatch.setattr("sys.stdin", _Stdin("short\n"))
    assert main(["user", "add", "cy", "--db", str(db)]) == 2
    assert "at least 8" in capsys.readouterr().err


class _Stdin:
    def __init__(self, text: str) -> None:
        self.text = text

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self.text


# ---------------------------------------------------------------------------- intake
def test_intake_answers_triage_quote_and_proposal_and_reaches_everyone(
    app: Flask, make_call: MakeCall, centre: tuple[float, float], connect: Connect
) -> None:
    first, second = connect(app), connect(app)
    ack = first.emit(
        "intake",
        make_call(
            centre,
            "engine_failure",
            member=False,
            member_card=None,
            customer_need="tow to a garage",
        ),
        callback=True,
    )
    assert ack["ok"], ack
    job, proposal = ack["job"], ack["proposal"]
    assert job["id"] == "J00001" and job["version"] == 1 and job["state"] == "received"
    assert job["required_kind"] == "flatbed"  # engine failure: cannot be fixed on the spot
    assert job["placement"]["zone"] == "inside_5th_ring"
    assert job["tow_destination_name"]  # nearest group shop (§4)
    quote = job["quote"]
    codes = [item["code"] for item in quote["items"]]
    assert codes[0] == "callout" and "tow_km" in codes  # non-member inside the 5th ring
    assert quote["items"][0]["fee_yuan"] == 100
    assert quote["script_zh"] and quote["script_en"]
    best = proposal["best"]
    assert best["kind"] == "flatbed" and best["eta_min"] > 0
    assert proposal["status"] in ("on_time", "at_risk", "late")
    assert proposal["script_zh"] and proposal["script_en"]
    assert 1 < len(proposal["candidates"]) <= 6
    assert job["promise"]["status"] == proposal["status"]
    [update] = _drain(second)["job_updated"]
    assert update["id"] == "J00001" and update["version"] == 1
    assert _rt(app).store.event_count() == 1


NOT_CALLS: list[tuple[Any, str]] = [
    ("not an object", "payload"),
    ({"vehicle": {"plate": "A"}, "member": True}, "caller"),
]
# Fields that spoil an otherwise valid call, and the field the error names.
BAD_CALL_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"caller": {"name": "王先生"}}, "caller.phone"),
    ({"location": "116.4,39.9"}, "location"),
    ({"location": [39.9087, 116.3975]}, "location"),  # lat, lon swapped
    ({"location": [120.0, 30.0]}, "location"),  # Hangzhou: off the network
    ({"fault_category": "alien_abduction"}, "fault_category"),
    ({"member": "yes"}, "member"),
    ({"member_card": None}, "member_card"),  # a member must give the card number
    ({"crs": "bd09"}, "crs"),
    ({"insurer": "acme"}, "insurer"),
]


@pytest.mark.parametrize(("payload", "field"), NOT_CALLS)
def test_a_payload_that_is_not_a_call_is_refused_and_nothing_changes(
    app: Flask, connect: Connect, payload: Any, field: str
) -> None:
    _bad_intake_is_refused_and_nothing_changes(app, connect(app), payload, field)


@pytest.mark.parametrize(("fields", "field"), BAD_CALL_FIELDS)
def test_bad_intake_is_refused_and_nothing_changes(
    app: Flask, connect: Connect, make_call: MakeCall, fields: dict[str, Any], field: str
) -> None:
    _bad_intake_is_refused_and_nothing_changes(app, connect(app), make_call(**fields), field)


def _bad_intake_is_refused_and_nothing_changes(
    app: Flask, sio: SocketIOTestClient, payload: Any, field: str
) -> None:
    before = _state(app)
    error = _refused(sio, "intake", payload, field)
    assert error["field"].startswith(field.split(".", maxsplit=1)[0])
    assert _state(app) == before
    assert _rt(app).store.event_count() == 0


def test_intake_with_gcj02_location_lands_where_the_wgs84_one_does(
    app: Flask, make_call: MakeCall, centre: tuple[float, float], connect: Connect
) -> None:
    sio = connect(app)
    lon, lat = (float(v) for v in wgs84_to_gcj02(*centre))
    job_gcj = _intake(sio, make_call(centre, location=[lon, lat], crs="gcj02"))["job"]
    job_wgs = _intake(sio, make_call(centre))["job"]
    assert job_gcj["location"] == pytest.approx(job_wgs["location"], abs=1e-6)


# ---------------------------------------------------------------------------- commands
def test_dispatch_puts_the_job_on_the_truck_and_draws_its_route(
    app: Flask, make_call: MakeCall, connect: Connect
) -> None:
    sio, other = connect(app), connect(app)
    job = _dispatched(sio, make_call())
    assert job["state"] == "assigned" and job["version"] == 2
    received = _drain(other)
    assert [j["state"] for j in received["job_updated"]] == ["received", "assigned"]
    [truck] = received["truck_updated"]
    assert truck["id"] == job["truck_id"] and truck["queue"] == [job["id"]]
    route = truck["route"]
    assert route["purpose"] == "to_scene" and route["moving"] is False
    assert route["geometry"]["type"] == "LineString" and len(route["geometry"]["coordinates"]) > 2


BAD_COMMANDS: list[tuple[str, Any, str | None]] = [
    ("dispatch", {"truck_id": "T01"}, "job_id"),
    ("dispatch", {"job_id": "J00001"}, "truck_id"),
    ("dispatch", {"job_id": 1, "truck_id": "T01"}, "job_id"),
    ("dispatch", {"job_id": "J99999", "truck_id": "T01"}, "job_id"),
    ("dispatch", {"job_id": "J00001", "truck_id": "T99"}, "truck_id"),
    ("dispatch", {"job_id": "J00001", "truck_id": "T01", "version": "1"}, "version"),
    ("dispatch", ["J00001", "T01"], "payload"),
    ("dispatch", {"job_id": "J00001", "truck_id": "T01", "eta_at_s": "soon"}, "eta_at_s"),
    ("dispatch", {"job_id": "J00001", "truck_id": "T01", "eta_s": [1]}, "eta_s"),
    ("dispatch", {"job_id": "J00001", "truck_id": "T01", "eta_s": False}, "eta_s"),
    ("dispatch", {"job_id": "J00001", "truck_id": "T01", "status": 1}, "status"),
    ("dispatch", {"job_id": "J00001", "truck_id": "T01", "status": "fine"}, "status"),
    ("reassign", {"job_id": "J00001", "truck_id": "T01"}, "version"),
    ("reassign", {"job_id": "J00001", "truck_id": "T01", "version": True}, "version"),
    ("advance", {"job_id": "J00001", "version": 1}, "state"),
    ("advance", {"job_id": "J00001", "state": "teleported", "version": 1}, "state"),
    ("advance", {"job_id": "J00001", "state": "fixed", "version": 1}, "state"),
    ("advance", {"job_id": "J00001", "state": ["closed"], "version": 1}, "state"),
    ("convert_to_tow", {"job_id": "J00001"}, "job_id"),  # not on scene
    ("convert_to_tow", {"job_id": "J00001", "destination": "shop"}, "destination"),
    ("convert_to_tow", {"job_id": "J00001", "destination": [1, 2, 3]}, "destination"),
    ("truck_duty", {"truck_id": "T01"}, "on_duty"),
    ("truck_duty", {"truck_id": "T01", "on_duty": "no"}, "on_duty"),
    ("truck_duty", {"truck_id": "T404", "on_duty": False}, "truck_id"),
    ("propose", {"job_id": None}, "job_id"),
    ("propose", 42, "payload"),
    ("replan", {"time_limit_s": "soon"}, "time_limit_s"),
    ("replan", {"time_limit_s": -1}, "time_limit_s"),
    ("replan", {"time_limit_s": 3600}, "time_limit_s"),
]


@pytest.mark.parametrize(("event", "payload", "field"), BAD_COMMANDS)
def test_bad_command_is_refused_and_nothing_changes(
    app: Flask, event: str, payload: Any, field: str | None, make_call: MakeCall, connect: Connect
) -> None:
    sio = connect(app)
    _intake(sio, make_call())  # J00001, received, version 1
    _drain(sio)
    before, stored = _state(app), _rt(app).store.event_count()
    _refused(sio, event, payload, field)
    assert _state(app) == before
    assert _rt(app).store.event_count() == stored


def test_dispatch_to_a_truck_of_the_wrong_kind_says_why(
    app: Flask, make_call: MakeCall, connect: Connect
) -> None:
    sio = connect(app)
    job = _intake(sio, make_call(fault="gearbox_failure"))["job"]
    service = next(t.id for t in _rt(app).center.board.trucks.values() if t.kind == "service")
    error = _refused(sio, "dispatch", {"job_id": job["id"], "truck_id": service}, "truck_id")
    assert "service truck" in _english(error) and "flatbed" in _english(error)


def test_drag_to_another_truck_reaches_every_dispatcher(
    app: Flask, clock: ManualClock, make_call: MakeCall, connect: Connect
) -> None:
    sio, other = connect(app), connect(app)
    job = _dispatched(sio, make_call())
    old_truck = job["truck_id"]
    new_truck = _other_truck(app, job, "service")
    _drain(other)
    clock.advance(30)
    ack = sio.emit(
        "reassign",
        {"job_id": job["id"], "truck_id": new_truck, "version": job["version"]},
        callback=True,
    )
    assert ack["ok"], ack
    assert ack["job"]["truck_id"] == new_truck and ack["job"]["version"] == job["version"] + 1
    seen = _drain(other)
    assert seen["job_updated"][-1]["truck_id"] == new_truck
    trucks = {t["id"]: t for t in seen["truck_updated"]}
    assert trucks[old_truck]["queue"] == [] and trucks[old_truck]["route"] is None
    assert trucks[new_truck]["queue"] == [job["id"]]


def test_two_dispatchers_drag_the_same_job_the_second_is_told(
    app: Flask, clock: ManualClock, make_call: MakeCall, user: str, connect: Connect
) -> None:
    first, second = connect(app), connect(app)
    job = _dispatched(first, make_call())
    seen_version = job["version"]
    _drain(second)
    to_first = _other_truck(app, job, "service")
    to_second = _other_truck(app, {"truck_id": to_first}, "flatbed")
    clock.advance(10)
    ok = first.emit(
        "reassign",
        {"job_id": job["id"], "truck_id": to_first, "version": seen_version},
        callback=True,
    )
    assert ok["ok"]
    error = _refused(
        second,
        "reassign",
        {"job_id": job["id"], "truck_id": to_second, "version": seen_version},
        "version",
    )
    assert f"is at version {seen_version + 1}" in _english(error)
    assert f"reassign by {user}" in _english(error)
    assert _rt(app).center.board.jobs[job["id"]].truck_id == to_first


def test_invalid_drag_is_refused_with_its_reason(
    app: Flask, make_call: MakeCall, connect: Connect
) -> None:
    sio = connect(app)
    job = _dispatched(sio, make_call(fault="engine_failure"))  # on a flatbed
    service = _other_truck(app, job, "service")
    error = _refused(
        sio,
        "reassign",
        {"job_id": job["id"], "truck_id": service, "version": job["version"]},
        "truck_id",
    )
    assert "needs a flatbed" in _english(error)
    same = _refused(
        sio,
        "reassign",
        {"job_id": job["id"], "truck_id": job["truck_id"], "version": job["version"]},
        "truck_id",
    )
    assert "already on this truck" in _english(same)


def test_advance_through_the_states_and_refuse_a_skip(
    app: Flask, clock: ManualClock, make_call: MakeCall, connect: Connect
) -> None:
    sio = connect(app)
    job = _dispatched(sio, make_call())
    for state in ("en_route", "on_scene", "fixed", "closed"):
        clock.advance(60)
        ack = sio.emit(
            "advance",
            {"job_id": job["id"], "state": state, "version": job["version"]},
            callback=True,
        )
        assert ack["ok"], ack
        job = ack["job"]
        assert job["state"] == state
        if state == "en_route":
            truck = _rt(app).center.truck_json(job["truck_id"])
            assert truck["state"] == "en_route" and truck["route"]["moving"] is True
    assert _rt(app).center.active_job_ids() == []
    assert [h["state"] for h in job["history"]] == [
        "assigned",
        "en_route",
        "on_scene",
        "fixed",
        "closed",
    ]
    assert job["promise_kept"] is True
    stale = _refused(
        sio,
        "advance",
        {"job_id": job["id"], "state": "closed", "version": job["version"] - 1},
        "version",
    )
    assert "version" in _english(stale)


def test_convert_to_tow_on_a_service_truck_needs_a_flatbed(
    app: Flask, clock: ManualClock, make_call: MakeCall, connect: Connect
) -> None:
    sio = connect(app)
    job = _dispatched(sio, make_call(fault="flat_tyre"))
    truck_id = job["truck_id"]
    assert _rt(app).center.board.trucks[truck_id].kind == "service"
    for state in ("en_route", "on_scene"):
        clock.advance(120)
        job = sio.emit(
            "advance",
            {"job_id": job["id"], "state": state, "version": job["version"]},
            callback=True,
        )["job"]
    ack = sio.emit(
        "convert_to_tow", {"job_id": job["id"], "version": job["version"]}, callback=True
    )
    assert ack["ok"], ack
    job = ack["job"]
    assert job["state"] == "received" and job["required_kind"] == "flatbed"
    assert job["tow_destination_name"] and job["tow_km"] > 0
    assert any(item["code"].startswith("tow") for item in job["quote"]["items"])
    assert _rt(app).center.board.trucks[truck_id].queue == []
    proposal = sio.emit("propose", {"job_id": job["id"]}, callback=True)["proposal"]
    assert proposal["best"]["kind"] == "flatbed"


def test_truck_duty(app: Flask, make_call: MakeCall, connect: Connect) -> None:
    sio, other = connect(app), connect(app)
    ack = sio.emit("truck_duty", {"truck_id": "T01", "on_duty": False}, callback=True)
    assert ack["ok"] and ack["truck"]["state"] == "off_duty"
    assert _drain(other)["truck_updated"][0]["state"] == "off_duty"
    job = _dispatched(sio, make_call())
    busy = job["truck_id"]
    error = _refused(sio, "truck_duty", {"truck_id": busy, "on_duty": False}, "on_duty")
    assert "still has work" in _english(error)
    assert sio.emit("truck_duty", {"truck_id": "T01", "on_duty": True}, callback=True)["ok"]


def test_sync_sends_the_whole_state(app: Flask, make_call: MakeCall, connect: Connect) -> None:
    sio = connect(app)
    _dispatched(sio, make_call())
    _drain(sio)
    ack = sio.emit("sync", callback=True)
    assert ack["ok"]
    [state] = _drain(sio)["state"]
    assert [j["id"] for j in state["jobs"]] == ["J00001"]


def test_a_far_call_raises_a_promise_alert_with_reason_and_sentence(
    app: Flask, make_call: MakeCall, connect: Connect
) -> None:
    sio, other = connect(app), connect(app)
    ack = _intake(sio, make_call(FAR_NORTH_WEST, "engine_failure"))
    assert ack["proposal"]["status"] in ("at_risk", "late")
    [alert] = _drain(other)["promise_alert"]
    assert alert["job_id"] == ack["job"]["id"]
    assert alert["status"] == ack["proposal"]["status"]
    assert alert["reason"] in ("distance", "congestion", "all_suitable_busy")
    assert alert["script_zh"] and alert["script_en"] and alert["caller"]["phone"]
    state = _rt(app).center.snapshot()
    assert [a["job_id"] for a in state["alerts"]] == [ack["job"]["id"]]


def test_an_assigned_job_turns_late_as_time_passes(
    app: Flask, clock: ManualClock, make_call: MakeCall, connect: Connect
) -> None:
    sio, other = connect(app), connect(app)
    job = _dispatched(sio, make_call())
    _drain(other)
    clock.advance(39 * 60)  # the crew never left
    _rt(app).center.watch_promises()
    [alert] = _drain(other)["promise_alert"]
    assert alert["job_id"] == job["id"] and alert["status"] == "at_risk"
    clock.advance(2 * 60)
    _rt(app).center.watch_promises()
    [late] = _drain(other)["promise_alert"]
    assert late["status"] == "late"


def test_a_stale_proposal_is_refused_with_the_fresh_one_to_confirm_again(
    app: Flask,
    clock: ManualClock,
    make_call: MakeCall,
    centre: tuple[float, float],
    business_rules: Rules,
    connect: Connect,
) -> None:
    """The page proposed a truck; 12 s later the simulation gave that truck another job; the
    dispatcher's "Confirm" must not make the call late when another truck is free."""
    sio = connect(app)
    center = _rt(app).center
    board = center.board
    ack = _intake(sio, make_call(centre))
    job, shown = ack["job"], ack["proposal"]
    chosen, runner_up = shown["best"], shown["candidates"][1]
    assert chosen["status"] == "on_time" and chosen["wait_s"] == 0  # an idle truck near by
    clock.advance(12)
    other = center.intake(make_call(NEAR_CENTRE), user="sim")["job"]["id"]
    center.dispatch(other, chosen["truck"], user="sim")  # no ETA shown: taken as it is
    given_at = clock.now()
    _drain(sio)
    stored = _rt(app).store.event_count()
    # What the chosen truck needs now: prepare, drive to the other call, repair it, prepare,
    # drive back here.
    prep, service = business_rules.prep_s, business_rules.on_site_service_s
    here, there = board.jobs[job["id"]].snap, board.jobs[other].snap
    to_other = _travel_s(app, board.truck_snap(chosen["truck"]), there)
    back = _travel_s(app, there, here)
    expected_at = given_at + prep + to_other + service + prep + back
    later_min = math.ceil((expected_at - chosen["eta_at_s"]) / 60)
    assert expected_at - chosen["eta_at_s"] > 120  # the margin of rules.toml [dispatch]

    seen = {"eta_at_s": chosen["eta_at_s"], "status": chosen["status"]}
    payload = {"job_id": job["id"], "truck_id": chosen["truck"], "version": job["version"]}
    error = _refused(sio, "dispatch", {**payload, **seen}, "eta_at_s")
    assert error["value"] == chosen["eta_at_s"]
    assert f"{chosen['truck']} arrives {later_min} min later than shown" in _english(error)
    assert _english(error).endswith(
        f"the proposal shown was out of date; fresh proposal {runner_up['truck']}, "
        f"ETA {math.ceil(runner_up['eta_s'] / 60)} min, on_time: confirm again"
    )
    assert (error["job_id"], error["truck_id"]) == (job["id"], chosen["truck"])
    fresh = error["proposal"]
    stale_row = next(c for c in fresh["candidates"] if c["truck"] == chosen["truck"])
    assert stale_row["eta_at_s"] == pytest.approx(expected_at, abs=0.1)
    assert stale_row["wait_s"] == pytest.approx(expected_at - given_at - prep - back, abs=0.1)
    # The runner-up was idle and still is: it is the fresh proposal, same arrival.
    assert fresh["best"]["truck"] == runner_up["truck"]
    assert fresh["best"]["eta_at_s"] == pytest.approx(runner_up["eta_at_s"] + 12, abs=0.2)
    # Nothing changed, nothing stored.
    assert board.jobs[job["id"]].state == JobState.RECEIVED
    assert _rt(app).store.event_count() == stored
    # Confirm again, with the fresh proposal: accepted.
    best = fresh["best"]
    answer = sio.emit(
        "dispatch",
        {**payload, "truck_id": best["truck"], "eta_at_s": best["eta_at_s"], "status": "on_time"},
        callback=True,
    )
    assert answer["ok"], answer
    assert answer["job"]["truck_id"] == best["truck"] and answer["job"]["state"] == "assigned"


def test_a_call_nobody_dispatches_raises_an_alert_after_three_minutes(
    app: Flask, clock: ManualClock, make_call: MakeCall, connect: Connect
) -> None:
    sio, other = connect(app), connect(app)
    center = _rt(app).center
    job = _intake(sio, make_call())["job"]
    assert job["promise"]["status"] == "on_time" and job["promise"]["alerting"] is False
    _drain(other)
    clock.advance(179)
    center.watch_promises()
    assert "promise_alert" not in _drain(other)
    clock.advance(1)  # 3 minutes: rules.toml [promise] undispatched_alert_min
    center.watch_promises()
    seen = _drain(other)
    [alert] = seen["promise_alert"]
    assert alert["job_id"] == job["id"]
    assert (alert["status"], alert["reason"]) == ("on_time", "not_dispatched")
    assert alert["reasons"] == ["not_dispatched"] and alert["alerting"] is True
    assert alert["message"] == f"Job {job['id']} has waited 3 min without a truck"
    assert seen["job_updated"][-1]["promise"]["reason"] == "not_dispatched"
    assert [a["job_id"] for a in center.snapshot()["alerts"]] == [job["id"]]
    center.watch_promises()  # said once
    assert "promise_alert" not in _drain(other)
    # Dispatched: on time, no alert any more.
    fresh = sio.emit("propose", {"job_id": job["id"]}, callback=True)["proposal"]
    assert fresh["reasons"] == ["not_dispatched"]
    answer = sio.emit(
        "dispatch",
        {"job_id": job["id"], "truck_id": fresh["best"]["truck"], "version": job["version"]},
        callback=True,
    )
    assert answer["ok"] and answer["job"]["promise"]["alerting"] is False
    assert center.snapshot()["alerts"] == []


# ---------------------------------------------------------------------------- store
def test_restart_rebuilds_the_state_from_the_store(
    make_app: Callable[..., Flask], clock: ManualClock, make_call: MakeCall, connect: Connect
) -> None:
    app = make_app()
    sio = connect(app)
    moved = _dispatched(sio, make_call())
    towed = _dispatched(sio, make_call((116.45, 39.93), "engine_failure"))
    clock.advance(60)
    sio.emit(
        "reassign",
        {
            "job_id": moved["id"],
            "truck_id": _other_truck(app, moved, "service"),
            "version": moved["version"],
        },
        callback=True,
    )
    for state in ("en_route", "on_scene", "towing"):
        clock.advance(300)
        towed = sio.emit(
            "advance",
            {"job_id": towed["id"], "state": state, "version": towed["version"]},
            callback=True,
        )["job"]
    sio.emit("truck_duty", {"truck_id": "T46", "on_duty": False}, callback=True)
    _rt(app).center.move_trucks({"T46": (116.30, 40.0)})
    before = _state(app)
    _rt(app).close()

    again = make_app()
    report = _rt(again).center.replay_report
    assert report["events"] == _rt(again).store.event_count() and report["skipped"] == []
    after = _state(again)
    # Everything recorded comes back: states, trucks, queues, versions, history, quotes,
    # routes, positions. Promises are predictions, made again at the restart time.
    for job in before["jobs"] + after["jobs"]:
        assert job.pop("promise") or job["state"] not in ("received", "assigned", "en_route")
    assert after["jobs"] == before["jobs"]
    assert after["trucks"] == before["trucks"]
    sio2 = connect(again)
    ack = sio2.emit("intake", make_call(), callback=True)
    assert ack["job"]["id"] == "J00003"  # numbering goes on


def test_a_failing_store_refuses_the_command_and_keeps_the_state(
    app: Flask, monkeypatch, make_call: MakeCall, connect: Connect
) -> None:
    sio = connect(app)
    before = _state(app)

    def broken(*args: Any, **kwargs: Any) -> int:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(_rt(app).store, "append", broken)
    error = _refused(sio, "intake", make_call(), "store")
    assert "not stored" in _english(error)
    assert _state(app) == before


# ---------------------------------------------------------------------------- http
def test_layers_and_vendor_assets(app: Flask, login: Login) -> None:
    client = login(app)
    roads = client.get("/api/roads.geojson")
    assert roads.status_code == 200 and roads.mimetype == "application/geo+json"
    classes = {f["properties"]["highway"] for f in roads.json["features"]}
    assert {"motorway", "trunk", "primary", "secondary", "tertiary"} <= classes
    assert classes <= set(MAIN_ROADS)
    assert (
        client.get("/api/roads.geojson", headers={"If-None-Match": roads.get_etag()[0]}).status_code
        == 304
    )
    rings = client.get("/api/rings.geojson").json
    names = {f["properties"]["name:en"] for f in rings["features"]}
    assert {"5th Ring Road", "6th Ring Road"} <= names
    assert len(client.get("/api/shops.geojson").json["features"]) > 3
    for asset in ("/vendor/leaflet/leaflet.js", "/vendor/socket.io/socket.io.min.js"):
        with client.get(asset) as response:  # a file response: close the file
            assert response.status_code == 200
    assert client.get("/vendor/leaflet/../../package.json").status_code == 404
    assert client.get("/vendor/jquery/jquery.js").status_code == 404
    page = client.get("/").data.decode()
    assert "/vendor/leaflet/leaflet.js" in page and "cdn" not in page.lower()


def test_first_start_creates_the_dispatcher_login(tmp_path, password: str) -> None:
    store = EventStore(tmp_path / "db.sqlite")
    first = ensure_first_user(store, folder=tmp_path)
    assert first and store.check_user("dispatcher", first)
    text = (tmp_path / FIRST_LOGIN_FILE).read_text()
    assert first in text
    assert (tmp_path / FIRST_LOGIN_FILE).stat().st_mode & 0o077 == 0
    assert ensure_first_user(store, folder=tmp_path) is None  # only once
    assert password not in text


# ---------------------------------------------------------------------------- re-plan
def test_replan_plans_all_open_calls_and_every_dispatcher_sees_it(
    make_app: Callable[..., Flask], clock: ManualClock, make_call: MakeCall, connect: Connect
) -> None:
    app = make_app()
    sio, other = connect(app), connect(app)
    waiting = [
        _intake(sio, make_call(where))["job"]["id"] for where in ((116.45, 39.93), (116.33, 39.98))
    ]
    tow = _intake(sio, make_call((116.40, 39.88), "engine_failure"))["job"]["id"]
    _drain(other)
    ack = sio.emit("replan", {"time_limit_s": 1.0}, callback=True)
    assert ack["ok"], ack
    assert ack["unassigned"] == [] and sorted(ack["moved"]) == sorted([*waiting, tow])
    board = _rt(app).center.board
    assert all(board.jobs[j].state == JobState.ASSIGNED for j in [*waiting, tow])
    assert board.trucks[board.jobs[tow].truck_id].kind == "flatbed"
    updated = {j["id"] for j in _drain(other)["job_updated"]}
    assert set(ack["moved"]) <= updated
    before = _state(app)
    _rt(app).close()

    again = make_app()  # the stored plan is replayed, not solved again
    after = _state(again)
    for job in before["jobs"] + after["jobs"]:
        job.pop("promise")
    assert after["jobs"] == before["jobs"] and after["trucks"] == before["trucks"]


@pytest.mark.parametrize(
    "place", [(116.656, 39.909), (116.654, 40.130), (116.410, 39.509)], ids=str
)  # Tongzhou, Shunyi, Daxing airport: beyond the road data
def test_a_call_beyond_the_road_data_is_taken_quoted_and_dispatched_with_an_estimate(
    app: Flask, make_call: MakeCall, connect: Connect, place: tuple[float, float]
) -> None:
    sio = connect(app)
    ack = _intake(sio, make_call(place, "flat_battery"))
    job, proposal = ack["job"], ack["proposal"]
    assert job["placement"]["estimated"] is True
    assert job["placement"]["off_network_m"] > 2000
    assert job["placement"]["zone"] in ("between_5th_and_6th_ring", "outside_6th_ring")
    assert proposal["estimated"] is True and proposal["best"] is not None
    assert "估算" in proposal["script_zh"]
    assert job["promise"]["estimated"] is True
    answer = sio.emit(
        "dispatch",
        {"job_id": job["id"], "truck_id": proposal["best"]["truck"], "version": job["version"]},
        callback=True,
    )
    assert answer["ok"], answer
    truck = _rt(app).center.truck_json(proposal["best"]["truck"])
    # The truck's drive ends at the caller's own point, past the end of the road data.
    assert truck["route"]["geometry"]["coordinates"][-1] == [place[0], place[1]]


def test_a_call_200_km_away_is_refused_naming_the_service_area(
    app: Flask, make_call: MakeCall, connect: Connect
) -> None:
    error = _refused(connect(app), "intake", make_call((118.75, 39.9)), "location")
    assert "service area is the 6th Ring Road and 80 km beyond it" in _english(error)
    assert _rt(app).store.event_count() == 0


def test_a_gps_batch_reaches_every_dispatcher_as_one_compact_batch(
    app: Flask, connect: Connect
) -> None:
    first, second = connect(app), connect(app)
    for sio in (first, second):
        _drain(sio)
    answer = _rt(app).center.move_trucks(
        {"T46": (116.30, 40.0), "T01": "nowhere", "NOPE": (116.30, 40.0), "T02": (0.0, 0.0)}
    )
    assert answer["moved"] == 1
    assert sorted(r["field"] for r in answer["rejected"]) == ["position", "position", "truck_id"]
    for sio in (first, second):
        (batch,) = _drain(sio)["truck_positions"]
        assert batch["ids"] == ["T46"] and batch["lonlat_e6"] == [116300000, 40000000]
        assert read_positions_batch(batch) == {"T46": (116.30, 40.0)}
    assert _rt(app).center.board.trucks["T46"].position == (116.30, 40.0)
