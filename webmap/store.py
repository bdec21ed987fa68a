"""Persistence of the dispatch room in SQLite (stdlib ``sqlite3``).

- ``events``: every accepted command, append-only (triggers refuse UPDATE and DELETE);
  replaying them through the board rebuilds the live state after a restart.
- ``users``: dispatchers with werkzeug password hashes.
- ``truck_positions``: the last known GPS position of each truck (telemetry, not a
  command: flushed every few seconds, so a crash loses at most those seconds of movement).
- ``settings``: the session signing key, generated on first start.

A commit is durable when :meth:`EventStore.append` returns (WAL, ``synchronous=FULL``),
so a command is acknowledged only once it is on disk.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from werkzeug.security import check_password_hash, generate_password_hash

from geo.config import PROJECT_ROOT

DEFAULT_DB_PATH = PROJECT_ROOT / "data" / "runtime" / "dispatch.sqlite"
USER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MIN_PASSWORD_LEN = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_s REAL NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    user TEXT NOT NULL,
    recorded_at REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS truck_positions (
    truck_id TEXT PRIMARY KEY,
    lon REAL NOT NULL,
    lat REAL NOT NULL,
    at_s REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class Event:
    seq: int
    at_s: float
    kind: str
    payload: dict[str, Any]
    user: str


class EventStore:
    """One SQLite file; safe to share between threads (one connection behind a lock)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ events
    def append(self, kind: str, payload: Mapping[str, Any], *, at_s: float, user: str) -> int:
        """Store one accepted command; returns its sequence number once it is on disk."""
        text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        with self._lock:
            cursor = self._conn.execute(
                "INSERT INTO events (at_s, kind, payload, user, recorded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (float(at_s), kind, text, user, time.time()),
            )
            return int(cursor.lastrowid or 0)

    def events(self, *, after_seq: int = 0) -> Iterator[Event]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT seq, at_s, kind, payload, user FROM events WHERE seq > ? ORDER BY seq",
                (after_seq,),
            ).fetchall()
        for seq, at_s, kind, payload, user in rows:
            yield Event(int(seq), float(at_s), kind, json.loads(payload), user)

    def event_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def last_at_s(self) -> float:
        """Time of the latest event (0 when there is none)."""
        with self._lock:
            value = self._conn.execute("SELECT MAX(at_s) FROM events").fetchone()[0]
        return float(value or 0.0)

    # ------------------------------------------------------------------ positions
    def save_positions(self, positions: Mapping[str, tuple[float, float]], *, at_s: float) -> None:
        rows = [(truck_id, lon, lat, at_s) for truck_id, (lon, lat) in positions.items()]
        if not rows:
            return
        with self._lock:
            self._conn.execute("BEGIN")
            try:
                self._conn.executemany(
                    "INSERT INTO truck_positions (truck_id, lon, lat, at_s) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(truck_id) DO UPDATE SET lon=excluded.lon, lat=excluded.lat, "
                    "at_s=excluded.at_s",
                    rows,
                )
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def positions(self) -> dict[str, tuple[float, float]]:
        with self._lock:
            rows = self._conn.execute("SELECT truck_id, lon, lat FROM truck_positions").fetchall()
        return {truck_id: (float(lon), float(lat)) for truck_id, lon, lat in rows}

    # ------------------------------------------------------------------ users
    def add_user(self, name: str, password: str) -> None:
        """Add a dispatcher; raises ValueError naming the bad field."""
        if not isinstance(name, str) or not USER_NAME.match(name):
            raise ValueError(f"name={name!r}: 1-40 letters, digits, '.', '_' or '-'")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LEN:
            raise ValueError(f"password: at least {MIN_PASSWORD_LEN} characters")
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                    (name, generate_password_hash(password), time.time()),
                )
            except sqlite3.IntegrityError:
                raise ValueError(f"name={name!r}: user already exists") from None

    def check_user(self, name: Any, password: Any) -> bool:
        if not isinstance(name, str) or not isinstance(password, str):
            return False
        with self._lock:
            row = self._conn.execute(
                "SELECT password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        return row is not None and check_password_hash(row[0], password)

    def has_user(self, name: Any) -> bool:
        if not isinstance(name, str):
            return False
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
        return row is not None

    def user_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    # ------------------------------------------------------------------ settings
    def secret_key(self) -> str:
        """The session signing key: generated once, kept so sessions survive a restart."""
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO settings (key, value) VALUES ('secret_key', ?)",
                (secrets.token_hex(32),),
            )
            row = self._conn.execute(
                "SELECT value FROM settings WHERE key = 'secret_key'"
            ).fetchone()
        return str(row[0])
