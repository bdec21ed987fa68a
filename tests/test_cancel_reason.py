"""A job is cancelled with a reason (and a note for ``other``), kept on the job, in its
history and in the stored event, so a restart brings them back; ``advance`` to
``cancelled`` is refused, pointing to ``cancel``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient

from geo.i18n import both
from webmap.app import Runtime
from webmap.clock import ManualClock

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
Connect = Callable[[Flask], SocketIOTestClient]  # the ``connect`` fixture


@pytest.fixture
def make_app(new_app: Callable[..., Flask], tmp_path: Path) -> Callable[[], Flask]:
    return lambda: new_app(tmp_path / "dispatch.sqlite")


def _rt(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["rescue"]
    return runtime


def _emit(sio: SocketIOTestClient, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    ack = sio.emit(event, payload, callback=True)
    assert isinstance(ack, dict)
    return ack


def _dispatched(sio: SocketIOTestClient, call: dict[str, Any]) -> dict[str, Any]:
    ack = _emit(sio, "intake", call)
    job, best = ack["job"], ack["proposal"]["best"]["truck"]
    answer = _emit(
        sio, "dispatch", {"job_id": job["id"], "truck_id": best, "version": job["version"]}
    )
    assert answer["ok"], answer
    job = answer["job"]
    assert isinstance(job, dict)
    return job


def test_a_cancelled_job_keeps_its_reason_and_frees_its_truck(
    make_app: Callable[[], Flask], make_call: MakeCall, clock: ManualClock, connect: Connect
) -> None:
    app = make_app()
    sio = connect(app)
    job = _dispatched(sio, make_call())
    truck_id = job["truck_id"]
    clock.advance(60)
    ack = _emit(
        sio,
        "cancel",
        {
            "job_id": job["id"],
            "version": job["version"],
            "reason": "other",
            "note": "  车主找到了备用钥匙  ",
        },
    )
    assert ack["ok"], ack
    cancelled = ack["job"]
    assert cancelled["state"] == "cancelled" and cancelled["version"] == job["version"] + 1
    assert (cancelled["cancel_reason"], cancelled["cancel_note"]) == ("other", "车主找到了备用钥匙")
    assert cancelled["history"][-1] == {
        "at_s": clock.now(),
        "state": "cancelled",
        "note": "other: 车主找到了备用钥匙",
    }
    center = _rt(app).center
    assert center.board.trucks[truck_id].queue == [] and center.active_job_ids() == []
    assert [e.kind for e in _rt(app).store.events()][-1] == "cancel"
    _rt(app).close()

    again = make_app()  # the stored event brings the reason back
    replayed = _rt(again).center.job_json(job["id"])
    assert _rt(again).center.replay_report["skipped"] == []
    for key in ("state", "cancel_reason", "cancel_note", "history", "version"):
        assert replayed[key] == cancelled[key], key


@pytest.mark.parametrize("reason", ["caller_cancelled", "duplicate", "solved_by_caller"])
def test_a_listed_reason_needs_no_note(
    make_app: Callable[[], Flask], make_call: MakeCall, connect: Connect, reason: str
) -> None:
    sio = connect(make_app())
    job = _emit(sio, "intake", make_call())["job"]
    ack = _emit(sio, "cancel", {"job_id": job["id"], "version": job["version"], "reason": reason})
    assert ack["ok"], ack
    assert (ack["job"]["cancel_reason"], ack["job"]["cancel_note"]) == (reason, "")
    assert ack["job"]["history"][-1]["note"] == reason


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"reason": "other"}, "note"),  # other: say why
        ({"reason": "other", "note": "   "}, "note"),
        ({"reason": "other", "note": "x" * 201}, "note"),
        ({"reason": "changed_mind"}, "reason"),
        ({"reason": None}, "reason"),
        ({"version": None}, "version"),
        ({"version": 0}, "version"),
    ],
)
def test_a_bad_cancel_is_refused_and_changes_nothing(
    make_app: Callable[[], Flask],
    make_call: MakeCall,
    connect: Connect,
    change: dict[str, Any],
    field: str,
) -> None:
    app = make_app()
    sio = connect(app)
    job = _emit(sio, "intake", make_call())["job"]
    events = _rt(app).store.event_count()
    payload = {"job_id": job["id"], "version": job["version"], "reason": "duplicate", **change}
    ack = _emit(sio, "cancel", {k: v for k, v in payload.items() if v is not None})
    assert ack["ok"] is False and ack["error"]["field"] == field, ack
    assert _rt(app).center.job_json(job["id"])["state"] == "received"
    assert _rt(app).store.event_count() == events


def test_advance_to_cancelled_is_refused_pointing_to_cancel(
    make_app: Callable[[], Flask], make_call: MakeCall, connect: Connect
) -> None:
    sio = connect(make_app())
    job = _dispatched(sio, make_call())
    ack = _emit(
        sio, "advance", {"job_id": job["id"], "state": "cancelled", "version": job["version"]}
    )
    assert ack["ok"] is False and ack["error"]["field"] == "state"
    assert ack["error"]["message"] in both("cancel a job with the cancel command, giving a reason")


def test_a_closed_job_cannot_be_cancelled(
    make_app: Callable[[], Flask], make_call: MakeCall, clock: ManualClock, connect: Connect
) -> None:
    sio = connect(make_app())
    job = _dispatched(sio, make_call())
    for state in ("en_route", "on_scene", "fixed", "closed"):
        clock.advance(60)
        job = _emit(
            sio, "advance", {"job_id": job["id"], "state": state, "version": job["version"]}
        )["job"]
    ack = _emit(
        sio,
        "cancel",
        {"job_id": job["id"], "version": job["version"], "reason": "caller_cancelled"},
    )
    assert ack["ok"] is False and ack["error"]["field"] == "state"
