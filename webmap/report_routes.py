"""The Reports page: the rescue statistics of a range of days (SERVICE_RULES §8).

- ``GET /reports``: the page (date range, charts drawn by ``reports.js`` with ECharts);
- ``GET /api/reports?from=&to=``: the report as JSON (:func:`records.report.build_report`);
- ``GET /reports.csv?from=&to=``: the same as a CSV file (:func:`records.report.report_csv`).

A bad or missing date answers 400 ``{"ok": false, "error": {"field", "value", "message"}}``
in the dispatcher's language (fields ``from`` and ``to``). Without dates the page shows the
last :data:`DEFAULT_DAYS` Beijing days up to today.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any

from flask import Blueprint, Response, current_app, request

from geo.errors import InputError
from geo.i18n import N_, translate
from records.days import beijing_day
from records.report import ReportRules, build_report, load_report_rules, parse_range, report_csv
from webmap import auth
from webmap.records_pages import refused, render_records_page

reports = Blueprint("reports", __name__)

DEFAULT_DAYS = 30
FIELDS = ("from", "to")
FEE_ITEM = {
    # optimizer/dispatch/quote.py line items (SERVICE_RULES §5)
    "on_site_service": N_("On-site service (member)"),
    "tow_free_km": N_("Towing, free km (member)"),
    "tow_extra_km": N_("Towing beyond the free km (member)"),
    "callout": N_("Emergency call-out fee"),
    "tow_km": N_("Towing per km"),
    "suburban_surcharge": N_("Suburban surcharge"),
    "tolls": N_("Tolls (paid at cost)"),
}
OUTCOME = {
    "satisfied": N_("Satisfied"),
    "not_satisfied": N_("Not satisfied"),
    "complaint": N_("Complaint"),
    "pending": N_("Not called yet"),
}


@cache
def _rules() -> ReportRules:
    return load_report_rules()


def _engine() -> Any:
    return current_app.extensions["rescue"].store.engine


def _today() -> date:
    return date.fromisoformat(beijing_day(current_app.extensions["rescue"].center.now()))


def _range() -> tuple[date, date]:
    """The request's ``from`` and ``to`` (both required)."""
    return parse_range(request.args.get("from"), request.args.get("to"), fields=FIELDS)


@reports.route("/reports")
@auth.login_required
def page() -> Any:
    lang = auth.current_language()
    today = _today()
    first = today - timedelta(days=DEFAULT_DAYS - 1)
    config = {
        "default_from": first.isoformat(),
        "default_to": today.isoformat(),
        "report_labels": {
            "fee_item": {code: translate(m, lang) for code, m in FEE_ITEM.items()},
            "outcome": {code: translate(m, lang) for code, m in OUTCOME.items()},
        },
    }
    return render_records_page("reports.html", config=config)


@reports.route("/api/reports")
@auth.login_required
def api_report() -> Any:
    try:
        first, last = _range()
    except InputError as error:
        return refused(error)
    return {"ok": True, **build_report(_engine(), first, last, rules=_rules())}


@reports.route("/reports.csv")
@auth.login_required
def report_file() -> Any:
    try:
        first, last = _range()
    except InputError as error:
        return refused(error)
    text = report_csv(build_report(_engine(), first, last, rules=_rules()))
    name = f"rescue-report-{first.isoformat()}-{last.isoformat()}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
