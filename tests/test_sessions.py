"""Sessions that end: what a login may and may not do, pinned on real outcomes.

1. Login throttling (:mod:`webmap.throttle`): 5 wrong passwords for a name in a minute,
   or 20 from an address, and the next login is answered 429 with ``Retry-After`` (even
   with the right password); the window slides, a success clears the name's failures,
   and the table of names stays bounded under a flood of made-up names.
2. An unknown name takes as long as a known one with a wrong password (within 10 ms),
   in ``EventStore.check_user`` and through ``POST /login``.
3. Logout ends the session on the server: with the real ``rescue serve`` and a
   python-socketio client, the old cookie gets 401, the session's sockets are
   disconnected within a second and another session of the same user keeps going; a
   socket event of an ended session is refused (``error`` on field ``session``).
4. A session expires after ``SESSION_LIFETIME_S``; a deleted user's session is worthless.
5. The files holding secrets (database, its WAL files, ``first-login.txt``) are 0600,
   whatever existed before; the session token is stored only as a hash.
6. CSRF: ``/login`` and ``/logout`` without the form's token (or with another one) answer
   400 and change nothing; with it they work.
7. ``rescue serve --secure-cookies`` sets the session cookie's ``Secure`` flag.
"""

from __future__ import annotations

import gc
import hashlib
import os
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import socketio
from flask import Flask
from flask.testing import FlaskClient
from flask_socketio.test_client import SocketIOTestClient

from geo.i18n import translate
from records.store import SECRET_FILE_MODE, SESSION_LIFETIME_S, EventStore
from rescue.cli import build_parser
from webmap.app import Runtime
from webmap.app import socketio as flask_socketio
from webmap.auth import FIRST_LOGIN_FILE, SessionSockets, ensure_first_user
from webmap.client import cookie_header, form_token, log_in
from webmap.throttle import (
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_NAME,
    MAX_TRACKED_KEYS,
    WINDOW_S,
    LoginThrottle,
)

ROOT = Path(__file__).resolve().parents[1]
NewApp = Callable[..., Flask]  # the ``new_app`` fixture
Login = Callable[[Flask], FlaskClient]  # the ``login`` fixture
Connect = Callable[..., SocketIOTestClient]  # the ``connect`` fixture
PostLogin = Callable[[FlaskClient, str, str], Any]  # the ``post_login`` fixture
# The login page speaks Chinese first: the start of the throttle message, as the page shows it.
TOO_MANY = (
    translate("Too many failed logins: try again in {seconds} s.", "zh", seconds=0)
    .split("0")[0]
    .encode()
)
SAME_TIME_S = 0.010  # unknown and known names: within 10 ms
TRIES = 7
ROUNDS = 3


@pytest.fixture
def app(new_app: NewApp, tmp_path: Path) -> Flask:
    return new_app(tmp_path / "dispatch.sqlite")


def _rt(app: Flask) -> Runtime:
    runtime: Runtime = app.extensions["rescue"]
    return runtime


