"""The department's rescue statistics over a range of days (SERVICE_RULES §8).

:func:`build_report` reads the ``jobs`` table (with ``job_fees`` and ``followups``) of the
jobs whose call came in on a Beijing day of the range, with SQL aggregates (``GROUP BY``)
and only the columns it needs, a few independent reads run two at a time
(``benchmarks/report.py`` times it over 100,000 jobs on SQLite and on PostgreSQL):

- calls per day and per Beijing hour (every call; the cancelled ones also on their own);
- the promise (``[promise] arrival_min``): a job kept it when its first truck arrived within
  the promise of the call (``arrived_at_s - created_at_s <= promise``); over the jobs not
  cancelled that have an arrival, overall, per zone and per time-of-day band (``[congestion]
  bands``, by the call's Beijing hour); arrival minutes p50 / p90; jobs still waiting for
  their first arrival are counted apart (``awaiting``);
- on-site service against tows, and the service calls converted to tows (§3);
- revenue (closed jobs): total and by quote item (``job_fees`` codes);
- members against non-members: jobs and revenue;
- per truck: its jobs and its busy hours (from ``assigned_at_s`` to the job's end:
  ``finished_at_s``, else ``closed_at_s``; a job cancelled after the truck set off counts
  to its busy time, not to its jobs);
- the follow-up calls' outcomes (``pending`` while not called).

Cancelled jobs are counted apart and left out of every other figure. An empty range gives
an empty report (zeros, empty lists), never an error; :func:`report_csv` writes the report
as one CSV file of sections.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Select, and_, case, func, select

from geo.config import load_rules
from geo.errors import InputError
from geo.speeds import Band, parse_clock_min
from records import schema

MAX_RANGE_DAYS = 3660
"""A report covers at most ten years: a longer range is a typing slip (and its per-day
list would be huge)."""
FOLLOWUP_OUTCOMES = ("satisfied", "not_satisfied", "complaint")
"""The outcomes of a follow-up call (``followups.outcome``); ``pending`` while not called."""
PENDING = "pending"
CANCELLED = "cancelled"
CLOSED = "closed"


@dataclass(frozen=True)
class ReportRules:
    """What the report needs of the rule file: the promise and the time-of-day bands."""

    promise_s: float
    bands: tuple[Band, ...]

    @classmethod
    def from_toml(cls, raw: Mapping[str, Any]) -> ReportRules:
        bands = tuple(
            Band(b["name"], parse_clock_min(b["start"], "start"), parse_clock_min(b["end"], "end"))
            for b in raw["congestion"]["bands"]
        )
        return cls(promise_s=float(raw["promise"]["arrival_min"]) * 60.0, bands=bands)

    def band_of_hour(self, hour: int) -> str:
        """The band a call at ``hour``:00-``hour``:59 Beijing time falls in (by its start)."""
        minute = hour * 60
        return next((band.name for band in self.bands if band.contains(minute)), "")


def load_report_rules(raw: Mapping[str, Any] | None = None) -> ReportRules:
    """The report's rules in force (``config/rules.toml`` or ``$RESCUE_RULES``)."""
    return ReportRules.from_toml(raw or load_rules())


# ---------------------------------------------------------------------------- input
def parse_day(value: Any, field: str) -> date:
    """``value`` (``YYYY-MM-DD`` or a :class:`date`) as a date; :class:`InputError` naming
    ``field`` otherwise."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise InputError(field, value, "must be a date YYYY-MM-DD")
    text = value.strip()
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(field, value, "must be a date YYYY-MM-DD") from None


def parse_range(
    day_from: Any, day_to: Any, *, fields: tuple[str, str] = ("--from", "--to")
) -> tuple[date, date]:
    """Both ends checked (each a date, ``day_to`` not before ``day_from``, at most
    :data:`MAX_RANGE_DAYS` days); :class:`InputError` names the field at fault."""
    first, last = parse_day(day_from, fields[0]), parse_day(day_to, fields[1])
    if last < first:
        raise InputError(
            fields[1], last.isoformat(), "is before {field} {day}", field=fields[0], day=first
        )
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise InputError(
            fields[1], last.isoformat(), "at most {days} days in one report", days=MAX_RANGE_DAYS
        )
    return first, last


# ---------------------------------------------------------------------------- report
def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _promise_row(arrived: int, kept: int) -> dict[str, Any]:
    return {"arrived": arrived, "kept": kept, "kept_share": _share(kept, arrived)}


POSTGRES_WORK_MEM = "64MB"
"""Memory for each of the report's sorts and hashes on PostgreSQL (this transaction only)."""
SQLITE_MMAP_BYTES = 1 << 30
"""SQLite reads the file through memory mapping on the report's connections (a setting of
the connection, kept by it in the pool): each pass over the jobs' pages copies nothing, about
a fifth less CPU than reading them page by page."""
QUERY_THREADS = 2
"""The report's reads run on this many connections at once: they are independent, so with a
second core free the report's wall time drops towards the longest read's."""


