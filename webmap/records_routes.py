"""The jobs' search and history, and the follow-up calls (回访, SERVICE_RULES §8).

- ``GET /records/jobs``: the search form (phone, plate, member card, job id or work-order
  number, days, state), the jobs found and each one's history.
- ``GET /api/records/jobs?phone=&plate=&card=&job_id=&day_from=&day_to=&state=&limit=``:
  ``{"jobs": [...]}`` (:func:`records.search.search_jobs`).
- ``GET /api/records/jobs/<job_id>/history``: ``{"job", "history": [...]}``
  (:func:`records.search.job_history`).
- ``GET /records/followups``: the calls due (overdue first marked), the form to record one,
  the complaints for the quality review.
- ``GET /api/records/followups?overdue=1``: ``{"now_s", "followups": [...]}``;
  ``GET /api/records/followups/complaints``: ``{"complaints": [...]}``.
- ``POST /api/records/followups/<job_id>`` ``{"outcome", "complaint", "correct"}`` with the
  page's CSRF token in ``X-CSRFToken``: the call recorded by the logged-in dispatcher at the
  dispatch clock's time.

A bad value answers 400 ``{"ok": false, "error": {"field", "value", "message"}}`` in the
dispatcher's language and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, request, session

from geo.errors import InputError
from geo.i18n import translate
from optimizer.dispatch.model import JobState
from records.followups import (
    OUTCOME_LABEL,
    complaints,
    open_followups,
    overdue_followups,
    record_outcome,
)
from records.rules import RecordRules, load_record_rules
from records.search import find_job, job_history, search_jobs
from records.work_orders import PAYMENT_METHOD_LABEL
from webmap import auth
from webmap.records_pages import refused, render_records_page

records = Blueprint("records", __name__)

SEARCH_KEYS = ("phone", "plate", "card", "job_id", "day_from", "day_to", "state", "limit")
"""The query parameters of a search (each one a keyword of :func:`search_jobs`)."""
MAX_QUERY_CHARS = 100
"""A query parameter longer than this is cut before it is checked (and refused)."""


def _runtime() -> Any:
    return current_app.extensions["rescue"]


def _record_rules() -> RecordRules:
    rules: RecordRules | None = getattr(_runtime().center, "record_rules", None)
    return rules or load_record_rules()


def _answer(read: Callable[[], dict[str, Any]]) -> Any:
    try:
        return {"ok": True, **read()}
    except InputError as error:
        return refused(error)


def _labels(lang: str) -> dict[str, dict[str, str]]:
    """The records' own code labels for the pages (outcomes, payment methods)."""
    outcomes = {code: OUTCOME_LABEL.get(code, code) for code in _record_rules().followup_outcomes}
    return {
        "followup_outcome": {code: translate(text, lang) for code, text in outcomes.items()},
        "payment_method": {
            code: translate(text, lang) for code, text in PAYMENT_METHOD_LABEL.items()
        },
    }


def _page(template: str, config: dict[str, Any], **context: Any) -> str:
    """``template`` with the records' labels and ``config`` in the page configuration."""
    labels = _labels(auth.current_language())
    return render_records_page(
        template, config={"record_labels": labels, **config}, record_labels=labels, **context
    )


# ---------------------------------------------------------------------------- jobs
@records.route("/records/jobs")
@auth.login_required
def jobs_page() -> Any:
    query = {key: request.args.get(key, "")[:MAX_QUERY_CHARS] for key in SEARCH_KEYS}
    query = {key: value for key, value in query.items() if value}
    return _page(
        "jobs.html",
        {"query": query},
        job_states=[state.value for state in JobState],
        query=query,
    )


@records.route("/api/records/jobs")
@auth.login_required
def api_jobs() -> Any:
    args = {key: request.args[key][:MAX_QUERY_CHARS] for key in SEARCH_KEYS if key in request.args}
    return _answer(lambda: {"jobs": search_jobs(_runtime().store.engine, **args)})


@records.route("/api/records/jobs/<job_id>/history")
@auth.login_required
def api_job_history(job_id: str) -> Any:
    engine = _runtime().store.engine
    key = job_id[:MAX_QUERY_CHARS]
    return _answer(lambda: {"job": find_job(engine, key), "history": job_history(engine, key)})


# ---------------------------------------------------------------------------- follow-ups
@records.route("/records/followups")
@auth.login_required
def followups_page() -> Any:
    rules = _record_rules()
    return _page(
        "followups.html",
        {"outcomes": list(rules.followup_outcomes)},
        outcomes=list(rules.followup_outcomes),
        followup_due_h=rules.followup_due_s / 3600.0,
    )


def _due_list(overdue: bool) -> dict[str, Any]:
    engine, now_s = _runtime().store.engine, _runtime().center.now()
    calls = overdue_followups(engine, now_s=now_s) if overdue else open_followups(engine)
    for call in calls:
        call["overdue"] = call["due_at_s"] < now_s
    return {"now_s": now_s, "followups": calls}


@records.route("/api/records/followups")
@auth.login_required
def api_followups() -> Any:
    overdue = request.args.get("overdue", "")[:MAX_QUERY_CHARS]
    if overdue not in ("", "0", "1"):
        return refused(InputError("overdue", overdue, "one of {names}", names="0, 1"))
    return _answer(lambda: _due_list(overdue == "1"))


@records.route("/api/records/followups/complaints")
@auth.login_required
def api_complaints() -> Any:
    return _answer(lambda: {"complaints": complaints(_runtime().store.engine)})


@records.route("/api/records/followups/<job_id>", methods=["POST"])
@auth.login_required
def api_record_followup(job_id: str) -> Any:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return refused(InputError("body", None, "must be a JSON object"))
    rt = _runtime()
    return _answer(
        lambda: {
            "followup": record_outcome(
                rt.store,
                job_id[:MAX_QUERY_CHARS],
                outcome=body.get("outcome"),
                complaint=body.get("complaint"),
                correct=body.get("correct", False),
                called_by=session["user"],
                at_s=rt.center.now(),
                rules=_record_rules(),
            )
        }
    )
