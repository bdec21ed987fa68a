"""Customer satisfaction follow-up calls (回访, SERVICE_RULES §8).

Each job that closes (not one cancelled) gets a ``followups`` row when it closes
(:mod:`records.jobs`), due ``[records] followup_due_h`` after the close. A dispatcher calls
the customer and records what the call found, one of ``[records] followup_outcomes``
(``complaint`` with the complaint's text, for the quality review). An outcome is recorded
once; changing it afterwards is an explicit correction (``correct=True``), logged with the
outcome it replaces. Each change commits with its ``record_log`` row.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from geo.errors import InputError
from geo.i18n import N_, Text
from records import schema
from records.record_log import log_change
from records.rules import RecordRules, load_record_rules
from records.search import check_job_key, check_limit, check_text
from records.store import USER_NAME, EventStore

COMPLAINT = "complaint"
"""The outcome that needs the complaint's text (``[records] followup_outcomes``)."""
OUTCOME_LABEL: Mapping[str, str] = {
    "satisfied": N_("Satisfied"),
    "not_satisfied": N_("Not satisfied"),
    "complaint": N_("Complaint"),
}
"""The labels of ``[records] followup_outcomes`` (an outcome without one shows its code)."""
COMPLAINT_CHARS = 1000
"""A complaint is written down in at most this many characters (a bound, not a rule)."""
LIST_LIMIT = 200
"""A list answers at most this many calls by default."""
MAX_LIST_LIMIT = 2000
LOG_RECORDED = "followup.outcome"
LOG_CORRECTED = "followup.correction"
"""The ``record_log`` kinds of a follow-up call recorded, and corrected."""


def _check_at(at_s: Any) -> float:
    if isinstance(at_s, bool) or not isinstance(at_s, int | float) or not math.isfinite(at_s):
        raise InputError("at_s", at_s, "must be a finite time")
    return float(at_s)


def _check_user(user: Any) -> str:
    if not isinstance(user, str) or not USER_NAME.match(user):
        raise InputError("called_by", user, "1-40 letters, digits, '.', '_' or '-'")
    return user


def check_outcome(outcome: Any, complaint: Any, rules: RecordRules) -> tuple[str, str]:
    """``(outcome, complaint text)``: the outcome one of the rules'; the complaint's text
    required for a complaint (and refused with any other outcome)."""
    outcomes = rules.followup_outcomes
    if not isinstance(outcome, str) or outcome not in outcomes:
        raise InputError("outcome", outcome, "one of {names}", names=", ".join(outcomes))
    text = (
        ""
        if complaint is None
        else check_text("complaint", complaint, max_chars=COMPLAINT_CHARS, multiline=True)
    )
    if outcome == COMPLAINT and not text:
        raise InputError("complaint", complaint, "is required for a complaint: write what was said")
    if outcome != COMPLAINT and text:
        raise InputError("complaint", complaint, "only a complaint has a complaint's text")
    return outcome, text


def record_outcome(
    store: EventStore,
    job_id: Any,
    *,
    outcome: Any,
    complaint: Any = None,
    called_by: Any,
    at_s: Any,
    correct: bool = False,
    rules: RecordRules | None = None,
) -> dict[str, Any]:
    """Record what the follow-up call of ``job_id`` found; answers the follow-up
    (:func:`followup`).

    Parameters
    ----------
    outcome
        One of ``[records] followup_outcomes``.
    complaint
        The complaint's text (at most :data:`COMPLAINT_CHARS`): required for ``complaint``,
        refused with the other outcomes.
    called_by
        The dispatcher who called (a login of the store).
    at_s
        When the call was made: not before the job closed.
    correct
        Replace an outcome already recorded (the old one stays in ``record_log``); without
        it a second recording is refused, and with it a first one is.

    Raises
    ------
    InputError
        Naming the bad field, before anything is written; ``job_id`` for a job unknown,
        not closed (a cancelled job has no follow-up), already called (or not yet, for a
        correction); ``called_by`` for an unknown dispatcher; ``at_s`` before the close.
    """
    rules = rules or load_record_rules()
    key = check_job_key(job_id)
    outcome, text = check_outcome(outcome, complaint, rules)
    user = _check_user(called_by)
    at = _check_at(at_s)
    if not isinstance(correct, bool):
        raise InputError("correct", correct, "must be true or false")
    result: list[dict[str, Any]] = []

    def write(connection: Connection) -> None:
        current = _read(connection, key)
        if current is None:
            raise InputError(
                "job_id", job_id, "job {job} has no follow-up call: it is not closed", job=key
            )
        real_id = current["job_id"]
        known = connection.execute(
            select(schema.users.c.name).where(schema.users.c.name == user)
        ).scalar()
        if known is None:
            raise InputError("called_by", user, "unknown dispatcher")
        if at < current["opened_at_s"]:
            raise InputError("at_s", at_s, "before the job closed")
        before = current["outcome"]
        if before is not None and not correct:
            raise InputError(
                "job_id",
                job_id,
                "the follow-up call of job {job} is already recorded ({outcome} by {user}); "
                "correct it explicitly",
                job=real_id,
                outcome=Text(OUTCOME_LABEL.get(before, before)),
                user=current["called_by"],
            )
        if before is None and correct:
            raise InputError(
                "correct", correct, "nothing to correct: job {job} has not been called", job=real_id
            )
        followups = schema.followups
        connection.execute(
            update(followups).where(followups.c.job_id == real_id),
            {"outcome": outcome, "complaint": text, "called_by": user, "called_at_s": at},
        )
        payload: dict[str, Any] = {"outcome": outcome, "complaint": text}
        if before is not None:
            payload["previous"] = {
                "outcome": before,
                "complaint": current["complaint"],
                "called_by": current["called_by"],
                "called_at_s": current["called_at_s"],
            }
        log_change(
            connection,
            kind=LOG_CORRECTED if before is not None else LOG_RECORDED,
            at_s=at,
            user=user,
            job_id=real_id,
            payload=payload,
        )
        saved = _read(connection, real_id)
        assert saved is not None
        result.append(saved)

    store.write(write)
    return result[0]


