"""Shared fixtures: the real Beijing network, loaded once per test session; valid calls;
the live map's apps, logins and Socket.IO test clients; the real server in a process."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient
from socketio import Client as SocketClient
from sqlalchemy import create_engine, text

from geo.config import load_rules
from geo.graph import build_drive_graph
from geo.network import default_osm_path
from geo.places import Geo, load_geo
from geo.speeds import SpeedModel
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from records.members import add_member, get_member
from records.store import EventStore
from records.throwaway_postgres import throwaway_postgres
from webmap.app import create_app, socketio
from webmap.client import cookie_header, form_token, log_in
from webmap.clock import ManualClock


@pytest.fixture(scope="session")
def rules() -> dict[str, Any]:
    return load_rules()


@pytest.fixture(scope="session")
def geo(rules: dict[str, Any]) -> Geo:
    return load_geo(rules=rules)


@pytest.fixture(scope="session")
def drive_graph(rules: dict[str, Any]) -> nx.MultiDiGraph:
    """The osmnx graph the network was compiled from (for comparisons with networkx)."""
    graph, _ = build_drive_graph(
        default_osm_path(),
        speeds=SpeedModel.from_rules(rules),
        drivable_highways=rules["network"]["drivable_highways"],
    )
    return graph


@pytest.fixture(scope="session")
def business_rules(rules: dict[str, Any]) -> Rules:
    return Rules.from_toml(rules)


@pytest.fixture(scope="session")
def shops(geo: Geo) -> Shops:
    return Shops.load(geo)


# ---------------------------------------------------------------------------- calls
@pytest.fixture(scope="session")
def centre() -> tuple[float, float]:
    """Tiananmen ([lon, lat]), inside the 2nd ring: the default place of a call."""
    return (116.3975, 39.9087)


MEMBER = {
    "card_no": "BJ-000123",
    "name": "王先生",
    "phones": "13800138000",
    "plates": "京N12345;京A12345;京B54321;京B55555;京C11111;京AD12345",
    "valid_from": "2026-01-01",
    "valid_to": "2027-12-31",
    "fee_paid_yuan": "380",
    "receipt_no": "R20260101-0001",
}
"""The member :func:`make_call`'s calls come from (SERVICE_RULES §5: a member price needs a
valid card), in the register of every test app and server."""


def seed_member(store: EventStore) -> None:
    """Put :data:`MEMBER` in ``store``'s register (once)."""
    if get_member(store, MEMBER["card_no"]) is None:
        add_member(store, MEMBER, user="setup", at_s=0.0)


@pytest.fixture(scope="session")
def make_call(centre: tuple[float, float]) -> Callable[..., dict[str, Any]]:
    """``make_call(where=centre, fault="flat_battery", **fields)``: a valid intake
    (SERVICE_RULES §2) at ``where`` ([lon, lat]); ``fields`` override or add fields."""

    def make(where: Any = centre, fault: str = "flat_battery", **fields: Any) -> dict[str, Any]:
        call = {
            "caller": {"name": "王先生", "phone": "13800138000", "gender": "male"},
            "vehicle": {"plate": "京N12345", "model": "Volkswagen Passat", "colour": "black"},
            "member": True,
            "member_card": "BJ-000123",
            "location": list(where),
            "landmarks": "near the north gate",
            "fault_symptoms": "won't start",
            "fault_category": fault,
        }
        call.update(fields)
        return call

    return make


# ---------------------------------------------------------------------------- live map
# The app runs on the real Beijing network and fleet, with a temporary SQLite store per
# test and a manual clock on a weekday at 10:00 Beijing time (the ``daytime`` band).


@pytest.fixture(scope="session")
def day() -> dt.date:
    """The tests' weekday."""
    return dt.date(2026, 11, 25)  # a Wednesday


@pytest.fixture(scope="session")
def user() -> str:
    """The dispatcher every test app knows."""
    return "anna"


@pytest.fixture(scope="session")
def password() -> str:
    """:func:`user`'s password."""
    return "correct horse battery"


@pytest.fixture
def clock(day: dt.date) -> ManualClock:
    """A manual clock at 10:00 Beijing time on :func:`day` (the ``daytime`` band)."""
    return ManualClock(epoch_at_clock("10:00", day=day))


@pytest.fixture
def new_app(
    geo: Geo, clock: ManualClock, user: str, password: str
) -> Iterator[Callable[..., Flask]]:
    """``new_app(db, **config)``: an app on the store ``db`` (``user`` added), on ``clock``,
    without the background task. Every app made is closed after the test."""
    apps: list[Flask] = []

    def make(db: Path, **config: Any) -> Flask:
        app = create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "test",
                "RESCUE_DB": str(db),
                "RESCUE_GEO": geo,
                "RESCUE_CLOCK": clock,
                **config,
            }
        )
        apps.append(app)
        store = app.extensions["rescue"].store
        if not store.has_user(user):
            store.add_user(user, password)
        seed_member(store)
        return app

    yield make
    for app in apps:
        app.extensions["rescue"].close()


def _post_login(client: FlaskClient, name: str, password: str) -> Any:
    token = form_token(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"name": name, "password": password, "csrf_token": token})


@pytest.fixture(scope="session")
def post_login() -> Callable[[FlaskClient, str, str], Any]:
    """``post_login(client, name, password)``: post the login form as a browser does (the
    form's CSRF token included); the response."""
    return _post_login


