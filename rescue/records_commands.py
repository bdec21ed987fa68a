"""``rescue jobs search|history`` (the records of the jobs) and ``rescue followup
list|record`` (the follow-up calls, 回访, SERVICE_RULES §8)."""

from __future__ import annotations

import argparse
import time
from typing import Any

from geo.errors import InputError
from geo.i18n import N_
from records.followups import (
    complaints,
    open_followups,
    overdue_followups,
    record_outcome,
)
from records.search import find_job, job_history, search_jobs
from rescue.store_args import add_db_argument, opened_store


def _jobs_search(args: argparse.Namespace) -> dict[str, Any]:
    with opened_store(args) as store:
        found = search_jobs(
            store.engine,
            phone=args.phone,
            plate=args.plate,
            card=args.card,
            job_id=args.job,
            day_from=args.day_from,
            day_to=args.day_to,
            state=args.state,
            limit=args.limit,
        )
    return {"count": len(found), "jobs": found}


def _jobs_history(args: argparse.Namespace) -> dict[str, Any]:
    with opened_store(args) as store:
        job = find_job(store.engine, args.job_id)
        return {"job": job, "history": job_history(store.engine, job["job_id"])}


def _now_s(last_event_s: float) -> float:
    """The time of a call made now: the wall clock, or the last event's if later (the
    dispatch clock of a simulation runs ahead; it never goes back)."""
    return max(time.time(), last_event_s)


def _followup_list(args: argparse.Namespace) -> dict[str, Any]:
    with opened_store(args) as store:
        now_s = _now_s(store.last_at_s())
        if args.complaints:
            return {"complaints": complaints(store.engine, limit=args.limit)}
        calls = (
            overdue_followups(store.engine, now_s=now_s, limit=args.limit)
            if args.overdue
            else open_followups(store.engine, limit=args.limit)
        )
    for call in calls:
        call["overdue"] = call["due_at_s"] < now_s
    return {"now_s": now_s, "count": len(calls), "followups": calls}


def _followup_record(args: argparse.Namespace) -> dict[str, Any]:
    with opened_store(args) as store:
        if not store.has_user(args.by):
            raise InputError("--by", args.by, "unknown dispatcher")
        return {
            "followup": record_outcome(
                store,
                args.job_id,
                outcome=args.outcome,
                complaint=args.complaint,
                called_by=args.by,
                at_s=_now_s(store.last_at_s()),
                correct=args.correct,
            )
        }


def register(subparsers: Any) -> None:
    jobs = subparsers.add_parser("jobs", help=N_("the jobs' records: search and history"))
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    search = jobs_sub.add_parser(
        "search", help=N_("find jobs: every key given must match; newest first")
    )
    search.add_argument("--phone", help=N_("the caller's phone"))
    search.add_argument("--plate", help=N_("the licence plate"))
    search.add_argument("--card", help=N_("the member card number"))
    search.add_argument("--job", help=N_("a job id or work-order number"))
    search.add_argument("--from", dest="day_from", help=N_("first Beijing day, YYYY-MM-DD"))
    search.add_argument("--to", dest="day_to", help=N_("last Beijing day, YYYY-MM-DD"))
    search.add_argument("--state", help=N_("the job's state (closed, cancelled...)"))
    search.add_argument("--limit", default="50", help=N_("at most this many jobs (1-500)"))
    add_db_argument(search)
    search.set_defaults(handler=_jobs_search)
    history = jobs_sub.add_parser("history", help=N_("everything done to a job: who, when, what"))
    history.add_argument("job_id", help=N_("a job id or work-order number"))
    add_db_argument(history)
    history.set_defaults(handler=_jobs_history)

    followup = subparsers.add_parser(
        "followup", help=N_("follow-up calls after a job closes (SERVICE_RULES §8)")
    )
    followup_sub = followup.add_subparsers(dest="followup_command", required=True)
    listing = followup_sub.add_parser("list", help=N_("the calls to make, the one due first first"))
    listing.add_argument("--overdue", action="store_true", help=N_("only the overdue calls"))
    listing.add_argument(
        "--complaints", action="store_true", help=N_("the complaints heard, for quality review")
    )
    listing.add_argument("--limit", default="200", help=N_("at most this many (1-2000)"))
    add_db_argument(listing)
    listing.set_defaults(handler=_followup_list)
    record = followup_sub.add_parser("record", help=N_("record what a follow-up call found"))
    record.add_argument("job_id", help=N_("a job id or work-order number"))
    record.add_argument(
        "--outcome", required=True, help=N_("satisfied, not_satisfied or complaint")
    )
    record.add_argument("--complaint", help=N_("the complaint's text (for a complaint)"))
    record.add_argument("--by", required=True, help=N_("the dispatcher who called"))
    record.add_argument(
        "--correct",
        action="store_true",
        help=N_("replace the outcome recorded before (kept in the record log)"),
    )
    add_db_argument(record)
    record.set_defaults(handler=_followup_record)
