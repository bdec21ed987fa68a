"""The event store and the dispatch room's accounts, on the records database.

- ``events``: every accepted command, append-only; replaying them through the board rebuilds
  the live state after a restart. An acknowledged command is a committed transaction: the
  event, the jobs it touched (:mod:`records.jobs`) and whatever records go with it (a member
  enrolled during the call, a follow-up opened when a job closes) commit together or not at
  all.
- ``users``: dispatchers with werkzeug password hashes.
- ``truck_positions``: the last known GPS position of each truck (telemetry, not a
  command: flushed every few seconds, so a crash loses at most those seconds of movement).
- ``settings``: the session signing key and the dispatchers' languages.
- ``sessions``: the dispatchers' logins (a hash of each session's token), so a logout or
  an expiry ends a session on the server, whatever cookie is still around.

The database is an SQLite file (owner-only, 0600) by default or PostgreSQL by URL
(:func:`records.database.database_url`).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from geo.errors import InputError
from geo.i18n import LANGUAGES, language
from records import schema
from records.database import (
    DEFAULT_DB_PATH,
    SECRET_FILE_MODE,
    WriterLock,
    open_engine,
    private_file,
    sqlite_path,
)
from records.jobs import JobRow, write_jobs
from records.sql import upsert

__all__ = [
    "DEFAULT_DB_PATH",
    "SECRET_FILE_MODE",
    "Event",
    "EventStore",
    "encode_payload",
    "private_file",
]

USER_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")
MIN_PASSWORD_LEN = 8
SESSION_LIFETIME_S = 24 * 3600
"""A login lasts a shift and a margin (shifts are at most 12 h), then asks again."""
EVENT_BATCH = 5000
"""Events read per query while replaying (memory stays flat over long histories)."""

InTransaction = Callable[[Connection], None]
"""More records to write in the transaction of an event (see :meth:`EventStore.append`)."""


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
    """The records database (see :func:`records.database.database_url` for ``db``); safe
    to share between threads: writes go one at a time."""

    def __init__(self, db: Path | str | None = None) -> None:
        self.engine: Engine = open_engine(db)
        self.path = sqlite_path(self.engine.url)
        """The SQLite file, or None on PostgreSQL."""
        self._lock = threading.Lock()
        self._writer: WriterLock | None = None
        # Checked when a name is unknown, so unknown and known names take the same time.
        self._unknown_user_hash = generate_password_hash(secrets.token_urlsafe(16))

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return str(self.engine.dialect.name)

    def claim_writer(self) -> None:
        """Become the database's one writer; :class:`records.database.WriterRefusedError` when
        another dispatch server is (the claim ends with :meth:`close` or the process)."""
        if self._writer is None:
            self._writer = WriterLock(self.engine)

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self._writer.release()
                self._writer = None
            self.engine.dispose()

    # ------------------------------------------------------------------ events
    def append(
        self,
        kind: str,
        payload: Mapping[str, Any] | str,
        *,
        at_s: float,
        user: str,
        jobs: Sequence[JobRow] = (),
        also: Sequence[InTransaction] = (),
    ) -> int:
        """Store one accepted command (its payload, or :func:`encode_payload` of it) with
        the rows of the jobs it touched and the records ``also`` writes, in one
        transaction; returns the event's sequence number once it is committed."""
        text = payload if isinstance(payload, str) else encode_payload(payload)
        with self._lock, self.engine.begin() as connection:
            seq = int(
                connection.execute(
                    insert(schema.events).returning(schema.events.c.seq),
                    {
                        "at_s": float(at_s),
                        "kind": kind,
                        "payload": text,
                        "user": user,
                        "recorded_at": time.time(),
                    },
                ).scalar_one()
            )
            if jobs:
                upsert(
                    connection,
                    schema.job_events,
                    [{"job_id": row.job_id, "seq": seq} for row in jobs],
                )
                write_jobs(connection, jobs, seq=seq)
            for write in also:
                write(connection)
        return seq

    def link_events(self, links: Sequence[tuple[str, int]]) -> None:
        """Record which events touched which jobs, for events not linked yet (a database
        from before the records)."""
        with self.engine.connect() as connection:
            linked = connection.execute(select(func.max(schema.job_events.c.seq))).scalar()
        rows = [{"job_id": j, "seq": seq} for j, seq in links if seq > int(linked or 0)]
        if rows:
            self.write(lambda connection: upsert(connection, schema.job_events, rows))

    def stale_jobs(self, last_seq: Mapping[str, int]) -> list[str]:
        """The jobs of ``last_seq`` (job -> the last event touching it) whose record is
        missing or older than that event."""
        jobs = schema.jobs
        stored: dict[str, int] = {}
        ids = list(last_seq)
        with self.engine.connect() as connection:
            for start in range(0, len(ids), EVENT_BATCH):
                chunk = ids[start : start + EVENT_BATCH]
                found = connection.execute(
                    select(jobs.c.job_id, jobs.c.last_seq).where(jobs.c.job_id.in_(chunk))
                )
                stored.update((job_id, seq) for job_id, seq in found)
        return [job_id for job_id in ids if stored.get(job_id) != last_seq[job_id]]

    def backfill_jobs(self, seqs: Mapping[str, int], rows: Sequence[JobRow]) -> None:
        """Write ``rows``, each as of its event in ``seqs``, in one transaction."""

        def write(connection: Connection) -> None:
            for row in rows:
                write_jobs(connection, [row], seq=seqs[row.job_id])

        self.write(write)

    def write(self, *writes: InTransaction) -> None:
        """Run record writes (no event) in one transaction."""
        with self._lock, self.engine.begin() as connection:
            for write in writes:
                write(connection)

    def events(self, *, after_seq: int = 0) -> Iterator[Event]:
        """The stored events after ``after_seq``, in order."""
        table = schema.events
        last = after_seq
        while True:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(table.c.seq, table.c.at_s, table.c.kind, table.c.payload, table.c.user)
                    .where(table.c.seq > last)
                    .order_by(table.c.seq)
                    .limit(EVENT_BATCH)
                ).all()
            for seq, at_s, kind, payload, user in rows:
                yield Event(int(seq), float(at_s), kind, json.loads(payload), user)
            if len(rows) < EVENT_BATCH:
                return
            last = int(rows[-1][0])

    def event_count(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(schema.events)).scalar_one()
            )

    def last_at_s(self) -> float:
        """Time of the latest event (0 when there is none)."""
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(schema.events.c.at_s))).scalar()
        return float(value or 0.0)

    def last_seq(self) -> int:
        """Sequence number of the latest event (0 when there is none)."""
        with self.engine.connect() as connection:
            value = connection.execute(select(func.max(schema.events.c.seq))).scalar()
        return int(value or 0)

    # ------------------------------------------------------------------ positions
    def save_positions(self, positions: Mapping[str, tuple[float, float]], *, at_s: float) -> None:
        rows = [
            {"truck_id": truck_id, "lon": lon, "lat": lat, "at_s": at_s}
            for truck_id, (lon, lat) in positions.items()
        ]
        if rows:
            self.write(lambda connection: upsert(connection, schema.truck_positions, rows))

    def positions(self) -> dict[str, tuple[float, float]]:
        table = schema.truck_positions
        with self.engine.connect() as connection:
            rows = connection.execute(select(table.c.truck_id, table.c.lon, table.c.lat)).all()
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
        row = {
            "name": name,
            "password_hash": generate_password_hash(password),
            "created_at": time.time(),
        }
        try:
            with self._lock, self.engine.begin() as connection:
                connection.execute(insert(schema.users), row)
        except IntegrityError:
            raise InputError("name", name, "user already exists") from None

    def check_user(self, name: Any, password: Any) -> bool:
        """Whether ``password`` is ``name``'s; as slow for an unknown name as for a known one."""
        if not isinstance(name, str) or not isinstance(password, str):
            name, password = "", ""
        with self.engine.connect() as connection:
            stored = connection.execute(
                select(schema.users.c.password_hash).where(schema.users.c.name == name)
            ).scalar()
        matches = check_password_hash(stored or self._unknown_user_hash, password)
        return stored is not None and matches

    def has_user(self, name: Any) -> bool:
        if not isinstance(name, str):
            return False
        with self.engine.connect() as connection:
            found = connection.execute(
                select(schema.users.c.name).where(schema.users.c.name == name)
            ).scalar()
        return found is not None

    def user_count(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(schema.users)).scalar_one()
            )

    # ------------------------------------------------------------------ sessions
    def open_session(self, user: str, *, now_s: float | None = None) -> str:
        """A new session of ``user``: its token (only a hash of it is stored)."""
        token = secrets.token_urlsafe(32)
        row = {
            "token_hash": _token_hash(token),
            "user": user,
            "created_at": time.time() if now_s is None else now_s,
        }

        def add(connection: Connection) -> None:
            connection.execute(insert(schema.sessions), row)

        self.write(add)
        return token

    def session_user(self, token: Any, *, now_s: float | None = None) -> str | None:
        """The user of a live session (not ended, not expired, user still there), else None."""
        if not isinstance(token, str):
            return None
        since = (time.time() if now_s is None else now_s) - SESSION_LIFETIME_S
        sessions, users = schema.sessions, schema.users
        with self.engine.connect() as connection:
            user = connection.execute(
                select(sessions.c.user)
                .join(users, users.c.name == sessions.c.user)
                .where(sessions.c.token_hash == _token_hash(token), sessions.c.created_at > since)
            ).scalar()
        return None if user is None else str(user)

    def end_session(self, token: Any) -> None:
        """Log a session out (and forget sessions expired long ago)."""
        if not isinstance(token, str):
            return
        sessions = schema.sessions

        def forget(connection: Connection) -> None:
            connection.execute(sessions.delete().where(sessions.c.token_hash == _token_hash(token)))
            connection.execute(
                sessions.delete().where(sessions.c.created_at < time.time() - SESSION_LIFETIME_S)
            )

        self.write(forget)

    # ------------------------------------------------------------------ settings
    def setting(self, key: str) -> str | None:
        with self.engine.connect() as connection:
            value = connection.execute(
                select(schema.settings.c.value).where(schema.settings.c.key == key)
            ).scalar()
        return None if value is None else str(value)

    def user_language(self, user: str) -> str:
        """The page language ``user`` chose (:data:`geo.i18n.LANGUAGES`), else the default."""
        return language(self.setting(f"language:{user}"))

    def set_user_language(self, user: str, lang: Any) -> str:
        """Remember ``user``'s page language; refuses one the product does not have."""
        if language(lang, default="") != lang:
            raise InputError("lang", lang, "one of {languages}", languages=", ".join(LANGUAGES))
        row = {"key": f"language:{user}", "value": lang}
        self.write(lambda connection: upsert(connection, schema.settings, [row]))
        return str(lang)

    def secret_key(self) -> str:
        """The session signing key: generated once, kept so sessions survive a restart."""
        row = {"key": "secret_key", "value": secrets.token_hex(32)}
        table = schema.settings

        def keep_first(connection: Connection) -> None:
            dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
            connection.execute(dialect.insert(table).on_conflict_do_nothing(), row)

        self.write(keep_first)
        key = self.setting("secret_key")
        assert key is not None
        return key
