"""Nothing acknowledged is lost when the server is killed (SIGKILL, the whole process group)
at random moments of a stream of commands, on SQLite and on PostgreSQL: after each restart
every acknowledged command is there, and each job is as the dispatchers last saw it (or one
command further: a command committed but killed before its answer left)."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest
import requests
from socketio import Client as SocketClient
from sqlalchemy import select

from records import schema
from records.store import EventStore
from tests.conftest import fresh_postgres_database
from webmap.client import cookie_header, log_in

ROOT = Path(__file__).resolve().parents[1]
KILLS = 10
COMMANDS_AT_LEAST = 500
STEPS = ("en_route", "on_scene", "fixed", "closed")
USER, PASSWORD = "kai", "crash-test-password"
CALL_TIMEOUT_S = 2.0
"""A command answers within milliseconds; a killed server never does."""
CALL_PLACES = [(116.3975, 39.9087), (116.46, 39.91), (116.32, 39.98), (116.40, 39.86)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Servers:
    """Forks real servers from :mod:`tests.server_factory` (the network loaded once)."""

    def __init__(self, log: Path) -> None:
        self.log = log.open("ab")
        self.factory = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "server_factory.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            text=True,
        )
        assert self.factory.stdout is not None and self.factory.stdin is not None
        assert self.factory.stdout.readline().strip() == "ready", "the factory did not start"

    @contextmanager
    def running(self, db: str) -> Iterator[tuple[str, int]]:
        """A server on ``db``: its URL and process group; killed (SIGKILL) on leaving."""
        assert self.factory.stdin is not None and self.factory.stdout is not None
        port = _free_port()
        self.factory.stdin.write(f"{port} {db}\n")
        self.factory.stdin.flush()
        pid = int(self.factory.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        try:
            while True:
                try:
                    if requests.get(url + "/healthz", timeout=1).ok:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail("the server did not start")
                time.sleep(0.1)
            yield url, pid
        finally:
            _kill(pid)

    def close(self) -> None:
        self.factory.kill()
        self.factory.wait()
        for pipe in (self.factory.stdin, self.factory.stdout):
            if pipe is not None:
                pipe.close()
        self.log.close()


def _kill(pid: int) -> None:
    """SIGKILL the server's whole process group and reap its leader."""
    with suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with suppress(ChildProcessError):
        os.waitpid(pid, 0)


class Stream:
    """A dispatcher sending commands one after another, noting what was acknowledged and
    what the server broadcast."""

    def __init__(self, url: str) -> None:
        self.acked: dict[str, dict[str, Any]] = {}
        """Each job as the last acknowledgement showed it."""
        self.seen: dict[str, dict[str, Any]] = {}
        """Each job as the last broadcast showed it."""
        self.sent = 0
        self.acknowledged = 0
        self.client = SocketClient(reconnection=False)
        self.client.on("job_updated", self._seen)
        with log_in(url, USER, PASSWORD) as http:
            cookie = cookie_header(http)
        self.client.connect(url, headers={"Cookie": cookie}, transports=["websocket"])

    def _seen(self, job: dict[str, Any]) -> None:
        known = self.seen.get(job["id"])
        if known is None or job["version"] >= known["version"]:
            self.seen[job["id"]] = job

    def _call(self, event: str, data: dict[str, Any]) -> dict[str, Any] | None:
        self.sent += 1
        answer: dict[str, Any] = self.client.call(event, data, timeout=CALL_TIMEOUT_S)
        if not answer.get("ok"):
            return None
        self.acknowledged += 1
        job = answer["job"]
        self.acked[job["id"]] = job
        return answer

    def run(self, rng: random.Random, stop: threading.Event) -> None:
        """Take calls and work them to the end until ``stop`` or the server dies."""
        try:
            while not stop.is_set():
                where = rng.choice(CALL_PLACES)
                call = {
                    "caller": {"name": "测试", "phone": "13800138000"},
                    "vehicle": {"plate": "京A12345", "model": "Passat", "colour": "black"},
                    "member": False,
                    "customer_details": "crash test",
                    "location": [where[0] + rng.uniform(-0.01, 0.01), where[1]],
                    "fault_symptoms": "won't start",
                    "fault_category": "flat_battery",
                    "customer_need": "start the car",
                }
                answer = self._call("intake", call)
                best = (answer or {}).get("proposal", {}).get("best")
                if answer is None or best is None:
                    continue
                job = answer["job"]
                step = self._call(
                    "dispatch",
                    {"job_id": job["id"], "truck_id": best["truck"], "version": job["version"]},
                )
                for state in STEPS:
                    if step is None or stop.is_set():
                        break
                    job = step["job"]
                    step = self._call(
                        "advance", {"job_id": job["id"], "state": state, "version": job["version"]}
                    )
        except Exception:  # the server was killed under the command
            return