@pytest.fixture
def login(user: str, password: str) -> Callable[..., FlaskClient]:
    """``login(app)``: an HTTP test client, logged in as ``user``."""

    def log_in(app: Flask) -> FlaskClient:
        client = app.test_client()
        response = _post_login(client, user, password)
        assert response.status_code == 302, response.data
        return client

    return log_in


@pytest.fixture
def connect(login: Callable[..., FlaskClient]) -> Callable[..., SocketIOTestClient]:
    """``connect(app, client=None)``: a logged-in Socket.IO test client, its first
    ``state`` already read."""

    def open_socket(app: Flask, client: FlaskClient | None = None) -> SocketIOTestClient:
        sio = socketio.test_client(app, flask_test_client=client or login(app))
        assert sio.is_connected()
        received = sio.get_received()
        assert [m["name"] for m in received] == ["state"]
        return sio

    return open_socket


# ---------------------------------------------------------------------------- real server
ROOT = Path(__file__).resolve().parents[1]
FAST_SPEED = 20


@dataclass
class Server:
    """``rescue serve`` (Gunicorn) running in a process, with one dispatcher added."""

    url: str
    user: str
    password: str
    db: Path
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _running_server(tmp: Path, user: str, password: str, *options: str) -> Iterator[Server]:
    """``rescue serve *options`` on a free loopback port with a fresh store in ``tmp`` and
    ``user`` added; stopped on leaving."""
    db = tmp / "dispatch.sqlite"
    cli = [sys.executable, "-m", "rescue.cli"]
    added = subprocess.run(
        [*cli, "user", "add", user, "--db", str(db)],
        input=password + "\n",
        text=True,
        check=False,
        cwd=ROOT,
        capture_output=True,
    )
    if added.returncode != 0:
        pytest.fail(f"`rescue user add` failed:\n{added.stdout}\n{added.stderr}")
    store = EventStore(db)
    seed_member(store)
    store.close()
    port = _free_port()
    log = tmp / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*cli, "serve", "--port", str(port), "--db", str(db), *options],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(url + "/healthz", timeout=1).ok:
                break
        except requests.RequestException:  # refused, or the worker still loading
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            process.wait()
            pytest.fail(f"the server did not start:\n{log.read_text()}")
        time.sleep(0.2)
    try:
        yield Server(url, user, password, db, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, user: str, password: str
) -> Iterator[Server]:
    """The real ``rescue serve`` on a free loopback port with a fresh store and ``user``
    added (one per test module), stopped afterwards."""
    with _running_server(tmp_path_factory.mktemp("server"), user, password) as server:
        yield server


@pytest.fixture(scope="module")
def fast_server(
    tmp_path_factory: pytest.TempPathFactory, user: str, password: str
) -> Iterator[Server]:
    """The real server with its dispatch clock at 20x: a call waits too long (SR §1's alert
    after ``undispatched_alert_min``) within seconds."""
    tmp = tmp_path_factory.mktemp("fast_server")
    with _running_server(tmp, user, password, "--speed", str(FAST_SPEED)) as server:
        yield server


class Listener:
    """Another dispatcher: a python-socketio client logged in with its own session, recording
    what the server broadcasts."""

    def __init__(self, server: Server) -> None:
        cookie = cookie_header(log_in(server.url, server.user, server.password))
        self.events: list[tuple[str, Any]] = []
        self._lock = threading.Lock()
        self.client = SocketClient()
        for name in ("state", "job_updated", "truck_updated", "promise_alert"):
            self.client.on(name, self._recorder(name))
        self.client.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"])

    def _recorder(self, name: str) -> Any:
        def record(data: Any) -> None:
            with self._lock:
                self.events.append((name, data))

        return record

    def wait_for(self, name: str, test: Any, timeout_s: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                for event, data in self.events:
                    if event == name and test(data):
                        return data
            time.sleep(0.05)
        raise AssertionError(f"no {name} event matching within {timeout_s} s")

    def call(self, event: str, data: dict[str, Any]) -> dict[str, Any]:
        """Send ``event`` and return its acknowledgement, which must be ``ok``."""
        answer: dict[str, Any] = self.client.call(event, data, timeout=30)
        assert answer["ok"], answer
        return answer

    def intake(self, data: dict[str, Any]) -> dict[str, Any]:
        return self.call("intake", data)


@pytest.fixture
def dispatcher() -> Iterator[Callable[[Server], Listener]]:
    """Log other dispatchers in to a real server (disconnected after the test)."""
    opened: list[Listener] = []

    def open_listener(server: Server) -> Listener:
        listener = Listener(server)
        opened.append(listener)
        return listener

    yield open_listener
    for listener in opened:
        listener.client.disconnect()


# ---------------------------------------------------------------------------- browser
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [  # ../shared/docs/BROWSER_TESTS.md: no background requests to the internet
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (one per test module); skips without it."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


# ---------------------------------------------------------------------------- databases
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throwaway PostgreSQL server (initdb + pg_ctl on loopback) for the whole run; its
    URL. Started only when a test asks for it; stopped and deleted at the end."""
    with throwaway_postgres() as url:
        yield url


def fresh_postgres_database(server_url: str) -> str:
    """A new empty database on the throwaway server: its URL."""
    name = f"test_{secrets.token_hex(6)}"
    engine = create_engine(server_url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
    finally:
        engine.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty records database, once on SQLite (a file) and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "records.sqlite")
    return fresh_postgres_database(request.getfixturevalue("postgres_server"))
