"""The department's records on SQLAlchemy: the event store, members, work orders, insurance
claims, follow-up calls, statistics and job search.

An SQLite file by default (embedded, nothing to install), PostgreSQL by URL; the schema is
kept by Alembic migrations (:mod:`records.migrations`), run when a store opens.
"""
