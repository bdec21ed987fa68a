"""The event store as it was before the records: events, users, truck positions, settings,
sessions.

A database written by that store (tables present, no ``alembic_version``) keeps its tables
and rows: only what is missing is created.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_APPEND_ONLY = (
    "CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events "
    "BEGIN SELECT RAISE(ABORT, 'events are append-only'); END",
)
_POSTGRES_APPEND_ONLY = (
    "CREATE OR REPLACE FUNCTION events_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'events are append-only'; END $$ LANGUAGE plpgsql",
    "DROP TRIGGER IF EXISTS events_append_only ON events",
    "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
    "FOR EACH ROW EXECUTE FUNCTION events_append_only()",
)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "events" not in existing:
        op.create_table(
            "events",
            sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("at_s", sa.Float, nullable=False),
            sa.Column("kind", sa.Text, nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
            sa.Column("user", sa.Text, nullable=False),
            sa.Column("recorded_at", sa.Float, nullable=False),
            sqlite_autoincrement=True,
        )
    if "users" not in existing:
        op.create_table(
            "users",
            sa.Column("name", sa.Text, primary_key=True),
            sa.Column("password_hash", sa.Text, nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
        )
    if "truck_positions" not in existing:
        op.create_table(
            "truck_positions",
            sa.Column("truck_id", sa.Text, primary_key=True),
            sa.Column("lon", sa.Float, nullable=False),
            sa.Column("lat", sa.Float, nullable=False),
            sa.Column("at_s", sa.Float, nullable=False),
        )
    if "settings" not in existing:
        op.create_table(
            "settings",
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
        )
    if "sessions" not in existing:
        op.create_table(
            "sessions",
            sa.Column("token_hash", sa.Text, primary_key=True),
            sa.Column("user", sa.Text, nullable=False),
            sa.Column("created_at", sa.Float, nullable=False),
        )
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_APPEND_ONLY if dialect == "sqlite" else _POSTGRES_APPEND_ONLY:
        op.execute(statement)
