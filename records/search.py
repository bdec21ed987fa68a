"""Finding jobs in the records and reading a job's whole history (SERVICE_RULES §8).

:func:`search_jobs` matches the indexed columns of ``jobs`` exactly (the caller's phone,
the plate and the member card normalized as intake normalizes them, the job id or the
work-order number), a range of Beijing days and a state, newest first. :func:`job_history`
merges every command that touched a job (``job_events`` joined to ``events``) with the
record edits of the job (``record_log``: payment, sign-off, claim, follow-up call), in time
order, each with who and when.

Every parameter is checked first; a bad one is an :class:`InputError` naming it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Connection, Engine, func, literal, or_, select

from geo.config import load_rules
from geo.errors import InputError
from optimizer.dispatch.identifiers import (
    IntakeRules,
    normalize_member_card,
    normalize_phone,
    normalize_plate,
)
from optimizer.dispatch.model import JobState
from records import schema
from records.days import day_start_s

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
"""A search answers at most this many jobs: a page of results, not an export."""
JOB_KEY_CHARS = 40
JOB_KEY = re.compile(r"^[A-Z0-9-]{1,40}$")
"""A job id (``J00012``) or a work-order number (``20261125-0003``), as typed."""
RARE_STATE_ROWS = 2000
"""SQLite: a state with at most this many jobs is found through its index (see
:func:`_state_condition`); 2000 rows sort in a few milliseconds."""
SUMMARY_TEXT_CHARS = 200
"""A history entry quotes at most this much of a text of the command (a note, a name)."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")

RESULT_COLUMNS = (
    "job_id",
    "order_no",
    "day",
    "created_at_s",
    "state",
    "required_kind",
    "zone",
    "member",
    "member_card",
    "caller_name",
    "phone",
    "plate",
    "truck_id",
    "crew",
    "closed_at_s",
    "total_yuan",
    "accident",
    "insurer",
)
"""What a search answers of each job (not its ``detail``: the work order reads that)."""


@cache
def _intake_rules() -> IntakeRules:
    return IntakeRules.from_toml(load_rules())


# ---------------------------------------------------------------------------- checks
def check_text(field: str, value: Any, *, max_chars: int, multiline: bool = False) -> str:
    """``value`` as trimmed text of at most ``max_chars`` characters without control
    characters (``multiline``: line breaks and tabs allowed), else :class:`InputError`."""
    if not isinstance(value, str):
        raise InputError(field, value, "must be text")
    text = value.strip()
    if len(text) > max_chars:
        raise InputError(field, value, "at most {count} characters", count=max_chars)
    checked = text.replace("\r\n", "\n").replace("\n", "").replace("\t", "") if multiline else text
    if CONTROL.search(checked):
        raise InputError(field, value, "must not contain control characters")
    return text.replace("\r\n", "\n")


def check_job_key(value: Any, field: str = "job_id") -> str:
    """A job id or work-order number as typed (trimmed, uppercase), else :class:`InputError`."""
    if not isinstance(value, str) or len(value) > JOB_KEY_CHARS + 10:
        raise InputError(
            field,
            value,
            "not a job id or work-order number (e.g. {job}, {order})",
            job="J00012",
            order="20261125-0003",
        )
    key = value.strip().upper()
    if not JOB_KEY.match(key):
        raise InputError(
            field,
            value,
            "not a job id or work-order number (e.g. {job}, {order})",
            job="J00012",
            order="20261125-0003",
        )
    return key


def check_day(field: str, value: Any) -> date:
    """A Beijing day: a :class:`datetime.date` or ``YYYY-MM-DD``, else :class:`InputError`."""
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(field, value, "not a day like {example}", example="2026-11-25")


def check_limit(value: Any, *, maximum: int = MAX_LIMIT) -> int:
    """A whole number of results from 1 to ``maximum`` (its decimal text accepted)."""
    number: Any = value
    if isinstance(value, str) and re.fullmatch(r"\s*\d{1,6}\s*", value):
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= maximum:
        raise InputError("limit", value, "a whole number from 1 to {maximum}", maximum=maximum)
    return number


def _normalized(field: str, value: Any, normalize: Any) -> str:
    """``normalize(value, intake rules)``, its refusal re-aimed at ``field``."""
    if not isinstance(value, str) or len(value) > JOB_KEY_CHARS:
        raise InputError(field, value, "must be text")
    try:
        return str(normalize(value, _intake_rules()))
    except InputError as error:
        raise InputError(field, value, error.reason_id, **error.params) from None