def _jobs_after_restart(url: str) -> dict[str, dict[str, Any]]:
    states: list[dict[str, Any]] = []
    client = SocketClient(reconnection=False)
    client.on("state", states.append)
    with log_in(url, USER, PASSWORD) as http:
        cookie = cookie_header(http)
    client.connect(url, headers={"Cookie": cookie}, transports=["websocket"])
    deadline = time.monotonic() + 10
    while not states and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    assert states, "no state after the restart"
    return {job["id"]: job for job in states[0]["jobs"]}


def _recorded_jobs(db: str) -> dict[str, dict[str, Any]]:
    """Every job as the records hold it (closed ones too: they leave the live map)."""
    store = EventStore(db)
    try:
        with store.engine.connect() as connection:
            details = connection.execute(select(schema.job_details.c.detail)).scalars().all()
    finally:
        store.close()
    return {job["id"]: job for job in map(json.loads, details)}


def _comparable(job: dict[str, Any]) -> dict[str, Any]:
    """A job without its promise (a prediction, made again at the restart time)."""
    return {k: v for k, v in job.items() if k != "promise"}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_killed_servers_lose_no_acknowledged_command(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        db = str(tmp_path / "crash.sqlite")
    else:
        db = fresh_postgres_database(request.getfixturevalue("postgres_server"))
    added = subprocess.run(
        [sys.executable, "-m", "rescue.cli", "user", "add", USER, "--db", db],
        input=PASSWORD + "\n",
        text=True,
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    assert added.returncode == 0, added.stderr
    rng = random.Random(f"crash-{backend}")
    acked: dict[str, dict[str, Any]] = {}
    seen: dict[str, dict[str, Any]] = {}
    sent = acknowledged = 0
    servers = Servers(tmp_path / "server.log")
    request.addfinalizer(servers.close)
    for kill in range(KILLS + 1):
        with servers.running(db) as (url, pid):
            active = _jobs_after_restart(url)
            recorded = _recorded_jobs(db)
            # Replayed live state and records agree on every open job.
            for job_id, job in active.items():
                assert _comparable(recorded[job_id]) == _comparable(job), job_id
            for job_id, job in acked.items():
                assert job_id in recorded, f"acknowledged job {job_id} lost (kill {kill})"
                back = recorded[job_id]
                assert back["version"] >= job["version"], (job_id, job["version"], back)
                if back["version"] == job["version"]:
                    assert back["state"] == job["state"]
            for job_id, job in seen.items():
                back = recorded[job_id]
                assert back["version"] in (job["version"], job["version"] + 1), job_id
                if back["version"] == job["version"]:
                    assert _comparable(back) == _comparable(job)
            if kill == KILLS:
                break
            stream, stop = Stream(url), threading.Event()
            worker = threading.Thread(target=stream.run, args=(rng, stop), daemon=True)
            worker.start()
            target = rng.randint(45, 65)  # commands before this kill, at a random moment
            while stream.sent < target and worker.is_alive():
                time.sleep(0.001)
            time.sleep(rng.uniform(0.0, 0.02))
            os.killpg(pid, signal.SIGKILL)
            stop.set()
            worker.join(timeout=30)
            stream.client.disconnect()
            acked.update(stream.acked)
            for job_id, job in stream.seen.items():
                if job_id not in seen or job["version"] >= seen[job_id]["version"]:
                    seen[job_id] = job
            sent += stream.sent
            acknowledged += stream.acknowledged
    assert sent >= COMMANDS_AT_LEAST, sent
    assert acknowledged >= COMMANDS_AT_LEAST * 0.9, acknowledged