def _client_at(app: Flask, address: str) -> FlaskClient:
    """A test client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _logged_in(client: FlaskClient) -> bool:
    status = client.get("/api/state").status_code
    assert status in (200, 401)
    return status == 200


def _assert_throttled(response: Any) -> int:
    """A 429 with a whole ``Retry-After`` of 1..60 s and the message in the page."""
    assert response.status_code == 429, response.data
    retry_after = response.headers["Retry-After"]
    assert retry_after.isdigit(), retry_after
    seconds = int(retry_after)
    assert 1 <= seconds <= 60
    assert TOO_MANY in response.data
    assert retry_after.encode() in response.data
    return seconds


def _session_token(client: FlaskClient) -> str:
    with client.session_transaction() as flask_session:
        token = flask_session["token"]
    assert isinstance(token, str)
    return token


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---------------------------------------------------------------------------- 1. throttle
def test_five_wrong_passwords_for_a_name_lock_it_even_with_the_right_password(
    app: Flask, user: str, password: str, post_login: PostLogin
) -> None:
    client = _client_at(app, "10.0.0.1")
    for _ in range(MAX_FAILURES_PER_NAME):
        assert post_login(client, user, "wrong password").status_code == 401
    _assert_throttled(post_login(client, user, password))
    assert not _logged_in(client)
    # The name is locked from any address.
    elsewhere = _client_at(app, "10.0.0.2")
    _assert_throttled(post_login(elsewhere, user, password))
    assert not _logged_in(elsewhere)
    # Another name from the first address may still try.
    assert post_login(client, "someone-else", "wrong password").status_code == 401


def test_twenty_failures_from_an_address_lock_every_name_from_it(
    app: Flask, user: str, password: str, post_login: PostLogin
) -> None:
    _rt(app).store.add_user("bob", "bob's password")
    room = _client_at(app, "10.0.1.1")
    names = [f"typo{i}" for i in range(MAX_FAILURES_PER_ADDRESS)]
    for failures, name in enumerate(names, start=1):  # one failure a name: the address's limit
        assert post_login(room, name, "wrong password").status_code == 401
        if failures == MAX_FAILURES_PER_ADDRESS - 1:
            # One short of the limit: a right password from the room still works.
            ok = _client_at(app, "10.0.1.1")
            assert post_login(ok, "bob", "bob's password").status_code == 302
            assert _logged_in(ok)
    for name, secret in ((user, password), ("bob", "bob's password"), ("new-name", "x")):
        blocked = _client_at(app, "10.0.1.1")
        _assert_throttled(post_login(blocked, name, secret))
        assert not _logged_in(blocked)
    # Another address is not concerned.
    other = _client_at(app, "10.0.1.2")
    assert post_login(other, user, password).status_code == 302
    assert _logged_in(other)


def test_a_different_name_from_the_same_address_is_allowed_until_the_address_limit(
    app: Flask, user: str, password: str, post_login: PostLogin
) -> None:
    client = _client_at(app, "10.0.2.1")
    names = [user, "b", "c", "d"]  # 4 names x 5 failures = the address's 20
    for name in names:
        for _ in range(MAX_FAILURES_PER_NAME):
            assert post_login(client, name, "wrong password").status_code == 401
        _assert_throttled(post_login(client, name, "wrong password"))
    _assert_throttled(post_login(client, "e", "wrong password"))


def test_throttle_window_slides() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    start = clock.now
    for i in range(MAX_FAILURES_PER_NAME):
        assert throttle.retry_after_s("anna", "a") is None
        clock.now = start + i
        throttle.failed("anna", "a")
    assert throttle.retry_after_s("anna", "a") == 60 - (MAX_FAILURES_PER_NAME - 1)
    clock.now = start + WINDOW_S - 0.5
    assert throttle.retry_after_s("anna", "a") == 1
    assert throttle.retry_after_s("anna", "b") == 1  # the name, from anywhere
    assert throttle.retry_after_s("bob", "a") is None  # the address is not locked
    clock.now = start + WINDOW_S  # the first failure left the window
    assert throttle.retry_after_s("anna", "a") is None
    throttle.failed("anna", "a")  # back to 5 in the window
    assert throttle.retry_after_s("anna", "a") == 1  # until the second one leaves
    clock.now = start + 2 * WINDOW_S + 10
    assert throttle.retry_after_s("anna", "a") is None


def test_throttle_address_limit_and_window() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    for i in range(MAX_FAILURES_PER_ADDRESS):
        assert throttle.retry_after_s(f"n{i}", "a") is None
        throttle.failed(f"n{i}", "a")
    assert throttle.retry_after_s("anyone", "a") == 60
    assert throttle.retry_after_s("anyone", "b") is None
    clock.now += WINDOW_S
    assert throttle.retry_after_s("anyone", "a") is None


def test_throttle_success_clears_the_names_failures_not_the_addresss() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(MAX_FAILURES_PER_NAME - 1):
        throttle.failed("anna", "a")
    throttle.succeeded("anna")
    for _ in range(MAX_FAILURES_PER_NAME - 1):  # 8 in the window, but 4 since the success
        throttle.failed("anna", "a")
    assert throttle.retry_after_s("anna", "a") is None
    throttle.failed("anna", "a")
    assert throttle.retry_after_s("anna", "c") is not None
    throttle.succeeded("anna")
    assert throttle.retry_after_s("anna", "c") is None
    # The address keeps counting: a login of one's own does not reset it.
    for i in range(MAX_FAILURES_PER_ADDRESS - 2 * MAX_FAILURES_PER_NAME + 1):
        throttle.failed(f"n{i}", "a")
    assert throttle.retry_after_s("bob", "a") is not None


def test_throttle_table_stays_bounded_under_a_flood_of_made_up_names() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    tracked = throttle._failures  # the table of names and addresses
    for i in range(MAX_TRACKED_KEYS + 2_000):  # all within the window
        throttle.failed(f"made-up-{i}", "10.9.9.9")
        assert len(tracked) <= MAX_TRACKED_KEYS
    assert throttle.retry_after_s("made-up-0", "10.9.9.8") is None  # forgotten, not locked
    # Later, the expired ones are forgotten first.
    clock.now += WINDOW_S + 1
    throttle.failed("late", "10.9.9.7")
    assert len(tracked) <= MAX_TRACKED_KEYS
    assert throttle.retry_after_s("late", "10.9.9.7") is None


def test_throttle_table_stays_bounded_when_every_failure_has_a_new_address() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    tracked = throttle._failures
    most = 0
    for i in range(MAX_TRACKED_KEYS // 2 + 100):  # two new keys a failure
        throttle.failed(f"made-up-{i}", f"10.{i // 65536}.{i // 256 % 256}.{i % 256}")
        most = max(most, len(tracked))
    assert most <= MAX_TRACKED_KEYS


def test_simultaneous_attempts_are_counted_before_any_password_is_checked() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    started = [throttle.begin("anna", "10.0.0.1") for _ in range(40)]  # none answered yet
    assert started.count(None) == MAX_FAILURES_PER_NAME
    throttle.succeeded("bob", "10.0.0.9")  # another address: nothing of anna's is undone
    assert throttle.begin("anna", "10.0.0.2") is not None


def test_a_right_password_takes_its_attempt_back_from_the_address() -> None:
    throttle = LoginThrottle(clock=FakeClock())
    for i in range(3 * MAX_FAILURES_PER_ADDRESS):  # many dispatchers logging in right
        assert throttle.begin(f"d{i}", "10.0.0.1") is None
        throttle.succeeded(f"d{i}", "10.0.0.1")


def test_sockets_of_sessions_that_ended_without_logout_are_closed() -> None:
    closed: list[str] = []
    sockets = SessionSockets(closed.append)
    sockets.opened("live", "s1")
    sockets.opened("expired", "s2")
    sockets.opened("expired", "s3")
    assert sockets.close_ended(lambda token: token == "live") == 1
    assert sorted(closed) == ["s2", "s3"]


def test_a_flood_of_made_up_names_does_not_unlock_a_locked_name() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock=clock)
    for _ in range(MAX_FAILURES_PER_NAME):
        throttle.failed("anna", "10.0.0.1")
    for i in range(MAX_TRACKED_KEYS + 500):  # from many addresses, 1 failure each
        throttle.failed(f"made-up-{i}", f"10.{i // 65536 + 1}.{i // 256 % 256}.{i % 256}")
    assert throttle.retry_after_s("anna", "10.0.0.2") is not None


# ---------------------------------------------------------------------------- 2. same time
def _time_gap_s(unknown_s: Callable[[], float], known_s: Callable[[], float]) -> float:
    """How much longer an unknown name takes than a known one (negative: shorter).

    The median of :data:`TRIES` paired differences, each pair in alternating order so a
    busy moment of the shared machine weighs on both sides. A systematic gap shows in
    every round; up to three rounds are measured, the smallest gap is returned.
    """
    gaps: list[float] = []
    for _ in range(ROUNDS):
        gc.collect()
        pairs: list[float] = []
        for i in range(TRIES):
            if i % 2 == 0:
                unknown = unknown_s()
                known = known_s()
            else:
                known = known_s()
                unknown = unknown_s()
            pairs.append(unknown - known)
        gaps.append(statistics.median(pairs))
        if abs(gaps[-1]) < SAME_TIME_S:
            break
    return min(gaps, key=abs)


def test_check_user_takes_as_long_for_an_unknown_name(
    tmp_path: Path, user: str, password: str
) -> None:
    store = EventStore(tmp_path / "users.sqlite")

    def check_s(name: str) -> float:
        started = time.perf_counter()
        assert not store.check_user(name, "wrong password")
        return time.perf_counter() - started

    try:
        store.add_user(user, password)
        assert not store.check_user("nobody", password)
        assert store.check_user(user, password)
        gap = _time_gap_s(lambda: check_s("nobody"), lambda: check_s(user))
        assert abs(gap) < SAME_TIME_S, f"an unknown name takes {gap * 1000:+.1f} ms longer"
    finally:
        store.close()


def test_login_post_takes_as_long_for_an_unknown_name(app: Flask, user: str) -> None:
    client = app.test_client()
    token = form_token(client.get("/login").get_data(as_text=True))

    def post_s(name: str) -> float:
        _rt(app).throttle = LoginThrottle()  # measure the check, not the throttle's 429
        started = time.perf_counter()
        response = client.post(
            "/login", data={"name": name, "password": "wrong password", "csrf_token": token}
        )
        elapsed = time.perf_counter() - started
        assert response.status_code == 401
        return elapsed

    post_s("nobody")  # warm up
    gap = _time_gap_s(lambda: post_s("nobody"), lambda: post_s(user))
    assert abs(gap) < SAME_TIME_S, f"an unknown name takes {gap * 1000:+.1f} ms longer"


# ---------------------------------------------------------------------------- 3. logout
Server = Any  # the ``live_server`` fixture: a conftest.Server


@pytest.fixture(scope="module")
def server(live_server: Server) -> Server:
    return live_server


class Socket:
    """A python-socketio client over WebSocket with a session's cookie."""

    def __init__(self, server: Server, cookie: str) -> None:
        self.gone = threading.Event()
        self.client = socketio.Client(reconnection=False)
        self.client.on("disconnect", self._on_disconnect)
        self.client.connect(server.url, headers={"Cookie": cookie}, transports=["websocket"])

    def _on_disconnect(self, *args: Any) -> None:
        self.gone.set()

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


