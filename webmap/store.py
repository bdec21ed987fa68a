"""Persistence of the dispatch room in SQLite (stdlib ``sqlite3``).

- ``events``: every accepted command, append-only (triggers refuse UPDATE and DELETE);
  replaying them through the board rebuilds the live state after a restart.
- ``users``: dispatchers with werkzeug password hashes.
- ``truck_positions``: the last known GPS position of each truck (telemetry, not a
  command: flushed every few seconds, so a crash loses at most those seconds of movement).
- ``settings``: the session signing key, generated on first start.
- ``sessions``: the dispatchers' logins (a hash of each session's token), so a logout or
  an expiry ends a session on the server, whatever cookie is still around.

The database and its WAL files hold password hashes, session tokens' hashes and the
signing key: they are made readable by their owner only (0600), whatever existed before.

A commit is durable when :meth:`EventStore.append` returns (WAL, ``synchronous=FULL``),
so a command is acknowledged only once it is on disk.
"""

from __future__ import annotations

import hashlib
import json
import os
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
from geo.errors import InputError
from geo.i18n import LANGUAGES, language

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
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""
SECRET_FILE_MODE = 0o600
SESSION_LIFETIME_S = 24 * 3600
"""A login lasts a shift and a margin (shifts are at most 12 h), then asks again."""
_SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def private_file(path: Path) -> None:
    """Make ``path`` (created empty if missing) readable and writable by its owner only."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, SECRET_FILE_MODE)
    try:
        os.fchmod(fd, SECRET_FILE_MODE)
    finally:
        os.close(fd)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def encode_payload(payload: Mapping[str, Any]) -> str:
    """A command's payload as the store keeps it: compact JSON, finite numbers, UTF-8.

    Raises ``ValueError`` for what cannot be stored (a non-finite number, a lone
    surrogate), before anything is applied.
    """
    text = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    text.encode("utf-8")  # UnicodeEncodeError (a ValueError) on a lone surrogate
    return text


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
        # SQLite gives its WAL and shared-memory files the database file's mode.
        private_file(self.path)
        for suffix in _SQLITE_SIDE_FILES:
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.chmod(side, SECRET_FILE_MODE)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        self._conn.executescript(_SCHEMA)
        # Checked when a name is unknown, so unknown and known names take the same time.
        self._unknown_user_hash = generate_password_hash(secrets.token_urlsafe(16))

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------------ events
    def append(self, kind: str, payload: Mapping[str, Any] | str, *, at_s: float, user: str) -> int:
        """Store one accepted command (its payload, or :func:`encode_payload` of it);
        returns its sequence number once it is on disk."""
        text = payload if isinstance(payload, str) else encode_payload(payload)
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
        """Add a dispatcher; raises :class:`InputError` naming the bad field."""
        if not isinstance(name, str) or not USER_NAME.match(name):
            raise InputError("name", name, "1-40 letters, digits, '.', '_' or '-'")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD_LEN:
            raise InputError(
                "password", None, "at least {count} characters", count=MIN_PASSWORD_LEN
            )
        with self._lock:
            try:
                self._conn.execute(
                    "INSERT INTO users (name, password_hash, created_at) VALUES (?, ?, ?)",
                    (name, generate_password_hash(password), time.time()),
                )
            except sqlite3.IntegrityError:
                raise InputError("name", name, "user already exists") from None

    def check_user(self, name: Any, password: Any) -> bool:
        """Whether ``password`` is ``name``'s; as slow for an unknown name as for a known one."""
        if not isinstance(name, str) or not isinstance(password, str):
            name, password = "", ""
        with self._lock:
            row = self._conn.execute(
                "SELECT password_hash FROM users WHERE name = ?", (name,)
            ).fetchone()
        matches = check_password_hash(row[0] if row else self._unknown_user_hash, password)
        return row is not None and matches

    def has_user(self, name: Any) -> bool:
        if not isinstance(name, str):
            return False
        with self._lock:
            row = self._conn.execute("SELECT 1 FROM users WHERE name = ?", (name,)).fetchone()
        return row is not None

    def user_count(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    # ------------------------------------------------------------------ sessions
    def open_session(self, user: str, *, now_s: float | None = None) -> str:
        """A new session of ``user``: its token (only a hash of it is stored)."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._conn.execute(
                "INSERT INTO sessions (token_hash, user, created_at) VALUES (?, ?, ?)",
                (_token_hash(token), user, time.time() if now_s is None else now_s),
            )
        return token

    def session_user(self, token: Any, *, now_s: float | None = None) -> str | None:
        """The user of a live session (not ended, not expired, user still there), else None."""
        if not isinstance(token, str):
            return None
        since = (time.time() if now_s is None else now_s) - SESSION_LIFETIME_S
        with self._lock:
            row = self._conn.execute(
                "SELECT s.user FROM sessions s JOIN users u ON u.name = s.user "
                "WHERE s.token_hash = ? AND s.created_at > ?",
                (_token_hash(token), since),
            ).fetchone()
        return None if row is None else str(row[0])

    def end_session(self, token: Any) -> None:
        """Log a session out (and forget sessions expired long ago)."""
        if not isinstance(token, str):
            return
        with self._lock:
            self._conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))
            self._conn.execute(
                "DELETE FROM sessions WHERE created_at < ?", (time.time() - SESSION_LIFETIME_S,)
            )

    # ------------------------------------------------------------------ settings
    def user_language(self, user: str) -> str:
        """The page language ``user`` chose (:data:`geo.i18n.LANGUAGES`), else the default."""
        with self._lock:
            row = self._conn.execute(
                "SELECT value FROM settings WHERE key = ?", (f"language:{user}",)
            ).fetchone()
        return language(row[0] if row else None)

    def set_user_language(self, user: str, lang: Any) -> str:
        """Remember ``user``'s page language; refuses one the product does not have."""
        if language(lang, default="") != lang:
            raise InputError("lang", lang, "one of {languages}", languages=", ".join(LANGUAGES))
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)",
                (f"language:{user}", lang),
            )
        return str(lang)

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