def _queries(first: date, last: date, rules: ReportRules) -> dict[str, Select[Any]]:
    """The report's six reads, each one pass over the range's jobs (or over an index)."""
    jobs = schema.jobs
    in_range = and_(jobs.c.day >= first.isoformat(), jobs.c.day <= last.isoformat())
    closed = jobs.c.state == CLOSED
    within = jobs.c.arrived_at_s - jobs.c.created_at_s <= rules.promise_s
    end_s = func.coalesce(jobs.c.finished_at_s, jobs.c.closed_at_s)
    keys = (
        jobs.c.hour,
        jobs.c.zone,
        jobs.c.state,
        jobs.c.required_kind,
        jobs.c.converted,
        jobs.c.member,
        jobs.c.truck_id,
    )
    fees, followups = schema.job_fees, schema.followups
    day_text = jobs.c.day + ""  # the day, but not through its index
    return {
        # Calls, promise, kinds, members, revenue and trucks: a few thousand groups.
        "groups": select(
            *keys,
            func.count(),
            func.count(jobs.c.arrived_at_s),
            func.sum(case((within, 1), else_=0)),
            func.sum(jobs.c.total_yuan),
            # NULL (not assigned, or not ended) when either end is missing: SUM skips it.
            func.sum(end_s - jobs.c.assigned_at_s),
        )
        .where(in_range)
        .group_by(*keys),
        # Calls per day (from the day index alone) and the cancelled ones (from the state
        # index: ``day || ''`` keeps SQLite off the day index for that one).
        "days": select(jobs.c.day, func.count()).where(in_range).group_by(jobs.c.day),
        "cancelled_days": select(day_text, func.count())
        .where(
            jobs.c.state == CANCELLED, day_text >= first.isoformat(), day_text <= last.isoformat()
        )
        .group_by(day_text),
        "arrivals": select(jobs.c.arrived_at_s - jobs.c.created_at_s).where(
            in_range, jobs.c.state != CANCELLED, jobs.c.arrived_at_s.is_not(None)
        ),
        # The range's jobs as a subquery (IN), not a join: one pass over them, one over
        # the narrow fee and follow-up tables.
        "items": select(fees.c.code, func.count(), func.sum(fees.c.fee_yuan))
        .where(fees.c.job_id.in_(select(jobs.c.job_id).where(in_range, closed)))
        .group_by(fees.c.code),
        "outcomes": select(followups.c.outcome, func.count())
        .where(followups.c.job_id.in_(select(jobs.c.job_id).where(in_range)))
        .group_by(followups.c.outcome),
    }


