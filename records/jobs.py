"""The jobs as records: one row per job, written with each event that touches it.

The row is a projection of the live job (:class:`optimizer.dispatch.model.Job`) after the
command: searchable columns (phone, plate, card, day, state), the times of each state, the
fees, and the whole job as JSON (``detail``, what the work order prints). It is written in
the event's own transaction (:meth:`records.store.EventStore.append`), so the records never
disagree with the event log. A job's first row takes the day's next work-order number.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from optimizer.dispatch.model import HistoryEntry, Job, JobState, Truck
from records import schema
from records.days import beijing_day, beijing_hour
from records.sql import upsert

CONVERTED_NOTE = "converted to tow"
"""How a job's history says the crew found the car must be towed (§3)."""


@dataclass(frozen=True)
class JobRow:
    """The record of one job after a command (the ``jobs`` table's columns)."""

    job_id: str
    day: str
    hour: int
    created_at_s: float
    deadline_s: float
    state: str
    zone: str | None
    required_kind: str
    converted: bool
    member: bool
    member_card: str | None
    caller_name: str
    phone: str
    plate: str
    truck_id: str | None
    crew: str
    assigned_at_s: float | None
    arrived_at_s: float | None
    finished_at_s: float | None
    closed_at_s: float | None
    driven_m: float | None
    tow_m: float | None
    total_yuan: float
    accident: bool
    insurer: str | None
    detail: str
    """The job's full JSON view (``job_details``)."""
    fees: dict[str, float] = field(default_factory=dict)
    """The quote's line items: code -> yuan."""
    followup_due_s: float | None = None
    """When the job closed (not cancelled): the follow-up call is due by then."""

    def columns(self) -> dict[str, Any]:
        values = dict(self.__dict__)
        del values["fees"], values["followup_due_s"], values["detail"]
        return values


def _first(history: Sequence[HistoryEntry], *states: JobState) -> float | None:
    return next((entry.at_s for entry in history if entry.state in states), None)


def job_row(
    job: Job,
    *,
    truck: Truck | None,
    detail: Mapping[str, Any],
    followup_due_after_s: float,
    driven_m: float | None = None,
) -> JobRow:
    """The record of ``job`` as it is now; ``detail`` is its full JSON view."""
    intake, quote = job.intake, job.quote
    closed_at_s = _first(job.history, JobState.CLOSED, JobState.CANCELLED)
    closed = job.state == JobState.CLOSED and closed_at_s is not None
    return JobRow(
        job_id=job.id,
        day=beijing_day(job.created_at_s),
        hour=beijing_hour(job.created_at_s),
        created_at_s=job.created_at_s,
        deadline_s=job.deadline_s,
        state=job.state.value,
        zone=None if quote is None else str(quote.zone),
        required_kind=job.required_kind,
        converted=any(entry.note.startswith(CONVERTED_NOTE) for entry in job.history),
        member=intake.member,
        member_card=intake.member_card,
        caller_name=intake.caller.name,
        phone=intake.caller.phone,
        plate=intake.vehicle.plate,
        truck_id=job.truck_id,
        crew="、".join(truck.crew) if truck is not None else "",
        assigned_at_s=_first(job.history, JobState.ASSIGNED),
        arrived_at_s=_first(job.history, JobState.ON_SCENE),
        finished_at_s=_first(job.history, JobState.FIXED, JobState.DELIVERED),
        closed_at_s=closed_at_s,
        driven_m=driven_m,
        tow_m=job.tow_m,
        total_yuan=0.0 if quote is None else float(quote.total_yuan),
        accident=intake.accident,
        insurer=intake.insurer,
        detail=json.dumps(detail, ensure_ascii=False, separators=(",", ":")),
        fees={} if quote is None else _fees(quote.items),
        followup_due_s=closed_at_s + followup_due_after_s if closed and closed_at_s else None,
    )


def _fees(items: Sequence[Any]) -> dict[str, float]:
    fees: dict[str, float] = {}
    for item in items:
        fees[item.code] = fees.get(item.code, 0.0) + float(item.fee_yuan)
    return fees


def next_order_no(connection: Connection, day: str) -> str:
    """The day's next work-order number, ``YYYYMMDD-NNNN``."""
    count = connection.execute(
        select(func.count()).select_from(schema.jobs).where(schema.jobs.c.day == day)
    ).scalar_one()
    return f"{day.replace('-', '')}-{int(count) + 1:04d}"


def write_jobs(connection: Connection, rows: Sequence[JobRow], *, seq: int) -> None:
    """Insert or update the rows of ``rows`` (with their fees and follow-ups) as of event
    ``seq``, inside the caller's transaction."""
    jobs = schema.jobs
    ids = [row.job_id for row in rows]
    known = set(connection.execute(select(jobs.c.job_id).where(jobs.c.job_id.in_(ids))).scalars())
    for row in rows:
        values = {**row.columns(), "last_seq": seq}
        if row.job_id in known:
            connection.execute(update(jobs).where(jobs.c.job_id == row.job_id), values)
        else:
            values["order_no"] = next_order_no(connection, row.day)
            connection.execute(insert(jobs), values)
            known.add(row.job_id)
        upsert(connection, schema.job_details, [{"job_id": row.job_id, "detail": row.detail}])
        connection.execute(delete(schema.job_fees).where(schema.job_fees.c.job_id == row.job_id))
        if row.fees:
            connection.execute(
                insert(schema.job_fees),
                [{"job_id": row.job_id, "code": c, "fee_yuan": y} for c, y in row.fees.items()],
            )
        if row.followup_due_s is not None and row.closed_at_s is not None:
            _open_followup(connection, row.job_id, row.closed_at_s, row.followup_due_s)


def _open_followup(connection: Connection, job_id: str, opened_s: float, due_s: float) -> None:
    followups = schema.followups
    exists = connection.execute(
        select(followups.c.job_id).where(followups.c.job_id == job_id)
    ).first()
    if exists is None:
        connection.execute(
            insert(followups),
            {"job_id": job_id, "opened_at_s": opened_s, "due_at_s": due_s, "complaint": ""},
        )