def test_logout_revokes_the_session_and_disconnects_its_sockets_only(server: Server) -> None:
    leaving = log_in(server.url, server.user, server.password)
    staying = log_in(server.url, server.user, server.password)
    old_cookie = cookie_header(leaving)
    other_cookie = cookie_header(staying)
    assert old_cookie != other_cookie
    sockets = [Socket(server, old_cookie), Socket(server, old_cookie)]
    other = Socket(server, other_cookie)
    try:
        assert all(s.client.connected for s in [*sockets, other])
        assert other.client.call("sync", {}, timeout=10)["ok"] is True

        page = leaving.get(server.url + "/", timeout=10)
        assert page.status_code == 200
        response = leaving.post(
            server.url + "/logout",
            data={"csrf_token": form_token(page.text)},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302
        logged_out = time.monotonic()
        for s in sockets:
            assert s.gone.wait(max(0.0, logged_out + 1.0 - time.monotonic())), (
                "the session's socket was not disconnected within 1 s"
            )
        assert not any(s.client.connected for s in sockets)

        # The old cookie, replayed as it was, is worthless.
        replay = requests.get(server.url + "/api/state", headers={"Cookie": old_cookie}, timeout=10)
        assert replay.status_code == 401
        with pytest.raises(socketio.exceptions.ConnectionError):
            Socket(server, old_cookie)

        # The other session of the same user goes on.
        time.sleep(0.5)
        assert other.client.connected and not other.gone.is_set()
        assert other.client.call("sync", {}, timeout=10)["ok"] is True
        kept = requests.get(server.url + "/api/state", headers={"Cookie": other_cookie}, timeout=10)
        assert kept.status_code == 200
    finally:
        for s in [*sockets, other]:
            s.close()
        leaving.close()
        staying.close()


def test_socket_io_without_a_live_session_is_refused_before_engine_io(server: Server) -> None:
    handshake = "/socket.io/?EIO=4&transport=polling"
    anonymous = requests.get(server.url + handshake, timeout=5)
    assert anonymous.status_code == 401
    http = log_in(server.url, server.user, server.password)
    assert http.get(server.url + handshake, timeout=5).status_code == 200


def test_a_socket_event_of_an_ended_session_is_refused(
    app: Flask, login: Login, connect: Connect
) -> None:
    client = login(app)
    sio = connect(app, client)
    assert sio.emit("sync", {}, callback=True)["ok"] is True
    sio.get_received()
    _rt(app).store.end_session(_session_token(client))
    ack = sio.emit("sync", {}, callback=True)
    assert ack["ok"] is False
    errors = [m["args"][0] for m in sio.get_received() if m["name"] == "error"]
    assert errors == [ack["error"]]
    assert errors[0]["field"] == "session"
    assert errors[0]["event"] == "sync"
    assert not _logged_in(client)


def test_logout_disconnects_the_sessions_test_socket(
    app: Flask, login: Login, connect: Connect
) -> None:
    leaving = login(app)
    staying = login(app)
    sio = connect(app, leaving)
    other = connect(app, staying)
    token = form_token(leaving.get("/").get_data(as_text=True))
    assert leaving.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not sio.is_connected()
    assert other.is_connected()
    assert other.emit("sync", {}, callback=True)["ok"] is True
    assert not _logged_in(leaving)
    assert _logged_in(staying)
    # A new socket with the logged-out client is refused.
    assert not flask_socketio.test_client(app, flask_test_client=leaving).is_connected()


# ---------------------------------------------------------------------------- 4. expiry
def test_a_session_expires_after_its_lifetime(tmp_path: Path, user: str, password: str) -> None:
    store = EventStore(tmp_path / "s.sqlite")
    try:
        store.add_user(user, password)
        opened = 1_800_000_000.0
        token = store.open_session(user, now_s=opened)
        assert store.session_user(token, now_s=opened) == user
        assert store.session_user(token, now_s=opened + SESSION_LIFETIME_S - 1) == user
        assert store.session_user(token, now_s=opened + SESSION_LIFETIME_S) is None
        assert store.session_user(token, now_s=opened + SESSION_LIFETIME_S + 1) is None
        fresh = store.open_session(user)
        assert store.session_user(fresh) == user
        assert store.session_user("not-a-token") is None
        assert store.session_user(None) is None
        store.end_session(fresh)
        assert store.session_user(fresh) is None
    finally:
        store.close()


def test_an_expired_session_cookie_gets_401(app: Flask, login: Login) -> None:
    client = login(app)
    assert _logged_in(client)
    token = _session_token(client)
    store = _rt(app).store
    with sqlite3.connect(store.path) as db:
        db.execute(
            "UPDATE sessions SET created_at = created_at - ? WHERE token_hash = ?",
            (SESSION_LIFETIME_S + 1, hashlib.sha256(token.encode()).hexdigest()),
        )
    db.close()
    assert not _logged_in(client)


def test_a_deleted_users_session_is_worthless(app: Flask, login: Login, user: str) -> None:
    client = login(app)
    store = _rt(app).store
    token = _session_token(client)
    assert store.session_user(token) == user
    with sqlite3.connect(store.path) as db:
        db.execute("DELETE FROM users WHERE name = ?", (user,))
    db.close()
    assert store.session_user(token) is None
    assert not _logged_in(client)
    assert not flask_socketio.test_client(app, flask_test_client=client).is_connected()


# ---------------------------------------------------------------------------- 5. files
def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777


def test_secret_files_are_0600_whatever_existed_before(tmp_path: Path) -> None:
    db = tmp_path / "dispatch.sqlite"
    paths = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), tmp_path / FIRST_LOGIN_FILE]
    for path in paths:
        path.touch()
        os.chmod(path, 0o644)
        assert _mode(path) == 0o644
    store = EventStore(db)
    try:
        password = ensure_first_user(store, folder=tmp_path)
        assert password and password in (tmp_path / FIRST_LOGIN_FILE).read_text()
        store.open_session("dispatcher")
        for path in paths:
            assert _mode(path) == SECRET_FILE_MODE == 0o600, path
    finally:
        store.close()