def _check_state(value: Any) -> str:
    states = [state.value for state in JobState]
    if not isinstance(value, str) or value not in states:
        raise InputError("state", value, "one of {names}", names=", ".join(states))
    return value


def _given(value: Any) -> bool:
    """A search key left empty (``None`` or blank text, as a form sends it) is not a key."""
    return value is not None and not (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------------------- search
def search_jobs(
    engine: Engine,
    *,
    phone: Any = None,
    plate: Any = None,
    card: Any = None,
    job_id: Any = None,
    day_from: Any = None,
    day_to: Any = None,
    state: Any = None,
    limit: Any = DEFAULT_LIMIT,
) -> list[dict[str, Any]]:
    """The jobs matching every key given, newest call first, at most ``limit``.

    Parameters
    ----------
    phone, plate, card
        The caller's phone, the plate, the member card: normalized as intake does
        (``010-6512 3456``, ``京a·12345``, ``bj-000123`` find what intake stored).
    job_id
        A job id (``J00012``) or a work-order number (``20261125-0003``).
    day_from, day_to
        Beijing days (``YYYY-MM-DD`` or dates) of the call, both inclusive.
    state
        A job state (:class:`optimizer.dispatch.model.JobState`).
    limit
        1 to :data:`MAX_LIMIT`.

    Raises
    ------
    InputError
        Naming the first bad parameter; nothing is read.
    """
    jobs = schema.jobs
    conditions: list[Any] = []
    if _given(phone):
        conditions.append(jobs.c.phone == _normalized("phone", phone, normalize_phone))
    if _given(plate):
        conditions.append(jobs.c.plate == _normalized("plate", plate, normalize_plate))
    if _given(card):
        conditions.append(jobs.c.member_card == _normalized("card", card, normalize_member_card))
    if _given(job_id):
        key = check_job_key(job_id)
        conditions.append(or_(jobs.c.job_id == key, jobs.c.order_no == key))
    selective = bool(conditions)
    first = check_day("day_from", day_from) if _given(day_from) else None
    last = check_day("day_to", day_to) if _given(day_to) else None
    if first is not None and last is not None and last < first:
        raise InputError("day_to", day_to, "is before day_from ({day})", day=first.isoformat())
    # The day column is the Beijing day of created_at_s, so the days' range is exactly this
    # range of created_at_s: one index then selects the range and gives the newest first.
    if first is not None:
        conditions.append(jobs.c.created_at_s >= day_start_s(first))
    if last is not None:
        conditions.append(jobs.c.created_at_s < day_start_s(last + timedelta(days=1)))
    wanted = _check_state(state) if _given(state) else None
    count = check_limit(limit)
    with engine.connect() as connection:
        if wanted is not None:
            conditions.append(_state_condition(connection, wanted, selective=selective))
        query = (
            select(*[jobs.c[name] for name in RESULT_COLUMNS])
            .where(*conditions)
            .order_by(jobs.c.created_at_s.desc(), jobs.c.job_id.desc())
            .limit(count)
        )
        rows = connection.execute(query).mappings().all()
    return [_job(row) for row in rows]


def _state_condition(connection: Connection, state: str, *, selective: bool) -> Any:
    """``jobs.state == state``, through its index only where that is the quick way.

    PostgreSQL keeps statistics and chooses well. SQLite (without them) would take the
    state index whenever a state is given, so ``closed`` (most jobs) would read and sort
    nearly the whole table. There the index is used only for a rare state with no
    phone, plate, card or job key (at most :data:`RARE_STATE_ROWS` jobs to sort); otherwise
    the condition is written so that it cannot use it (the newest jobs are read from the
    time index, or the few of the key's index, and filtered).
    """
    column = schema.jobs.c.state
    if connection.dialect.name != "sqlite":
        return column == state
    if not selective:
        capped = (select(literal(1)).select_from(schema.jobs).where(column == state)).limit(
            RARE_STATE_ROWS + 1
        )
        found = connection.execute(select(func.count()).select_from(capped.subquery())).scalar()
        if int(found or 0) <= RARE_STATE_ROWS:
            return column == state
    return column.concat("") == state


def _job(row: Any) -> dict[str, Any]:
    job = dict(row)
    for flag in ("member", "accident"):
        job[flag] = bool(job[flag])
    job["total_yuan"] = float(job["total_yuan"])
    return job


def find_job(engine: Engine, key: Any, field: str = "job_id") -> dict[str, Any]:
    """The job of a job id or work-order number, else :class:`InputError` (``field``)."""
    found = search_jobs(engine, job_id=check_job_key(key, field), limit=1)
    if not found:
        raise InputError(field, key, "unknown job")
    return found[0]


# ---------------------------------------------------------------------------- history
def job_history(engine: Engine, job_id: Any) -> list[dict[str, Any]]:
    """Everything that happened to a job, oldest first: each entry ``{"source": "event" |
    "record", "kind", "at_s", "user", "summary"}`` (``seq`` of an event, ``id`` of a record
    edit). ``summary`` holds the command's codes and short texts (the page shows them in
    its language); ``job_id`` may also be the work-order number.

    Raises
    ------
    InputError
        ``job_id`` malformed or unknown.
    """
    key = check_job_key(job_id)
    events, links, log = schema.events, schema.job_events, schema.record_log
    with engine.connect() as connection:
        jobs = schema.jobs
        found = connection.execute(
            select(jobs.c.job_id).where(or_(jobs.c.job_id == key, jobs.c.order_no == key))
        ).scalar()
        if found is None:
            raise InputError("job_id", job_id, "unknown job")
        commands = connection.execute(
            select(events.c.seq, events.c.at_s, events.c.kind, events.c.user, events.c.payload)
            .join(links, links.c.seq == events.c.seq)
            .where(links.c.job_id == found)
            .order_by(events.c.seq)
        ).all()
        edits = connection.execute(
            select(log.c.id, log.c.at_s, log.c.kind, log.c.user, log.c.payload)
            .where(log.c.job_id == found)
            .order_by(log.c.id)
        ).all()
    entries = [
        {
            "source": "event",
            "seq": int(seq),
            "kind": kind,
            "at_s": float(at_s),
            "user": user,
            "summary": event_summary(kind, json.loads(payload), found),
        }
        for seq, at_s, kind, user, payload in commands
    ]
    entries += [
        {
            "source": "record",
            "id": int(id_),
            "kind": kind,
            "at_s": float(at_s),
            "user": user,
            "summary": record_summary(json.loads(payload)),
        }
        for id_, at_s, kind, user, payload in edits
    ]
    # Stable: at the same second, the command comes before the record edit it allowed.
    entries.sort(key=lambda entry: (entry["at_s"], entry["source"] != "event"))
    return entries


def _short(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SUMMARY_TEXT_CHARS:
        return value[:SUMMARY_TEXT_CHARS] + "…"
    return value


def event_summary(kind: str, payload: Mapping[str, Any], job_id: str) -> dict[str, Any]:
    """What a command did to ``job_id``, in codes and short texts."""
    if kind == "intake":
        data = payload.get("data") or {}
        caller = data.get("caller") or {}
        return {
            "fault_category": data.get("fault_category"),
            "caller_name": _short(caller.get("name")),
            "member": data.get("member"),
        }
    if kind in ("dispatch", "reassign"):
        return {"truck_id": payload.get("truck_id")}
    if kind == "advance":
        return {"state": payload.get("state")}
    if kind == "cancel":
        return {"reason": payload.get("reason"), "note": _short(payload.get("note") or "")}
    if kind == "convert_to_tow":
        return {"destination_name": _short(payload.get("destination_name") or "")}
    if kind in ("replan", "replan_undo"):
        queues = payload.get("queues") or {}
        truck = next((t for t, queue in queues.items() if job_id in queue), None)
        return {"truck_id": truck, "released": job_id in (payload.get("release") or [])}
    return {}


def record_summary(payload: Any) -> dict[str, Any]:
    """A record edit's payload: its plain values (texts shortened), lists of codes and the
    plain values of a nested object (``previous``) kept."""
    if not isinstance(payload, dict):
        return {}
    summary: dict[str, Any] = {}
    for name, value in payload.items():
        if isinstance(value, list):
            summary[name] = [_short(item) for item in value if not isinstance(item, dict | list)]
        elif isinstance(value, dict):
            summary[name] = {
                key: _short(item)
                for key, item in value.items()
                if not isinstance(item, dict | list)
            }
        else:
            summary[name] = _short(value)
    return summary