# ---------------------------------------------------------------------------- reading
_COLUMNS = (
    schema.followups.c.job_id,
    schema.jobs.c.order_no,
    schema.jobs.c.day,
    schema.jobs.c.caller_name,
    schema.jobs.c.phone,
    schema.jobs.c.plate,
    schema.jobs.c.member_card,
    schema.jobs.c.truck_id,
    schema.jobs.c.crew,
    schema.jobs.c.closed_at_s,
    schema.followups.c.opened_at_s,
    schema.followups.c.due_at_s,
    schema.followups.c.outcome,
    schema.followups.c.complaint,
    schema.followups.c.called_by,
    schema.followups.c.called_at_s,
)


def _query() -> Any:
    followups, jobs = schema.followups, schema.jobs
    return select(*_COLUMNS).select_from(followups.join(jobs, jobs.c.job_id == followups.c.job_id))


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


def _read(connection: Connection, key: str) -> dict[str, Any] | None:
    jobs = schema.jobs
    row = connection.execute(
        _query().where((jobs.c.job_id == key) | (jobs.c.order_no == key))
    ).first()
    return None if row is None else _row(row)


def followup(engine: Engine, job_id: Any) -> dict[str, Any]:
    """The follow-up call of a job (id or work-order number) with the job's caller:
    ``job_id, order_no, day, caller_name, phone, plate, member_card, truck_id, crew,
    closed_at_s, opened_at_s, due_at_s, outcome, complaint, called_by, called_at_s``.

    Raises
    ------
    InputError
        ``job_id`` malformed, unknown or without a follow-up (not closed).
    """
    key = check_job_key(job_id)
    with engine.connect() as connection:
        found = _read(connection, key)
    if found is None:
        raise InputError(
            "job_id", job_id, "job {job} has no follow-up call: it is not closed", job=key
        )
    return found


def open_followups(engine: Engine, *, limit: Any = LIST_LIMIT) -> list[dict[str, Any]]:
    """The calls not made yet, the one due first first."""
    followups = schema.followups
    count = check_limit(limit, maximum=MAX_LIST_LIMIT)
    query = (
        _query()
        .where(followups.c.outcome.is_(None))
        .order_by(followups.c.due_at_s, followups.c.job_id)
        .limit(count)
    )
    with engine.connect() as connection:
        return [_row(row) for row in connection.execute(query)]


def overdue_followups(
    engine: Engine, *, now_s: Any, limit: Any = LIST_LIMIT
) -> list[dict[str, Any]]:
    """The calls not made yet whose time is up (due before ``now_s``), the oldest first."""
    followups = schema.followups
    now = _check_at(now_s)
    count = check_limit(limit, maximum=MAX_LIST_LIMIT)
    query = (
        _query()
        .where(followups.c.outcome.is_(None), followups.c.due_at_s < now)
        .order_by(followups.c.due_at_s, followups.c.job_id)
        .limit(count)
    )
    with engine.connect() as connection:
        return [_row(row) for row in connection.execute(query)]


def complaints(engine: Engine, *, limit: Any = LIST_LIMIT) -> list[dict[str, Any]]:
    """The complaints the follow-up calls heard, for the quality review: newest call first,
    each with its job, work-order number, caller, text, who called and when."""
    followups = schema.followups
    count = check_limit(limit, maximum=MAX_LIST_LIMIT)
    query = (
        _query()
        .where(followups.c.outcome == COMPLAINT)
        .order_by(followups.c.called_at_s.desc(), followups.c.job_id)
        .limit(count)
    )
    with engine.connect() as connection:
        return [_row(row) for row in connection.execute(query)]
