"""Hostile Socket.IO input: every bad payload is refused clearly and changes nothing.

The board is a day of the live room's own simulation, 1,400 stored events, with trucks on
the road. Each event's payload is fuzzed with Hypothesis (a valid payload with one hostile
change: an unknown field, a wrong type, a non-finite number, a lone surrogate, an
oversized text, deep nesting, a missing field, not an object at all) and the cases found
by an attacker are pinned by name. For each: the sender gets ``{"ok": false}`` and an
``error`` event naming the field, neither longer than a short prefix of the value, and
the state (jobs, versions, trucks and their drives, the store) is the same after as
before, byte for byte. How fast refusals are on this board is measured by
``benchmarks/hostile.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.places import Geo
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.model import JobState
from tests.conftest import seed_member
from webmap.app import Runtime, create_app, socketio
from webmap.clock import ManualClock
from webmap.payloads import EVENTS, MAX_DEPTH, MAX_EVENT_BYTES, Field, SocketJson, check_payload
from webmap.serialize import jsonable

BOARD_EVENTS = 1_400
MAX_ANSWER_BYTES = 1_000
"""A refusal says what is wrong in a few hundred bytes, whatever was sent."""
EXAMPLES = 40


@dataclass
class Room:
    app: Flask
    sio: SocketIOTestClient
    job_id: str
    on_scene_job_id: str
    truck_id: str

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.extensions["rescue"]
        return runtime

    def fingerprint(self) -> tuple[int, str]:
        """Cheap: the store's size and every job's version."""
        center = self.runtime.center
        with center.lock:
            versions = json.dumps(center.versions, sort_keys=True)
        return self.runtime.store.event_count(), versions

    def state(self) -> str:
        """Everything: the snapshot clients get, the trucks' drives, the store's events."""
        center = self.runtime.center
        with center.lock:
            snapshot = center.snapshot()
            del snapshot["server_time"]  # the wall clock, for the page's clock sync
            whole = {
                "snapshot": snapshot,
                "drives": center.drives(),
                "events": self.runtime.store.event_count(),
                "versions": center.versions,
            }
        return json.dumps(jsonable(whole), sort_keys=True, ensure_ascii=False)


@pytest.fixture(scope="module")
def room(
    geo: Geo,
    day: dt.date,
    user: str,
    password: str,
    tmp_path_factory: pytest.TempPathFactory,
    post_login: Callable[..., Any],
) -> Iterator[Room]:
    """A simulated morning of 1,400 events on a manual clock, and a logged-in dispatcher."""
    clock = ManualClock(epoch_at_clock("08:00", day=day))
    db = tmp_path_factory.mktemp("fuzz") / "dispatch.sqlite"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "test",
            "RESCUE_DB": str(db),
            "RESCUE_GEO": geo,
            "RESCUE_CLOCK": clock,
            "SIM": True,
            "SIM_SEED": 7,
            "SIM_CALLS_PER_HOUR": 60,
        }
    )
    seed_member(app.extensions["rescue"].store)
    runtime: Runtime = app.extensions["rescue"]
    runtime.store.add_user(user, password)
    assert runtime.sim is not None
    while runtime.store.event_count() < BOARD_EVENTS:
        clock.advance(30)
        runtime.sim.step()
    client = app.test_client()
    assert post_login(client, user, password).status_code == 302
    sio = socketio.test_client(app, flask_test_client=client)
    sio.get_received()
    active = [runtime.center.board.jobs[j] for j in runtime.center.active_job_ids()]
    on_scene = [j.id for j in active if j.state == JobState.ON_SCENE] or [active[0].id]
    truck_id = next(iter(runtime.center.board.trucks))
    yield Room(app, sio, active[0].id, on_scene[0], truck_id)
    runtime.close()


# ---------------------------------------------------------------------------- strategies
def _nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


TEXT_OF_ANY_LENGTH = st.text(max_size=20) | st.integers(600, MAX_EVENT_BYTES * 3).map("字".__mul__)
ALWAYS_BAD = st.one_of(
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.integers(2**53 + 1, 2**200) | st.integers(-(2**200), -(2**53) - 1),
    st.text(max_size=10).map(lambda t: t + "\ud800"),
    st.integers(MAX_DEPTH + 1, 300).map(_nested),
    st.integers(MAX_EVENT_BYTES + 1, 1_100_000).map("x".__mul__),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


def _wrong_for(spec: Field) -> st.SearchStrategy[Any]:
    """Values a field of this kind must refuse."""
    not_text = st.booleans() | st.integers(-5, 5) | st.lists(st.integers(), max_size=3)
    if spec.kind == "text":
        too_long = st.integers(spec.max_chars + 1, spec.max_chars + 2_000).map("路".__mul__)
        return not_text | too_long | ALWAYS_BAD
    if spec.kind == "bool":
        return st.integers(0, 1) | st.text(max_size=5) | ALWAYS_BAD
    if spec.kind in ("integer", "number"):
        return (
            st.text(max_size=5) | st.booleans() | st.lists(st.integers(), max_size=2) | ALWAYS_BAD
        )
    if spec.kind == "point":
        bad_lists = st.lists(st.floats(-180, 180), min_size=3, max_size=5) | st.lists(
            st.text(max_size=3), min_size=2, max_size=2
        )
        return bad_lists | st.text(max_size=5) | ALWAYS_BAD
    return not_text | st.text(max_size=5) | ALWAYS_BAD  # an object


def _valid_payloads(room: Room) -> dict[str, dict[str, Any]]:
    """A payload each event accepts (the fuzzing changes one thing in it)."""
    call = {
        "caller": {"name": "王先生", "phone": "13800138000"},
        "vehicle": {"plate": "京N12345", "model": "帕萨特", "colour": "黑"},
        "member": True,
        "member_card": "BJ-000123",
        "location": [116.3975, 39.9087],
        "fault_category": "flat_battery",
    }
    job, truck = room.job_id, room.truck_id
    return {
        "sync": {},
        "intake": call,
        "propose": {"job_id": job},
        "dispatch": {"job_id": job, "truck_id": truck, "version": 1},
        "reassign": {"job_id": job, "truck_id": truck, "version": 1},
        "advance": {"job_id": job, "state": "en_route", "version": 1},
        "convert_to_tow": {"job_id": room.on_scene_job_id, "destination_name": "修理厂"},
        "cancel": {"job_id": job, "version": 1, "reason": "other", "note": "车主已离开"},
        "replan": {"time_limit_s": 1, "preview": True},
        "replan_apply": {"plan_id": "0123456789abcdef"},
        "replan_discard": {"plan_id": "0123456789abcdef"},
        "replan_undo": {},
        "truck_duty": {"truck_id": truck, "on_duty": True},
    }


@st.composite
def hostile(draw: st.DrawFn, event: str, valid: dict[str, Any]) -> tuple[Any, str]:
    """``(payload, field)``: ``valid`` with one hostile change, and the field to blame."""
    fields = EVENTS[event]
    change = draw(st.sampled_from(["unknown", "wrong", "missing", "not_object", "nested"]))
    payload = json.loads(json.dumps(valid))
    if change == "wrong" and fields:
        name = draw(st.sampled_from(sorted(fields)))
        payload[name] = draw(_wrong_for(fields[name]))
        return payload, name
    required = [name for name, spec in fields.items() if spec.required and name in payload]
    if change == "missing" and required:
        name = draw(st.sampled_from(required))
        del payload[name]
        return payload, name
    if change == "not_object":
        return draw(st.lists(JSON_VALUES, max_size=3) | st.text(max_size=10) | st.integers()), ""
    objects = [name for name, spec in fields.items() if spec.kind == "object"]
    if change == "nested" and objects:
        name = draw(st.sampled_from(objects))
        payload[name] = {**payload[name], "extra": draw(JSON_VALUES | ALWAYS_BAD)}
        return payload, name
    key = draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in fields))
    payload[key] = draw(JSON_VALUES | ALWAYS_BAD)
    return payload, ""


# ---------------------------------------------------------------------------- checks
def _refused(room: Room, event: str, payload: Any, field: str = "") -> dict[str, Any]:
    """Send ``payload``; assert a short refusal naming ``field`` (its start) and no change."""
    before = room.fingerprint()
    answer = room.sio.emit(event, payload, callback=True)
    received = room.sio.get_received()
    assert answer["ok"] is False, answer
    error = answer["error"]
    assert len(json.dumps(answer, ensure_ascii=False).encode()) < MAX_ANSWER_BYTES, error
    assert str(error["field"] or "").startswith(field), (field, error)
    assert error["message"]
    errors = [m["args"][0] for m in received if m["name"] == "error"]
    assert errors == [error]
    assert [m["name"] for m in received if m["name"] != "error"] == []
    assert room.fingerprint() == before
    return error


@pytest.fixture(scope="module")
def state_before(room: Room) -> str:
    return room.state()


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_fuzzed_payloads_are_refused_and_change_nothing(
    room: Room, state_before: str, event: str
) -> None:
    valid = _valid_payloads(room)[event]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(case=hostile(event, valid))
    def refused(case: tuple[Any, str]) -> None:
        payload, field = case
        _refused(room, event, payload, field)

    refused()
    assert room.state() == state_before


# ---------------------------------------------------------------------------- by name
def _intake(room: Room, **changes: Any) -> dict[str, Any]:
    return {**_valid_payloads(room)["intake"], **changes}


NAMED: dict[str, tuple[str, Callable[[Room], Any], str]] = {
    "intake unknown field NaN": ("intake", lambda r: _intake(r, junk=float("nan")), "junk"),
    "intake unknown field Infinity": ("intake", lambda r: _intake(r, junk=float("inf")), "junk"),
    "intake caller name lone surrogate": (
        "intake",
        lambda r: _intake(r, caller={"name": "王\ud800", "phone": "13800138000"}),
        "caller.name",
    ),
    "intake 800 KB junk field": ("intake", lambda r: _intake(r, junk="x" * 800_000), "junk"),
    "intake 300-deep dict": ("intake", lambda r: _intake(r, caller=_nested(300)), "caller"),
    "intake a list of 1,000,000 numbers": (
        "intake",
        lambda r: _intake(r, caller=[0] * 1_000_000),
        "payload",  # refused before it is parsed
    ),
    "convert_to_tow 900,000-character destination name": (
        "convert_to_tow",
        lambda r: {"job_id": r.on_scene_job_id, "destination_name": "x" * 900_000},
        "destination_name",
    ),
    "dispatch eta_at_s Infinity": (
        "dispatch",
        lambda r: {"job_id": r.job_id, "truck_id": r.truck_id, "eta_at_s": float("inf")},
        "eta_at_s",
    ),
    "replan time limit 2**70": ("replan", lambda r: {"time_limit_s": 2**70}, "time_limit_s"),
    "reassign version as text": (
        "reassign",
        lambda r: {"job_id": r.job_id, "truck_id": r.truck_id, "version": "1"},
        "version",
    ),
    **{
        f"{event} 1 MiB payload": (event, lambda r: {"junk": "x" * (1 << 20)}, "junk")
        for event in sorted(EVENTS)
    },
}


@pytest.mark.parametrize("case", sorted(NAMED))
def test_named_hostile_cases_are_refused_and_change_nothing(
    room: Room, state_before: str, case: str
) -> None:
    event, make, field = NAMED[case]
    _refused(room, event, make(room), field)
    assert room.state() == state_before


def test_a_huge_bad_value_is_echoed_as_a_short_prefix(room: Room) -> None:
    error = _refused(room, "intake", _intake(room, landmarks="东" * 60_000), "landmarks")
    assert error["value"] == "东" * 60 + "…"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('["intake",' + "[" * 100_000 + "]" * 100_000 + "]", "is not JSON the server can read"),
        ('["intake",{"a":' + "9" * 5_000 + "}]", "is not JSON the server can read"),
        ('["intake",{"caller":[' + "0," * 70_000 + "0]}]", "too large an event"),
    ],
    ids=["100,000-deep list", "5,000-digit integer", "70,000 items"],
)
def test_text_the_parser_cannot_take_is_refused_naming_the_event(
    room: Room, state_before: str, text: str, reason: str
) -> None:
    """What a client's JSON encoder would not even write: sent as raw packet text."""
    before = room.fingerprint()
    decoded = SocketJson.loads(text)
    assert decoded[0] == "intake"
    with pytest.raises(InputError, match=reason):
        check_payload("intake", decoded[1])
    room.sio.socketio.server._handle_eio_message(room.sio.eio_sid, "2" + text)
    assert room.fingerprint() == before
    assert room.state() == state_before


def test_the_board_still_takes_a_good_call_after_the_fuzzing(room: Room) -> None:
    answer = room.sio.emit("intake", _valid_payloads(room)["intake"], callback=True)
    assert answer["ok"] is True, answer
    assert answer["job"]["state"] == "received"
