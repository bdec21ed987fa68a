"""The member register on the web (SERVICE_RULES §5).

- ``GET /records/members``: the members page (search by card, phone, plate or name; add a
  member);
- ``GET /api/members?q=``: the members matching ``q`` (at most :data:`SEARCH_LIMIT`);
- ``POST /api/members`` (JSON :data:`records.members.CSV_COLUMNS`, phones and plates as
  lists or texts separated by ``;``; the page's CSRF token in ``X-CSRFToken``): add one;
- ``GET /api/members/check?card=&plate=``: the card check the intake form shows while the
  dispatcher types (:func:`records.members.card_check` on the dispatch clock's day): an
  unknown card is an answer (``status: unknown``), not an error.

A bad value answers 400 ``{"ok": false, "error": {"field", "value", "message"}}`` in the
dispatcher's language and changes nothing. Times are the dispatch clock's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, request, session

from geo.errors import InputError
from records.card_check import card_check
from records.days import beijing_day
from records.members import CSV_COLUMNS, add_member, find_members
from webmap import auth
from webmap.records_pages import refused, render_records_page

members = Blueprint("members", __name__)
SEARCH_LIMIT = 100
MAX_CARD_CHARS = 40
MAX_PLATE_CHARS = 20
"""The intake form's limits (:data:`optimizer.dispatch.intake.INTAKE_FIELDS`)."""


def _runtime() -> Any:
    return current_app.extensions["rescue"]


@members.app_context_processor
def _membership_fee() -> dict[str, Any]:
    """The membership fee for the intake form's "join now" button (every page's template)."""
    rt = current_app.extensions.get("rescue")
    return {} if rt is None else {"membership_yuan": rt.center.record_rules.membership_yuan}


@members.route("/records/members")
@auth.login_required
def page() -> Any:
    rt = _runtime()
    record_rules = rt.center.record_rules
    return render_records_page(
        "members.html",
        config={
            "columns": list(CSV_COLUMNS),
            "membership_yuan": record_rules.membership_yuan,
            "membership_days": record_rules.membership_days,
            "today": beijing_day(rt.center.now()),
        },
    )


@members.route("/api/members")
@auth.login_required
def search() -> Any:
    try:
        found = find_members(_runtime().store, request.args.get("q", ""), limit=SEARCH_LIMIT)
    except InputError as error:
        return refused(error)
    return {"ok": True, "members": [m.to_json() for m in found]}


@members.route("/api/members", methods=["POST"])
@auth.login_required
def add() -> Any:
    body = request.get_json(silent=True)
    rt = _runtime()
    try:
        if not isinstance(body, dict):
            raise InputError("member", None, "must be a JSON object")
        data = {key: value for key, value in body.items() if value not in (None, "")}
        member = add_member(
            rt.store,
            data,
            user=session["user"],
            at_s=rt.center.now(),
            rules=rt.center.rules.intake,
        )
    except InputError as error:
        return refused(error)
    return {"ok": True, "member": member.to_json()}


@members.route("/api/members/check")
@auth.login_required
def check() -> Any:
    rt = _runtime()
    card = request.args.get("card", "")
    plate = request.args.get("plate") or None
    try:
        if len(card) > MAX_CARD_CHARS:
            raise InputError(
                "member_card", card, "is longer than {max_chars} characters", max_chars=40
            )
        if plate is not None and len(plate) > MAX_PLATE_CHARS:
            raise InputError(
                "vehicle.plate", plate, "is longer than {max_chars} characters", max_chars=20
            )
        answer = card_check(
            rt.store,
            card,
            plate,
            dt.date.fromisoformat(beijing_day(rt.center.now())),
            rules=rt.center.rules.intake,
            record_rules=rt.center.record_rules,
        )
    except InputError as error:
        return refused(error)
    return {"ok": True, **answer.to_json()}
