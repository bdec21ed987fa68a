"""Alembic migrations of the records database (run by :func:`records.database.migrate`)."""
