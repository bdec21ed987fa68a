"""The department's records: the jobs (a projection of the events, written in the same
transaction), their fees and events, members, work orders, claims, follow-ups, the record log.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_events",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job_id", "seq"),
    )
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("order_no", sa.Text(), nullable=False),
        sa.Column("day", sa.Text(), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        sa.Column("created_at_s", sa.Float(), nullable=False),
        sa.Column("deadline_s", sa.Float(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("zone", sa.Text(), nullable=True),
        sa.Column("required_kind", sa.Text(), nullable=False),
        sa.Column("converted", sa.Boolean(), nullable=False),
        sa.Column("member", sa.Boolean(), nullable=False),
        sa.Column("member_card", sa.Text(), nullable=True),
        sa.Column("caller_name", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("plate", sa.Text(), nullable=False),
        sa.Column("truck_id", sa.Text(), nullable=True),
        sa.Column("crew", sa.Text(), nullable=False),
        sa.Column("assigned_at_s", sa.Float(), nullable=True),
        sa.Column("arrived_at_s", sa.Float(), nullable=True),
        sa.Column("finished_at_s", sa.Float(), nullable=True),
        sa.Column("closed_at_s", sa.Float(), nullable=True),
        sa.Column("driven_m", sa.Float(), nullable=True),
        sa.Column("tow_m", sa.Float(), nullable=True),
        sa.Column("total_yuan", sa.Float(), nullable=False),
        sa.Column("accident", sa.Boolean(), nullable=False),
        sa.Column("insurer", sa.Text(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job_id"),
        sa.UniqueConstraint("order_no"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index("jobs_card", ["member_card"], unique=False)
        batch_op.create_index("jobs_created", ["created_at_s"], unique=False)
        batch_op.create_index("jobs_day", ["day"], unique=False)
        batch_op.create_index("jobs_phone", ["phone"], unique=False)
        batch_op.create_index("jobs_plate", ["plate"], unique=False)
        batch_op.create_index("jobs_state", ["state"], unique=False)
        batch_op.create_index("jobs_truck", ["truck_id"], unique=False)

    op.create_table(
        "members",
        sa.Column("card_no", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Text(), nullable=False),
        sa.Column("valid_to", sa.Text(), nullable=False),
        sa.Column("fee_paid_yuan", sa.Float(), nullable=False),
        sa.Column("receipt_no", sa.Text(), nullable=True),
        sa.Column("enrolled_job_id", sa.Text(), nullable=True),
        sa.Column("created_at_s", sa.Float(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("card_no"),
    )
    op.create_table(
        "record_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at_s", sa.Float(), nullable=False),
        sa.Column("user", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("job_id", sa.Text(), nullable=True),
        sa.Column("card_no", sa.Text(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("record_log", schema=None) as batch_op:
        batch_op.create_index("record_log_card", ["card_no"], unique=False)
        batch_op.create_index("record_log_job", ["job_id"], unique=False)

    op.create_table(
        "claims",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("insurer", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("documents", sa.Text(), nullable=False),
        sa.Column("invoice_no", sa.Text(), nullable=True),
        sa.Column("invoice_title", sa.Text(), nullable=True),
        sa.Column("invoice_yuan", sa.Float(), nullable=True),
        sa.Column("invoice_date", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated_at_s", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.job_id"],
        ),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.create_table(
        "followups",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("opened_at_s", sa.Float(), nullable=False),
        sa.Column("due_at_s", sa.Float(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("complaint", sa.Text(), nullable=False),
        sa.Column("called_by", sa.Text(), nullable=True),
        sa.Column("called_at_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.job_id"],
        ),
        sa.PrimaryKeyConstraint("job_id"),
    )
    with op.batch_alter_table("followups", schema=None) as batch_op:
        batch_op.create_index("followups_due", ["outcome", "due_at_s"], unique=False)

    op.create_table(
        "job_details",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.job_id"],
        ),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.create_table(
        "job_fees",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("fee_yuan", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.job_id"],
        ),
        sa.PrimaryKeyConstraint("job_id", "code"),
    )
    op.create_table(
        "member_phones",
        sa.Column("card_no", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_no"],
            ["members.card_no"],
        ),
        sa.PrimaryKeyConstraint("card_no", "phone"),
    )
    with op.batch_alter_table("member_phones", schema=None) as batch_op:
        batch_op.create_index("member_phones_phone", ["phone"], unique=False)

    op.create_table(
        "member_plates",
        sa.Column("card_no", sa.Text(), nullable=False),
        sa.Column("plate", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["card_no"],
            ["members.card_no"],
        ),
        sa.PrimaryKeyConstraint("card_no", "plate"),
    )
    with op.batch_alter_table("member_plates", schema=None) as batch_op:
        batch_op.create_index("member_plates_plate", ["plate"], unique=False)

    op.create_table(
        "work_orders",
        sa.Column("job_id", sa.Text(), nullable=False),
        sa.Column("payment_method", sa.Text(), nullable=True),
        sa.Column("paid_yuan", sa.Float(), nullable=True),
        sa.Column("signed_by", sa.Text(), nullable=True),
        sa.Column("signed_at_s", sa.Float(), nullable=True),
        sa.Column("updated_at_s", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["jobs.job_id"],
        ),
        sa.PrimaryKeyConstraint("job_id"),
    )