def _read(engine: Engine, name: str, query: Select[Any]) -> Any:
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # The groups fit in memory: hashed, not sorted on disk (the default 4 MB spills).
            connection.exec_driver_sql(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")
        else:
            connection.exec_driver_sql(f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
        if name == "arrivals":
            return _column(connection, query)
        return connection.execute(query).all()


def build_report(
    engine: Engine, day_from: date, day_to: date, *, rules: ReportRules
) -> dict[str, Any]:
    """The statistics of the jobs called in on Beijing days ``day_from``..``day_to``
    (inclusive); see the module docstring for the figures.

    The reads (:func:`_queries`) are SQL aggregates over only the columns they need; they
    run :data:`QUERY_THREADS` at a time on their own connections (a command committed while
    the report is read may show in some figures and not yet in others).

    Raises :class:`InputError` (``--from`` / ``--to``) for a bad range.
    """
    first, last = parse_range(day_from, day_to)
    queries = _queries(first, last, rules)
    with ThreadPoolExecutor(QUERY_THREADS, thread_name_prefix="report") as pool:
        # The longest first, so the two connections finish about together.
        order = ("groups", "items", "outcomes", "arrivals", "cancelled_days", "days")
        futures = {name: pool.submit(_read, engine, name, queries[name]) for name in order}
        read = {name: future.result() for name, future in futures.items()}
    report: dict[str, Any] = {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "promise_min": rules.promise_s / 60.0,
    }
    report.update(_per_day(read["days"], read["cancelled_days"], first, last))
    report.update(_groups(read["groups"], rules))
    report["arrival_min"] = _arrival_minutes(read["arrivals"])
    report["revenue"]["by_item"] = _items(read["items"])
    report["followups"] = _followups(read["outcomes"])
    return report


def _column(connection: Connection, query: Select[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The one numeric column of ``query`` as an array, fetched with the driver's own
    cursor (the values are floats: no conversion to do; 100,000 rows in a few tens of ms).
    The query's only parameters are dates and the promise: rendered as literals."""
    sql = query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True})
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(sql))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    return np.array([row[0] for row in rows], dtype=np.float64)


def _per_day(
    days: Sequence[Any], cancelled_days: Sequence[Any], first: date, last: date
) -> dict[str, Any]:
    per_day = {
        (first + timedelta(days=n)).isoformat(): {"calls": 0, "cancelled": 0}
        for n in range((last - first).days + 1)
    }
    for day, count in days:
        per_day.setdefault(str(day), {"calls": 0, "cancelled": 0})["calls"] = int(count)
    for day, count in cancelled_days:
        per_day.setdefault(str(day), {"calls": 0, "cancelled": 0})["cancelled"] = int(count)
    return {"per_day": [{"day": day, **counts} for day, counts in sorted(per_day.items())]}


def _groups(groups: Sequence[Any], rules: ReportRules) -> dict[str, Any]:
    """The figures of the ``groups`` read: per hour, zone, state, kind, conversion,
    membership and truck."""
    per_hour = [0] * 24
    n = dict.fromkeys(("calls", "cancelled", "arrived", "kept", "service", "converted"), 0)
    members = {
        flag: {"member": flag, "jobs": 0, "closed": 0, "revenue_yuan": 0.0}
        for flag in (True, False)
    }
    by_zone: dict[str | None, list[int]] = {}
    by_band: dict[str, list[int]] = {band.name: [0, 0] for band in rules.bands}
    trucks: dict[str, dict[str, Any]] = {}
    for hour, zone, state, kind, converted, member, truck, *values in groups:
        count, arrived, kept = (int(v or 0) for v in values[:3])
        revenue, busy_s = float(values[3] or 0.0), float(values[4] or 0.0)
        per_hour[int(hour) % 24] += count
        n["calls"] += count
        if truck is not None:
            row = trucks.setdefault(str(truck), {"truck_id": str(truck), "jobs": 0, "busy_h": 0.0})
            row["busy_h"] += busy_s / 3600.0
            row["jobs"] += 0 if state == CANCELLED else count
        if state == CANCELLED:
            n["cancelled"] += count
            continue
        n["arrived"] += arrived
        n["kept"] += kept
        n["service"] += count if kind == "service" else 0
        n["converted"] += count if converted else 0
        side = members[bool(member)]
        side["jobs"] += count
        if state == CLOSED:
            side["closed"] += count
            side["revenue_yuan"] += revenue
        for totals in (
            by_zone.setdefault(None if zone is None else str(zone), [0, 0]),
            by_band.setdefault(rules.band_of_hour(int(hour)), [0, 0]),
        ):
            totals[0] += arrived
            totals[1] += kept
    jobs = n["calls"] - n["cancelled"]
    closed = members[True]["closed"] + members[False]["closed"]
    revenue = members[True]["revenue_yuan"] + members[False]["revenue_yuan"]
    return {
        "calls": {"total": n["calls"], "cancelled": n["cancelled"], "jobs": jobs},
        "per_hour": [{"hour": hour, "calls": count} for hour, count in enumerate(per_hour)],
        "promise": {**_promise_row(n["arrived"], n["kept"]), "awaiting": jobs - n["arrived"]},
        "promise_by_zone": [
            {"zone": zone, **_promise_row(*totals)}
            for zone, totals in sorted(by_zone.items(), key=lambda item: item[0] or "~")
            if totals[0]
        ],
        "promise_by_band": [
            {"band": band, **_promise_row(*totals)} for band, totals in by_band.items()
        ],
        "kinds": {
            "service": n["service"],
            "flatbed": jobs - n["service"],
            "converted": n["converted"],
        },
        "revenue": {"closed_jobs": closed, "total_yuan": revenue, "by_item": []},
        "members": [members[True], members[False]],
        "trucks": [trucks[truck] for truck in sorted(trucks)],
    }


def _arrival_minutes(arrival_s: np.ndarray[Any, np.dtype[np.float64]]) -> dict[str, Any]:
    if arrival_s.size == 0:
        return {"count": 0, "p50": None, "p90": None}
    p50, p90 = np.percentile(arrival_s / 60.0, [50.0, 90.0])
    return {"count": int(arrival_s.size), "p50": float(p50), "p90": float(p90)}


def _items(items: Sequence[Any]) -> list[dict[str, Any]]:
    ordered = sorted(
        ((str(code), int(count), float(yuan or 0.0)) for code, count, yuan in items),
        key=lambda item: (-item[2], -item[1], item[0]),
    )
    return [{"code": code, "jobs": count, "yuan": yuan} for code, count, yuan in ordered]


def _followups(groups: Sequence[Any]) -> dict[str, int]:
    counts = {outcome: 0 for outcome in (*FOLLOWUP_OUTCOMES, PENDING)}
    for outcome, count in groups:
        key = PENDING if outcome is None else str(outcome)
        counts[key] = counts.get(key, 0) + int(count)
    counts["total"] = sum(counts.values())
    return counts


# ---------------------------------------------------------------------------- CSV
def _rows(report: Mapping[str, Any]) -> list[tuple[str, list[str], list[list[Any]]]]:
    promise = report["promise"]
    arrival = report["arrival_min"]
    calls = report["calls"]
    kinds = report["kinds"]
    revenue = report["revenue"]
    followups = report["followups"]
    share = ("arrived", "kept", "kept_share")
    return [
        (
            "summary",
            ["figure", "value"],
            [
                ["from", report["from"]],
                ["to", report["to"]],
                ["calls", calls["total"]],
                ["cancelled", calls["cancelled"]],
                ["jobs", calls["jobs"]],
                ["promise_min", report["promise_min"]],
                ["arrived", promise["arrived"]],
                ["promise_kept", promise["kept"]],
                ["promise_kept_share", promise["kept_share"]],
                ["awaiting_arrival", promise["awaiting"]],
                ["arrival_min_p50", arrival["p50"]],
                ["arrival_min_p90", arrival["p90"]],
                ["service", kinds["service"]],
                ["tow", kinds["flatbed"]],
                ["converted_to_tow", kinds["converted"]],
                ["closed_jobs", revenue["closed_jobs"]],
                ["revenue_yuan", revenue["total_yuan"]],
            ],
        ),
        (
            "calls_per_day",
            ["day", "calls", "cancelled"],
            [[r["day"], r["calls"], r["cancelled"]] for r in report["per_day"]],
        ),
        (
            "calls_per_hour",
            ["hour", "calls"],
            [[r["hour"], r["calls"]] for r in report["per_hour"]],
        ),
        (
            "promise_by_zone",
            ["zone", *share],
            [[r["zone"], *(r[k] for k in share)] for r in report["promise_by_zone"]],
        ),
        (
            "promise_by_band",
            ["band", *share],
            [[r["band"], *(r[k] for k in share)] for r in report["promise_by_band"]],
        ),
        (
            "revenue_by_item",
            ["code", "jobs", "yuan"],
            [[r["code"], r["jobs"], r["yuan"]] for r in revenue["by_item"]],
        ),
        (
            "members",
            ["member", "jobs", "closed", "revenue_yuan"],
            [
                [
                    "member" if r["member"] else "non_member",
                    r["jobs"],
                    r["closed"],
                    r["revenue_yuan"],
                ]
                for r in report["members"]
            ],
        ),
        (
            "trucks",
            ["truck_id", "jobs", "busy_h"],
            [[r["truck_id"], r["jobs"], r["busy_h"]] for r in report["trucks"]],
        ),
        (
            "followups",
            ["outcome", "count"],
            [[k, v] for k, v in followups.items() if k != "total"],
        ),
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)


def report_csv(report: Mapping[str, Any]) -> str:
    """``report`` as one CSV text: each section a title row, a header row and its rows,
    a blank row between sections (codes, not labels: for spreadsheets and scripts)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for n, (title, header, rows) in enumerate(_rows(report)):
        if n:
            writer.writerow([])
        writer.writerow([title])
        writer.writerow(header)
        writer.writerows([[_cell(value) for value in row] for row in rows])
    return out.getvalue()
