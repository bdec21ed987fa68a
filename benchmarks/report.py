"""Rescue statistics and job search over 100,000 jobs, on SQLite and on PostgreSQL.

Generates 100,000 simulated jobs over 90 days (seeded, vectorised): calls per hour follow
:data:`optimizer.demand.HOURLY_PROFILE`, faults :data:`optimizer.demand.FAULT_MIX` with the
rule file's triage (service or flatbed; some service calls converted to tows), members
:data:`optimizer.demand.MEMBER_SHARE`, zones mostly inside the 5th Ring Road, arrival
times log-normal by zone and slower at the peaks, the trucks of ``data/fleet.json`` by
kind, fees by the rule file's ``[fees]`` (§5), a follow-up per closed job, some callers
calling again (same phone, plate, card), a work order's JSON ``detail`` of realistic size.
They are inserted directly into ``jobs``, ``job_details``, ``job_fees`` and ``followups``
(bulk inserts, not through the live center) of an SQLite file and of a throwaway PostgreSQL
database.

Timed on each backend: :func:`records.report.build_report` over the whole range (median of
``--runs`` runs, after one warm-up) and :func:`records.search.search_jobs` over 1,000
random queries (by phone, plate, card, job id, a range of days, a state; each timed with
``time.perf_counter``).

Targets (issue 12): the report ≤ 1 s; search p99 ≤ 50 ms.

    python benchmarks/report.py [--jobs 100000] [--days 90] [--queries 1000] [--runs 5]
                                [--seed 42] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, insert

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import median_ms, percentile_ms, print_table, write_json

from geo.config import PROJECT_ROOT, load_rules
from optimizer.demand import FAULT_MIX, HOURLY_PROFILE, MEMBER_SHARE
from optimizer.dispatch.rules import Rules, load_business_rules
from records import schema
from records.days import day_start_s
from records.report import build_report, load_report_rules
from records.search import search_jobs
from records.store import EventStore
from records.throwaway_postgres import throwaway_postgres

TARGET_REPORT_S = 1.0
TARGET_SEARCH_MS_P99 = 50.0
LAST_DAY = date(2026, 11, 30)
BATCH = 5000

# Judgement for the simulation, not the club's statistics.
ZONE_SHARE = {"inside_5th_ring": 0.6, "between_5th_and_6th_ring": 0.28, "outside_6th_ring": 0.12}
ZONE_ARRIVAL_MEDIAN_MIN = {
    "inside_5th_ring": 24.0,
    "between_5th_and_6th_ring": 30.0,
    "outside_6th_ring": 38.0,
}
PEAK_HOURS = (7, 8, 17, 18)
PEAK_SLOWDOWN = 1.25
ARRIVAL_SIGMA = 0.35
CANCELLED_SHARE = 0.06
OPEN_SHARE = 0.01
CONVERTED_SHARE = 0.08
HIGHWAY_SHARE = 0.1
FOLLOWUP_OUTCOMES = {"satisfied": 0.8, "not_satisfied": 0.07, "complaint": 0.03, None: 0.1}
REPEAT_CALLER_SHARE = 0.2
DETAIL_PAD = "救援记录" * 120  # a work order's JSON view is a few kB (intake, quote, history)


def _fleet() -> dict[str, list[tuple[str, str]]]:
    trucks = json.loads((PROJECT_ROOT / "data" / "fleet.json").read_text(encoding="utf-8"))
    by_kind: dict[str, list[tuple[str, str]]] = {}
    for truck in trucks["trucks"]:
        by_kind.setdefault(truck["kind"], []).append((truck["id"], "、".join(truck["crew"])))
    return by_kind


def _fees(
    rules: Rules, *, member: bool, zone: str, tow_km: int | None, highway: bool
) -> dict[str, float]:
    fees = rules.fees
    items: dict[str, float] = {}
    if member:
        items["on_site_service"] = fees.member_on_site_yuan
        if tow_km is not None:
            items["tow_free_km"] = 0.0
            extra = max(0, tow_km - int(fees.member_free_tow_km))
            if extra:
                items["tow_extra_km"] = extra * fees.member_tow_per_km_yuan
    else:
        inside = zone == "inside_5th_ring"
        items["callout"] = (
            fees.non_member_callout_inside_5th_yuan
            if inside
            else fees.non_member_callout_outside_5th_yuan
        )
        if tow_km is not None:
            items["tow_km"] = tow_km * fees.non_member_tow_per_km_yuan
    if zone == "outside_6th_ring":
        items["suburban_surcharge"] = fees.suburban_surcharge_yuan
    if highway:
        items["tolls"] = 0.0
    return {code: float(yuan) for code, yuan in items.items()}


def _identities(rng: np.random.Generator, count: int) -> tuple[list[str], list[str], list[str]]:
    """Phones, plates and member cards in the form intake stores them; a share of the
    callers call again (the same phone, plate and card as an earlier call)."""
    letters = np.array(list("ABCEFGHJKLMNPQ"))
    chars = np.array(list("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"))
    phones = [f"1{p}" for p in rng.integers(3_000_000_000, 9_999_999_999, count)]
    plates = [
        "京" + letters[a] + "".join(chars[b])
        for a, b in zip(
            rng.integers(0, len(letters), count),
            rng.integers(0, len(chars), (count, 5)),
            strict=True,
        )
    ]
    cards = [f"BJ{n:08d}" for n in rng.integers(0, 10**8, count)]
    earlier = rng.integers(0, np.maximum(np.arange(count), 1))
    for i in np.flatnonzero(rng.random(count) < REPEAT_CALLER_SHARE):
        if i:
            j = int(earlier[i])
            phones[i], plates[i], cards[i] = phones[j], plates[j], cards[j]
    return phones, plates, cards


def _draws(rng: np.random.Generator, count: int, days: int, rules: Rules) -> dict[str, Any]:
    """The vectorised draws of ``count`` calls over ``days`` days (see the module docstring)."""
    first = LAST_DAY - timedelta(days=days - 1)
    day_index = rng.integers(0, days, count)
    hours = rng.choice(24, size=count, p=np.array(HOURLY_PROFILE) / sum(HOURLY_PROFILE))
    starts = np.array([day_start_s(first + timedelta(days=d)) for d in range(days)])
    created = starts[day_index] + hours * 3600.0 + rng.uniform(0.0, 3600.0, count)
    order = np.argsort(created, kind="stable")
    zones = rng.choice(list(ZONE_SHARE), size=count, p=list(ZONE_SHARE.values()))
    faults = list(rules.fault_kinds)
    weights = np.array([FAULT_MIX.get(f, 1.0) for f in faults])
    fault = rng.choice(faults, size=count, p=weights / weights.sum())
    kind = np.array([rules.fault_kinds[f] for f in fault], dtype=object)
    converted = (kind == "service") & (rng.random(count) < CONVERTED_SHARE)
    kind[converted] = "flatbed"
    outcome = rng.choice(len(FOLLOWUP_OUTCOMES), size=count, p=list(FOLLOWUP_OUTCOMES.values()))
    median_min = np.array([ZONE_ARRIVAL_MEDIAN_MIN[z] for z in zones])
    median_min *= np.where(np.isin(hours, PEAK_HOURS), PEAK_SLOWDOWN, 1.0)
    drawn = {
        "day": np.array([(first + timedelta(days=int(d))).isoformat() for d in day_index]),
        "hour": hours,
        "created": created,
        "zone": zones,
        "fault": fault,
        "kind": kind,
        "converted": converted,
        "member": rng.random(count) < MEMBER_SHARE,
        "state_draw": rng.random(count),
        "arrival_s": median_min * 60.0 * np.exp(rng.normal(0.0, ARRIVAL_SIGMA, count)),
        "assign_s": rng.gamma(2.0, 45.0, count),
        "work_s": np.where(
            kind == "flatbed", rng.normal(3600, 900, count), rng.normal(1200, 300, count)
        ),
        "tow_km": np.ceil(rng.gamma(2.0, 7.0, count)).astype(int),
        "highway": rng.random(count) < HIGHWAY_SHARE,
        "outcome": outcome,
        "truck_pick": rng.random(count),
    }
    return {key: values[order] for key, values in drawn.items()}


def _times(i: int, d: dict[str, Any]) -> tuple[str, dict[str, float | None]]:
    """Job ``i``'s state and the times of its states."""
    t0 = float(d["created"][i])
    arrived = t0 + float(d["arrival_s"][i])
    finished = arrived + max(300.0, float(d["work_s"][i]))
    times: dict[str, float | None] = {
        "assigned_at_s": t0 + float(d["assign_s"][i]),
        "arrived_at_s": arrived,
        "finished_at_s": finished,
        "closed_at_s": finished + 300.0,
    }
    draw = float(d["state_draw"][i])
    if draw < CANCELLED_SHARE:
        times.update(arrived_at_s=None, finished_at_s=None, closed_at_s=t0 + (arrived - t0) / 2)
        if d["truck_pick"][i] < 0.5:
            times["assigned_at_s"] = None
        return "cancelled", times
    if draw < CANCELLED_SHARE + OPEN_SHARE:
        state = ("assigned", "en_route", "on_scene")[i % 3]
        times.update(finished_at_s=None, closed_at_s=None)
        if state != "on_scene":
            times["arrived_at_s"] = None
        return state, times
    return "closed", times


