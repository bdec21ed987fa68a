"""The records database on both backends (SQLite file, throwaway PostgreSQL): migrations from
an empty database and from the store's previous schema (its events replay after the
upgrade), append-only events, one transaction per command with its records, one writer."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError

from records import schema
from records.database import WriterRefusedError, schema_revision
from records.store import EventStore, encode_payload

MakeCall = Callable[..., dict[str, Any]]

# The store's schema before the records (stdlib sqlite3, no Alembic): a database written by it
# must upgrade in place and replay.
PREVIOUS_SCHEMA = """
CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, at_s REAL NOT NULL,
    kind TEXT NOT NULL, payload TEXT NOT NULL, user TEXT NOT NULL, recorded_at REAL NOT NULL);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TABLE users (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE truck_positions (truck_id TEXT PRIMARY KEY, lon REAL NOT NULL, lat REAL NOT NULL,
    at_s REAL NOT NULL);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sessions (token_hash TEXT PRIMARY KEY, user TEXT NOT NULL, created_at REAL NOT NULL);
"""


def test_an_empty_database_migrates_to_the_schema(db_url: str) -> None:
    store = EventStore(db_url)
    try:
        assert schema_revision(store.engine) == "0002"
        inspector = inspect(store.engine)
        tables = set(inspector.get_table_names()) - {"alembic_version"}
        assert tables == set(schema.metadata.tables)
        for name, table in schema.metadata.tables.items():
            columns = {c["name"] for c in inspector.get_columns(name)}
            assert columns == {c.name for c in table.columns}, name
            indexes = {i["name"] for i in inspector.get_indexes(name)}
            assert {i.name for i in table.indexes} <= indexes, name
        EventStore(db_url).close()  # opening again migrates nothing and keeps the rows
        assert schema_revision(store.engine) == "0002"
    finally:
        store.close()


def test_events_are_append_only(db_url: str) -> None:
    store = EventStore(db_url)
    try:
        store.append("intake", {"job_id": "J1"}, at_s=1.0, user="u")
        for statement in ("UPDATE events SET kind = 'x'", "DELETE FROM events"):
            with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as c:
                c.execute(text(statement))
        assert [e.kind for e in store.events()] == ["intake"]
    finally:
        store.close()


def test_a_command_and_its_records_commit_together_or_not_at_all(db_url: str) -> None:
    store = EventStore(db_url)

    def broken(connection: Any) -> None:
        connection.execute(schema.settings.insert(), {"key": "half", "value": "written"})
        raise RuntimeError("the disk is full")

    try:
        with pytest.raises(RuntimeError):
            store.append("intake", {"job_id": "J1"}, at_s=1.0, user="u", also=[broken])
        assert store.event_count() == 0
        assert store.setting("half") is None
    finally:
        store.close()


def test_a_second_writer_on_the_database_is_refused(db_url: str) -> None:
    first, second = EventStore(db_url), EventStore(db_url)
    try:
        first.claim_writer()
        with pytest.raises(WriterRefusedError, match="another dispatch server"):
            second.claim_writer()
        first.close()
        second.claim_writer()  # the first one stopped: the database is free again
    finally:
        first.close()
        second.close()


def test_a_second_server_on_the_database_does_not_start(
    new_app: Callable[..., Flask], tmp_path: Path
) -> None:
    new_app(tmp_path / "one.sqlite")
    with pytest.raises(WriterRefusedError):
        new_app(tmp_path / "one.sqlite")


def test_the_previous_schema_upgrades_and_its_events_replay(
    new_app: Callable[..., Flask],
    connect: Callable[..., Any],
    make_call: MakeCall,
    tmp_path: Path,
) -> None:
    # Events as today's store writes them, copied into a database of the previous schema.
    app = new_app(tmp_path / "today.sqlite")
    sio = connect(app)
    ack = sio.emit("intake", make_call(), callback=True)
    job, truck = ack["job"], ack["proposal"]["best"]["truck"]
    answer = sio.emit(
        "dispatch",
        {"job_id": job["id"], "truck_id": truck, "version": job["version"]},
        callback=True,
    )
    assert answer["ok"], answer
    runtime = app.extensions["rescue"]
    before = runtime.center.snapshot()["jobs"]
    events = list(runtime.store.events())
    runtime.close()

    old = tmp_path / "previous.sqlite"
    with sqlite3.connect(old) as connection:
        connection.executescript(PREVIOUS_SCHEMA)
        connection.executemany(
            "INSERT INTO events (seq, at_s, kind, payload, user, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            [(e.seq, e.at_s, e.kind, encode_payload(e.payload), e.user) for e in events],
        )

    again = new_app(old)
    store = again.extensions["rescue"].store
    assert schema_revision(store.engine) == "0002"
    report = again.extensions["rescue"].center.replay_report
    assert report == {"events": len(events), "skipped": []}
    after = again.extensions["rescue"].center.snapshot()["jobs"]
    assert [(j["id"], j["state"], j["truck_id"], j["version"]) for j in after] == [
        (j["id"], j["state"], j["truck_id"], j["version"]) for j in before
    ]
    # The records the old database lacked are written from its events.
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(schema.jobs.c.job_id, schema.jobs.c.order_no, schema.jobs.c.state)
        ).all()
        linked = connection.execute(select(schema.job_events.c.seq)).scalars().all()
    assert [(r.job_id, r.state) for r in rows] == [(job["id"], "assigned")]
    assert rows[0].order_no.endswith("-0001")
    assert sorted(linked) == [e.seq for e in events]
