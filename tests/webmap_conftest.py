"""Helpers for the live map's tests: calls, apps, logins, Socket.IO test clients.

The app runs on the real Beijing network and fleet, with a temporary SQLite store per
test and a manual clock on a weekday at 10:00 Beijing time (the ``daytime`` band).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from calls import make_call
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient

from geo.places import Geo
from optimizer.dispatch.clock import epoch_at_clock
from webmap.app import Runtime, create_app, socketio
from webmap.clock import ManualClock

USER, PASSWORD = "anna", "correct horse battery"
DAY = dt.date(2026, 11, 25)  # a Wednesday
CENTRE = (116.3975, 39.9087)  # Tiananmen, inside the 2nd ring
FAR_NORTH_WEST = (116.15, 40.05)  # between the 5th and 6th rings, far from the bases


def call(where: Any = CENTRE, fault: str = "flat_battery", **fields: Any) -> dict[str, Any]:
    """A valid intake (SERVICE_RULES §2) at ``where`` (default the city centre)."""
    return make_call(where, fault, **fields)


def rt(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["rescue"]
    return runtime


def start_clock() -> ManualClock:
    """A manual clock at 10:00 Beijing time on :data:`DAY` (the ``daytime`` band)."""
    return ManualClock(epoch_at_clock("10:00", day=DAY))


def new_app(geo: Geo, db: Path, clock: ManualClock, **config: Any) -> Flask:
    """An app on the store ``db`` (user anna added), without the background task."""
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "RESCUE_DB": str(db),
        "RESCUE_GEO": geo,
        "RESCUE_CLOCK": clock,
        **config,
    })
    if not rt(app).store.has_user(USER):
        rt(app).store.add_user(USER, PASSWORD)
    return app


def login(app: Flask, user: str = USER, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"name": user, "password": password})
    assert response.status_code == 302, response.data
    return client


def connect(app: Flask, client: FlaskClient | None = None) -> SocketIOTestClient:
    """A logged-in Socket.IO test client, its first ``state`` already read."""
    sio = socketio.test_client(app, flask_test_client=client or login(app))
    assert sio.is_connected()
    received = sio.get_received()
    assert [m["name"] for m in received] == ["state"]
    return sio


def drain(sio: SocketIOTestClient) -> dict[str, list[Any]]:
    """Everything the client received since the last call, by event name."""
    by_name: dict[str, list[Any]] = {}
    for message in sio.get_received():
        by_name.setdefault(message["name"], []).append(message["args"][0])
    return by_name
