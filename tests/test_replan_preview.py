"""A re-plan previewed before it is applied: the preview changes nothing and lists the
moves; applying it moves exactly those, unless the board changed since; the last re-plan
applied can be undone while the jobs it moved are untouched; replay after a restart
reproduces all of it. Real Beijing network and fleet, Flask-SocketIO's test client."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient

from geo.errors import InputError
from geo.i18n import both
from optimizer.dispatch.model import JobState
from webmap.app import Runtime
from webmap.clock import ManualClock
from webmap.replan_preview import MAX_PREVIEWS_PER_USER, PREVIEW_TTL_S

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
Connect = Callable[[Flask], SocketIOTestClient]  # the ``connect`` fixture
TIME_LIMIT_S = 1.0
CENTRE = (116.3975, 39.9087)
PREVIEW_KEYS = {
    "ok",
    "plan_id",
    "improved",
    "changes",
    "unassigned",
    "broken_promises_before",
    "broken_promises",
    "solve_s",
    "fallback",
}
CHANGE_KEYS = {
    "job_id",
    "truck_before",
    "truck_after",
    "eta_before_s",
    "eta_after_s",
    "status_before",
    "status_after",
}


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


def _ok(sio: SocketIOTestClient, event: str, payload: dict[str, Any]) -> dict[str, Any]:
    ack = _emit(sio, event, payload)
    assert ack["ok"], ack
    return ack


def _refused(sio: SocketIOTestClient, event: str, payload: dict[str, Any], field: str) -> str:
    ack = _emit(sio, event, payload)
    assert ack["ok"] is False and ack["error"]["field"] == field, ack
    message: str = ack["error"]["message"]
    return message


def _state(app: Flask) -> dict[str, Any]:
    """The live state without the clock fields, for before/after comparisons."""
    snapshot = _rt(app).center.snapshot()
    for key in ("now_s", "server_time"):
        snapshot.pop(key)
    return snapshot


def _queues(app: Flask) -> dict[str, Any]:
    """Every truck's queue and every job's state and truck."""
    board = _rt(app).center.board
    return {
        "trucks": {t: list(truck.queue) for t, truck in board.trucks.items()},
        "jobs": {j: (job.state, job.truck_id) for j, job in board.jobs.items()},
    }


def _far_truck(app: Flask, kind: str, where: tuple[float, float]) -> str:
    """The truck of ``kind`` whose position is farthest (straight line) from ``where``."""
    trucks = _rt(app).center.board.trucks.values()
    return max(
        (t for t in trucks if t.kind == kind),
        key=lambda t: math.dist(t.position, where),
    ).id


@pytest.fixture
def busy(
    make_app: Callable[[], Flask], make_call: MakeCall, connect: Connect
) -> tuple[Flask, SocketIOTestClient, dict[str, str]]:
    """Three calls waiting for a truck (one a tow) and one sent to the farthest service
    truck: a re-plan dispatches the three and moves the fourth to a nearer truck."""
    app = make_app()
    sio = connect(app)
    jobs = {
        "east": _ok(sio, "intake", make_call((116.45, 39.93)))["job"]["id"],
        "north": _ok(sio, "intake", make_call((116.33, 39.98)))["job"]["id"],
        "tow": _ok(sio, "intake", make_call((116.40, 39.88), "engine_failure"))["job"]["id"],
    }
    far = _ok(sio, "intake", make_call(CENTRE))["job"]
    truck = _far_truck(app, "service", CENTRE)
    _ok(sio, "dispatch", {"job_id": far["id"], "truck_id": truck, "version": far["version"]})
    jobs["far"], jobs["far_truck"] = far["id"], truck
    sio.get_received()
    return app, sio, jobs


def _preview(sio: SocketIOTestClient) -> dict[str, Any]:
    return _ok(sio, "replan", {"preview": True, "time_limit_s": TIME_LIMIT_S})


# ---------------------------------------------------------------------------- preview
def test_a_preview_changes_nothing_and_lists_the_moves(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]], clock: ManualClock
) -> None:
    app, sio, jobs = busy
    before, events = _state(app), _rt(app).store.event_count()
    plan = _preview(sio)
    assert _state(app) == before and _rt(app).store.event_count() == events
    assert [m["name"] for m in sio.get_received()] == []  # nothing broadcast
    assert set(plan) == PREVIEW_KEYS and plan["improved"] is True
    changes = {c["job_id"]: c for c in plan["changes"]}
    assert all(set(c) == CHANGE_KEYS for c in changes.values())
    for name in ("east", "north", "tow"):
        change = changes[jobs[name]]
        assert change["truck_before"] is None and change["truck_after"] is not None
        assert change["eta_after_s"] > clock.now()
        assert change["status_after"] in ("on_time", "at_risk", "late")
    moved = changes[jobs["far"]]
    assert moved["truck_before"] == jobs["far_truck"] != moved["truck_after"]
    assert moved["eta_after_s"] < moved["eta_before_s"]  # a nearer truck


def test_applying_a_preview_moves_what_it_listed_and_everyone_sees_it(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]], connect: Connect
) -> None:
    app, sio, jobs = busy
    other = connect(app)
    plan = _preview(sio)
    applied = _ok(sio, "replan_apply", {"plan_id": plan["plan_id"]})
    assert applied["undo"] is True and applied["improved"] is True
    board = _rt(app).center.board
    for change in plan["changes"]:
        assert board.jobs[change["job_id"]].truck_id == change["truck_after"]
    moved = [c["job_id"] for c in plan["changes"] if c["truck_before"] != c["truck_after"]]
    assert applied["moved"] == sorted(moved)
    assert {jobs["east"], jobs["north"], jobs["tow"], jobs["far"]} <= set(applied["moved"])
    updated = {m["args"][0]["id"] for m in other.get_received() if m["name"] == "job_updated"}
    assert set(moved) <= updated
    # applied once: the plan is gone
    _refused(sio, "replan_apply", {"plan_id": plan["plan_id"]}, "plan_id")


def test_a_preview_is_refused_once_a_job_it_moves_changed(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]], user: str
) -> None:
    app, sio, jobs = busy
    plan = _preview(sio)
    job = _rt(app).center.job_json(jobs["east"])
    proposal = _ok(sio, "propose", {"job_id": job["id"]})["proposal"]
    _ok(
        sio,
        "dispatch",
        {"job_id": job["id"], "truck_id": proposal["best"]["truck"], "version": job["version"]},
    )
    before = _queues(app)
    message = _refused(sio, "replan_apply", {"plan_id": plan["plan_id"]}, "plan_id")
    assert message in both(
        "the board changed since the preview (job {job}: {what} by {who}): "
        "preview the re-plan again",
        job=job["id"],
        what="dispatch",
        who=user,
    )
    assert _queues(app) == before


def test_a_preview_is_refused_once_a_truck_changed(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]],
) -> None:
    app, sio, _ = busy
    plan = _preview(sio)
    idle = next(t for t, truck in _rt(app).center.board.trucks.items() if not truck.queue)
    _ok(sio, "truck_duty", {"truck_id": idle, "on_duty": False})
    message = _refused(sio, "replan_apply", {"plan_id": plan["plan_id"]}, "plan_id")
    assert message in both(
        "the board changed since the preview (truck {truck}): preview the re-plan again",
        truck=idle,
    )


def test_previews_are_discarded_expire_and_belong_to_their_dispatcher(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]], clock: ManualClock
) -> None:
    app, sio, _ = busy
    center = _rt(app).center
    discarded = _preview(sio)["plan_id"]
    assert _ok(sio, "replan_discard", {"plan_id": discarded})["discarded"] is True
    assert _ok(sio, "replan_discard", {"plan_id": discarded})["discarded"] is False
    _refused(sio, "replan_apply", {"plan_id": discarded}, "plan_id")

    mine = _preview(sio)["plan_id"]
    with pytest.raises(InputError) as error:
        center.replan_apply(mine, user="somebody_else")
    assert error.value.field == "plan_id"

    plans = [_preview(sio)["plan_id"] for _ in range(MAX_PREVIEWS_PER_USER)]
    _refused(sio, "replan_apply", {"plan_id": mine}, "plan_id")  # the oldest went
    clock.advance(PREVIEW_TTL_S + 1)
    _refused(sio, "replan_apply", {"plan_id": plans[-1]}, "plan_id")  # expired


# ---------------------------------------------------------------------------- undo
def test_undo_restores_the_queues_and_a_restart_replays_it(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]],
    make_app: Callable[[], Flask],
    clock: ManualClock,
    connect: Connect,
) -> None:
    app, sio, jobs = busy
    before = _queues(app)
    plan = _preview(sio)
    clock.advance(30)
    _ok(sio, "replan_apply", {"plan_id": plan["plan_id"]})
    after_apply = _queues(app)
    assert after_apply != before
    clock.advance(30)
    undone = _ok(sio, "replan_undo", {})
    assert _queues(app) == before
    assert sorted(undone["released"]) == sorted([jobs["east"], jobs["north"], jobs["tow"]])
    assert jobs["far"] in undone["moved"]
    assert _rt(app).center.board.jobs[jobs["east"]].state == JobState.RECEIVED
    _refused(sio, "replan_undo", {}, "replan")  # once
    state = _state(app)
    _rt(app).close()

    again = make_app()
    assert _rt(again).center.replay_report["skipped"] == []
    assert _queues(again) == before
    replayed = _state(again)
    for job in state["jobs"] + replayed["jobs"]:
        job.pop("promise")
    assert replayed["jobs"] == state["jobs"] and replayed["trucks"] == state["trucks"]
    _refused(connect(again), "replan_undo", {}, "replan")


def test_undo_survives_a_restart(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]],
    make_app: Callable[[], Flask],
    connect: Connect,
) -> None:
    app, sio, _ = busy
    before = _queues(app)
    _ok(sio, "replan_apply", {"plan_id": _preview(sio)["plan_id"]})
    _rt(app).close()
    again = make_app()
    _ok(connect(again), "replan_undo", {})
    assert _queues(again) == before


def test_a_plain_replan_can_be_undone_too(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]],
) -> None:
    app, sio, _ = busy
    before = _queues(app)
    answer = _ok(sio, "replan", {"time_limit_s": TIME_LIMIT_S})
    assert answer["improved"] and "undo" not in answer  # the answer of before
    _ok(sio, "replan_undo", {})
    assert _queues(app) == before


def test_undo_is_refused_once_a_job_it_moved_changed(
    busy: tuple[Flask, SocketIOTestClient, dict[str, str]], clock: ManualClock, user: str
) -> None:
    app, sio, jobs = busy
    _ok(sio, "replan_apply", {"plan_id": _preview(sio)["plan_id"]})
    job = _rt(app).center.job_json(jobs["far"])
    truck = _rt(app).center.board.trucks[job["truck_id"]]
    first = truck.queue[0]
    clock.advance(60)
    _ok(
        sio,
        "advance",
        {"job_id": first, "state": "en_route", "version": _rt(app).center.version(first)},
    )
    before = _queues(app)
    message = _refused(sio, "replan_undo", {}, "job_id")
    assert message in both(
        "job {job} changed since the re-plan ({what} by {who}): the re-plan can no longer "
        "be undone",
        job=first,
        what="advance",
        who=user,
    )
    assert _queues(app) == before