def test_a_fresh_database_and_its_wal_files_are_0600(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        db = tmp_path / "runtime" / "dispatch.sqlite"
        store = EventStore(db)
        try:
            store.add_user("anna", "a long password")
            store.secret_key()
            wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
            assert wal.exists() and shm.exists()
            for path in (db, wal, shm):
                assert _mode(path) == 0o600, path
        finally:
            store.close()
    finally:
        os.umask(old_umask)


def test_the_session_token_is_stored_only_as_its_hash(tmp_path: Path) -> None:
    db = tmp_path / "dispatch.sqlite"
    store = EventStore(db)
    try:
        store.add_user("anna", "a long password")
        token = store.open_session("anna")
        with sqlite3.connect(db) as reader:
            rows = reader.execute("SELECT * FROM sessions").fetchall()
        reader.close()
        assert len(rows) == 1
        assert token not in [str(value) for value in rows[0]]
        assert hashlib.sha256(token.encode()).hexdigest() in rows[0]
        on_disk = b"".join(
            path.read_bytes() for path in tmp_path.iterdir() if path.name.startswith(db.name)
        )
        assert token.encode() not in on_disk
        assert hashlib.sha256(token.encode()).hexdigest().encode() in on_disk
    finally:
        store.close()


# ---------------------------------------------------------------------------- 6. CSRF
def test_login_without_or_with_a_wrong_csrf_token_is_refused(
    app: Flask, user: str, password: str, login: Login
) -> None:
    form = {"name": user, "password": password}
    client = app.test_client()
    client.get("/login")  # the session holds a CSRF secret, the form is not used
    assert client.post("/login", data=form).status_code == 400
    assert not _logged_in(client)
    response = client.post("/login", data={**form, "csrf_token": "forged"})
    assert response.status_code == 400
    assert not _logged_in(client)
    # Another site's page posting to us: no token, its own Origin.
    response = client.post("/login", data=form, headers={"Origin": "https://evil.example"})
    assert response.status_code == 400
    assert not _logged_in(client)
    # An attacker's own valid token does not fit the victim's session.
    attacker = app.test_client()
    stolen = form_token(attacker.get("/login").get_data(as_text=True))
    response = client.post("/login", data={**form, "csrf_token": stolen})
    assert response.status_code == 400
    assert not _logged_in(client)
    # With the form's token it works.
    token = form_token(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={**form, "csrf_token": token}).status_code == 302
    assert _logged_in(client)


def test_logout_without_or_with_a_wrong_csrf_token_is_refused(app: Flask, login: Login) -> None:
    client = login(app)
    assert client.post("/logout").status_code == 400
    assert _logged_in(client)
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert _logged_in(client)
    response = client.post("/logout", headers={"Origin": "https://evil.example"})
    assert response.status_code == 400
    assert _logged_in(client)
    other = login(app)  # another session's valid token
    stolen = form_token(other.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": stolen}).status_code == 400
    assert _logged_in(client)
    assert _logged_in(other)
    token = form_token(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not _logged_in(client)
    assert _logged_in(other)


# ---------------------------------------------------------------------------- 7. Secure
def _login_set_cookie(app: Flask, user: str, password: str, base_url: str) -> str:
    client = app.test_client()
    page = client.get("/login", base_url=base_url)
    response = client.post(
        "/login",
        base_url=base_url,
        data={"name": user, "password": password, "csrf_token": form_token(page.text)},
        headers={"Referer": base_url + "/login"},
    )
    assert response.status_code == 302, response.data
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def _flags(set_cookie: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in set_cookie.split(";")[1:]}


def test_secure_cookies_set_the_secure_flag(
    new_app: NewApp, tmp_path: Path, user: str, password: str
) -> None:
    secure = new_app(tmp_path / "secure.sqlite", SESSION_COOKIE_SECURE=True)
    cookie = _login_set_cookie(secure, user, password, "https://localhost")
    assert "secure" in _flags(cookie)
    assert "httponly" in _flags(cookie)
    plain = new_app(tmp_path / "plain.sqlite")
    cookie = _login_set_cookie(plain, user, password, "http://localhost")
    assert "secure" not in _flags(cookie)
    assert "httponly" in _flags(cookie)


def test_serve_secure_cookies_flag_parses() -> None:
    parser = build_parser()
    assert parser.parse_args(["serve", "--secure-cookies"]).secure_cookies is True
    assert parser.parse_args(["serve"]).secure_cookies is False
