"""The tables of the records database (SQLAlchemy Core).

The migrations in :mod:`records.migrations.versions` create exactly these; a test checks
that an upgraded database matches this metadata.

Times are epoch seconds (``*_s``); days are Beijing dates ``YYYY-MM-DD``; money in yuan;
distances in metres.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

metadata = MetaData()

# ---------------------------------------------------------------------------- event store
events = Table(
    "events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at_s", Float, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("user", Text, nullable=False),
    Column("recorded_at", Float, nullable=False),
    sqlite_autoincrement=True,
)
"""Every accepted command, append-only (the migrations add triggers refusing UPDATE and
DELETE); replaying them through the board rebuilds the live state."""

job_events = Table(
    "job_events",
    metadata,
    Column("job_id", Text, primary_key=True),
    Column("seq", Integer, primary_key=True),
)
"""Which events touched which job (a re-plan touches many): a job's history."""

users = Table(
    "users",
    metadata,
    Column("name", Text, primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

truck_positions = Table(
    "truck_positions",
    metadata,
    Column("truck_id", Text, primary_key=True),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("at_s", Float, nullable=False),
)

settings = Table(
    "settings",
    metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("user", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

# ---------------------------------------------------------------------------- jobs
jobs = Table(
    "jobs",
    metadata,
    Column("job_id", Text, primary_key=True),
    Column("order_no", Text, nullable=False, unique=True),
    # The work order's number: the Beijing day and its sequence, ``20261203-0007``.
    Column("day", Text, nullable=False),
    Column("hour", Integer, nullable=False),
    # Beijing hour of the call, 0-23.
    Column("created_at_s", Float, nullable=False),
    Column("deadline_s", Float, nullable=False),
    Column("state", Text, nullable=False),
    Column("zone", Text),
    Column("required_kind", Text, nullable=False),
    Column("converted", Boolean, nullable=False, default=False),
    # Came in as on-site service and became a tow (§3).
    Column("member", Boolean, nullable=False),
    Column("member_card", Text),
    Column("caller_name", Text, nullable=False),
    Column("phone", Text, nullable=False),
    Column("plate", Text, nullable=False),
    Column("truck_id", Text),
    Column("crew", Text, nullable=False, default=""),
    Column("assigned_at_s", Float),
    Column("arrived_at_s", Float),
    Column("finished_at_s", Float),
    # Fixed on site or delivered to the destination.
    Column("closed_at_s", Float),
    # Closed or cancelled.
    Column("driven_m", Float),
    # Road metres the truck drove to the scene.
    Column("tow_m", Float),
    Column("total_yuan", Float, nullable=False, default=0.0),
    Column("accident", Boolean, nullable=False, default=False),
    Column("insurer", Text),
    Column("last_seq", Integer, nullable=False),
)
Index("jobs_phone", jobs.c.phone)
Index("jobs_plate", jobs.c.plate)
Index("jobs_card", jobs.c.member_card)
Index("jobs_created", jobs.c.created_at_s)
Index("jobs_day", jobs.c.day)
Index("jobs_state", jobs.c.state)
Index("jobs_truck", jobs.c.truck_id)

job_details = Table(
    "job_details",
    metadata,
    Column("job_id", Text, ForeignKey("jobs.job_id"), primary_key=True),
    Column("detail", Text, nullable=False),
)
"""Each job's full record as JSON (intake, quote, history): the work order's content. Kept
apart from ``jobs`` so that the statistics and searches scan short rows."""

job_fees = Table(
    "job_fees",
    metadata,
    Column("job_id", Text, ForeignKey("jobs.job_id"), primary_key=True),
    Column("code", Text, primary_key=True),
    Column("fee_yuan", Float, nullable=False),
)
"""The quote's line items of each job (revenue by item)."""

# ---------------------------------------------------------------------------- members (§5)
members = Table(
    "members",
    metadata,
    Column("card_no", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("valid_from", Text, nullable=False),
    Column("valid_to", Text, nullable=False),
    # Last day of validity (inclusive), ``YYYY-MM-DD``.
    Column("fee_paid_yuan", Float, nullable=False),
    Column("receipt_no", Text),
    Column("enrolled_job_id", Text),
    # The call during which the caller joined ("join now"), if so.
    Column("created_at_s", Float, nullable=False),
    Column("created_by", Text, nullable=False),
)

member_phones = Table(
    "member_phones",
    metadata,
    Column("card_no", Text, ForeignKey("members.card_no"), primary_key=True),
    Column("phone", Text, primary_key=True),
)
Index("member_phones_phone", member_phones.c.phone)

member_plates = Table(
    "member_plates",
    metadata,
    Column("card_no", Text, ForeignKey("members.card_no"), primary_key=True),
    Column("plate", Text, primary_key=True),
)
Index("member_plates_plate", member_plates.c.plate)

# ---------------------------------------------------------------------------- work orders
work_orders = Table(
    "work_orders",
    metadata,
    Column("job_id", Text, ForeignKey("jobs.job_id"), primary_key=True),
    Column("payment_method", Text),
    # cash, card or member (:data:`records.work_orders.PAYMENT_METHODS`).
    Column("paid_yuan", Float),
    Column("signed_by", Text),
    Column("signed_at_s", Float),
    Column("updated_at_s", Float, nullable=False),
    Column("updated_by", Text, nullable=False),
)

claims = Table(
    "claims",
    metadata,
    Column("job_id", Text, ForeignKey("jobs.job_id"), primary_key=True),
    Column("insurer", Text, nullable=False),
    Column("path", Text, nullable=False),
    # insurer_tows or club_tows (SERVICE_RULES §6).
    Column("documents", Text, nullable=False),
    # JSON list of the claim documents in hand (codes of the checklist).
    Column("invoice_no", Text),
    Column("invoice_title", Text),
    Column("invoice_yuan", Float),
    Column("invoice_date", Text),
    Column("note", Text, nullable=False, default=""),
    Column("updated_at_s", Float, nullable=False),
    Column("updated_by", Text, nullable=False),
)

# ---------------------------------------------------------------------------- follow-ups (§8)
followups = Table(
    "followups",
    metadata,
    Column("job_id", Text, ForeignKey("jobs.job_id"), primary_key=True),
    Column("opened_at_s", Float, nullable=False),
    Column("due_at_s", Float, nullable=False),
    Column("outcome", Text),
    # satisfied, not_satisfied or complaint; NULL while not called.
    Column("complaint", Text, nullable=False, default=""),
    Column("called_by", Text),
    Column("called_at_s", Float),
)
Index("followups_due", followups.c.outcome, followups.c.due_at_s)

# ---------------------------------------------------------------------------- audit
record_log = Table(
    "record_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_s", Float, nullable=False),
    Column("user", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("job_id", Text),
    Column("card_no", Text),
    Column("payload", Text, nullable=False),
)
"""Every change of a record (member, work order, claim, follow-up): who, when, what."""
Index("record_log_job", record_log.c.job_id)
Index("record_log_card", record_log.c.card_no)