def simulated_jobs(
    count: int, days: int, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """``count`` jobs over the ``days`` days ending :data:`LAST_DAY`: rows of ``jobs``,
    ``job_fees`` and ``followups``."""
    rng = np.random.default_rng(seed)
    rules = load_business_rules()
    fleet = _fleet()
    d = _draws(rng, count, days, rules)
    phones, plates, cards = _identities(rng, count)
    outcomes = list(FOLLOWUP_OUTCOMES)
    jobs: list[dict[str, Any]] = []
    fees: list[dict[str, Any]] = []
    followups: list[dict[str, Any]] = []
    day_numbers: dict[str, int] = {}
    for i in range(count):
        day, job_id, t0 = str(d["day"][i]), f"J{i + 1:06d}", float(d["created"][i])
        day_numbers[day] = day_numbers.get(day, 0) + 1
        state, times = _times(i, d)
        trucks = fleet[str(d["kind"][i])]
        truck: tuple[str | None, str] = trucks[int(d["truck_pick"][i] * len(trucks))]
        truck_id, crew = truck
        if times["assigned_at_s"] is None:
            truck_id, crew = None, ""
        zone, fault, member = str(d["zone"][i]), str(d["fault"][i]), bool(d["member"][i])
        is_tow = d["kind"][i] == "flatbed"
        items = _fees(
            rules,
            member=member,
            zone=zone,
            tow_km=int(d["tow_km"][i]) if is_tow else None,
            highway=bool(d["highway"][i]),
        )
        jobs.append(
            {
                "job_id": job_id,
                "order_no": f"{day.replace('-', '')}-{day_numbers[day]:04d}",
                "day": day,
                "hour": int(d["hour"][i]),
                "created_at_s": t0,
                "deadline_s": t0 + rules.promise_s,
                "state": state,
                "zone": zone,
                "required_kind": str(d["kind"][i]),
                "converted": bool(d["converted"][i]),
                "member": member,
                "member_card": cards[i] if member else None,
                "caller_name": "王先生" if i % 2 else "李女士",
                "phone": phones[i],
                "plate": plates[i],
                "truck_id": truck_id,
                "crew": crew,
                **times,
                "driven_m": float(d["arrival_s"][i]) * 8.0,
                "tow_m": float(d["tow_km"][i]) * 1000.0 if is_tow else None,
                "total_yuan": sum(items.values()),
                "accident": fault == "accident_damage",
                "insurer": "picc" if fault == "accident_damage" else None,
                "detail": json.dumps(
                    {"job_id": job_id, "fault": fault, "fees": items, "notes": DETAIL_PAD},
                    ensure_ascii=False,
                ),
                "last_seq": i + 1,
            }
        )
        fees.extend({"job_id": job_id, "code": c, "fee_yuan": y} for c, y in items.items())
        closed = times["closed_at_s"]
        if state == "closed" and closed is not None:
            outcome = outcomes[int(d["outcome"][i])]
            followups.append(
                {
                    "job_id": job_id,
                    "opened_at_s": closed,
                    "due_at_s": closed + 86400.0,
                    "outcome": outcome,
                    "complaint": "等待时间太长" if outcome == "complaint" else "",
                    "called_by": None if outcome is None else "dispatcher",
                    "called_at_s": None if outcome is None else closed + 3600.0,
                }
            )
    return jobs, fees, followups


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


def insert_all(engine: Engine, tables: tuple[list[dict[str, Any]], ...]) -> float:
    """Bulk-insert the generated rows; seconds taken."""
    start = time.perf_counter()
    jobs, fees, followups = tables
    details = [{"job_id": job["job_id"], "detail": job["detail"]} for job in jobs]
    jobs = [{k: v for k, v in job.items() if k != "detail"} for job in jobs]
    written = (schema.jobs, schema.job_details, schema.job_fees, schema.followups)
    for table, rows in zip(written, (jobs, details, fees, followups), strict=True):
        for batch in _batches(rows):
            with engine.begin() as connection:
                connection.execute(insert(table), batch)
    # As a database in use would be after autovacuum / ANALYZE: statistics for the planner.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        verb = "VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"
        connection.exec_driver_sql(verb)
    return time.perf_counter() - start


def draw_queries(
    jobs: list[dict[str, Any]], count: int, seed: int
) -> list[tuple[str, dict[str, Any]]]:
    """``count`` ``(kind, search_jobs keywords)``, the kinds in turn, each from a random job."""
    rng = np.random.default_rng(seed + 1)
    kinds = ("phone", "plate", "card", "job_id", "days", "state")
    members = [job for job in jobs if job["member_card"]]
    states = sorted({job["state"] for job in jobs})
    first, last = date.fromisoformat(jobs[0]["day"]), date.fromisoformat(jobs[-1]["day"])
    span = (last - first).days
    queries: list[tuple[str, dict[str, Any]]] = []
    for n in range(count):
        kind = kinds[n % len(kinds)]
        job = jobs[int(rng.integers(0, len(jobs)))]
        if kind == "phone":
            query: dict[str, Any] = {"phone": job["phone"]}
        elif kind == "plate":
            query = {"plate": job["plate"]}
        elif kind == "card":
            query = {"card": members[int(rng.integers(0, len(members)))]["member_card"]}
        elif kind == "job_id":
            query = {"job_id": job["job_id"]}
        elif kind == "days":
            start = first + timedelta(days=int(rng.integers(0, span + 1)))
            end = min(last, start + timedelta(days=int(rng.integers(0, 7))))
            query = {"day_from": start, "day_to": end}
        else:
            query = {"state": states[int(rng.integers(0, len(states)))]}
        queries.append((kind, query))
    return queries


def time_backend(
    engine: Engine,
    first: date,
    last: date,
    queries: list[tuple[str, dict[str, Any]]],
    runs: int,
    search: Callable[..., Any] | None,
) -> dict[str, Any]:
    rules = load_report_rules(load_rules())
    build_report(engine, first, last, rules=rules)  # warm-up: caches, plans
    seconds, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        report = build_report(engine, first, last, rules=rules)
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    out: dict[str, Any] = {
        "report_s": statistics.median(seconds),
        "report_s_max": max(seconds),
        # This process's CPU (on SQLite all of the work; on PostgreSQL the server's is not
        # in it): the wall time above also counts waiting for a core on a shared machine.
        "report_cpu_s": statistics.median(cpu),
        "report_calls": report["calls"]["total"],
        "report_kept_share": report["promise"]["kept_share"],
    }
    if search is not None:
        timings: list[float] = []
        by_kind: dict[str, list[float]] = {}
        for kind, query in queries:
            start = time.perf_counter()
            search(engine, **query)
            elapsed = time.perf_counter() - start
            timings.append(elapsed)
            by_kind.setdefault(kind, []).append(elapsed)
        out["search_ms_median"] = median_ms(timings)
        out["search_ms_p99"] = percentile_ms(timings, 99)
        out["search_ms_p99_by_kind"] = {k: percentile_ms(v, 99) for k, v in by_kind.items()}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()

    start = time.perf_counter()
    tables = simulated_jobs(args.jobs, args.days, args.seed)
    generate_s = time.perf_counter() - start
    jobs = tables[0]
    first, last = date.fromisoformat(jobs[0]["day"]), date.fromisoformat(jobs[-1]["day"])
    queries = draw_queries(jobs, args.queries, args.seed)
    search = search_jobs

    figures: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        store = EventStore(Path(folder) / "report.sqlite")
        insert_s = insert_all(store.engine, tables)
        figures["sqlite"] = {"insert_s": insert_s}
        figures["sqlite"].update(
            time_backend(store.engine, first, last, queries, args.runs, search)
        )
        store.close()
    with throwaway_postgres() as url:
        store = EventStore(url)
        insert_s = insert_all(store.engine, tables)
        figures["postgres"] = {"insert_s": insert_s}
        figures["postgres"].update(
            time_backend(store.engine, first, last, queries, args.runs, search)
        )
        store.close()

    result: dict[str, Any] = {
        "jobs": len(jobs),
        "job_fees": len(tables[1]),
        "followups": len(tables[2]),
        "days": args.days,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "queries": len(queries) if search is not None else 0,
        "runs": args.runs,
        "generate_s": generate_s,
        "target_report_s": TARGET_REPORT_S,
        "target_search_ms_p99": TARGET_SEARCH_MS_P99,
    }
    for backend, values in figures.items():
        for key, value in values.items():
            result[f"{key}_{backend}"] = value
    print(
        f"Rescue statistics over {len(jobs):,} simulated jobs ({first} to {last}), "
        f"{len(tables[1]):,} fee items, {len(tables[2]):,} follow-ups"
    )
    rows: list[tuple[str, Any, str]] = []
    for backend, values in figures.items():
        rows.append(
            (
                f"{backend}: report s (median of {args.runs})",
                values["report_s"],
                f"target <= {TARGET_REPORT_S:g}",
            )
        )
        rows.append((f"{backend}: report, this process's CPU s", values["report_cpu_s"], ""))
        if "search_ms_p99" in values:
            rows.append((f"{backend}: search median ms", values["search_ms_median"], ""))
            rows.append(
                (
                    f"{backend}: search p99 ms",
                    values["search_ms_p99"],
                    f"target <= {TARGET_SEARCH_MS_P99:g}",
                )
            )
        rows.append((f"{backend}: bulk insert s", values["insert_s"], ""))
    print_table(rows, ("figure", "value", "note"))
    if not math.isclose(
        figures["sqlite"]["report_kept_share"] or 0.0,
        figures["postgres"]["report_kept_share"] or 0.0,
    ):
        print("the two backends disagree on the promise figure", file=sys.stderr)
        return 1
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
