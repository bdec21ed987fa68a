"""Alembic's entry: migrations run on the connection :func:`records.database.migrate` gives."""

from __future__ import annotations

from alembic import context

from records.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the migrations through records.database.migrate(engine)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
