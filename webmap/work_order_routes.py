"""The rescue work order (救援工作单) of a job: its printable page, its PDF, and the JSON
endpoints the page's forms post to (payment, sign-off, insurance claim).

- ``GET /records/work_orders/<job_id>``: the form as on paper (A4 print CSS) with the forms
  (not printed); ``GET /records/work_orders/<job_id>.pdf``: the same form as a PDF
  (:func:`webmap.work_order_view.pdf_bytes`).
- ``GET /api/work_orders/<job_id>``: the work order as JSON.
- ``POST /api/work_orders/<job_id>/payment`` ``{"method", "paid_yuan"}``,
  ``.../sign_off`` ``{"name"}``, ``.../claim`` ``{"insurer", "path", "documents",
  "invoice", "note"}``: with the page's CSRF token in ``X-CSRFToken``; a bad value answers
  400 ``{"ok": false, "error": {"field", "value", "message"}}`` in the dispatcher's language
  and changes nothing.

Times of payments and sign-offs are the dispatch clock's (the center's ``now``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, abort, current_app, request, session, url_for

from geo.errors import InputError
from records.claims import record_claim
from records.rules import RecordRules
from records.work_orders import WorkOrder, record_payment, record_sign_off, work_order
from webmap import auth
from webmap.records_pages import refused, render_records_page
from webmap.serialize import jsonable
from webmap.work_order_view import pdf_bytes, sheet

work_orders = Blueprint("work_orders", __name__)


def _runtime() -> Any:
    return current_app.extensions["rescue"]


def _record_rules() -> RecordRules:
    rules: RecordRules = _runtime().center.record_rules
    return rules


def _order_or_404(job_id: str) -> WorkOrder:
    try:
        return work_order(_runtime().store.engine, job_id)
    except InputError as error:
        abort(404, description=error.message(auth.current_language()))


@work_orders.route("/records/work_orders/<job_id>")
@auth.login_required
def page(job_id: str) -> Any:
    order = _order_or_404(job_id)
    lang = auth.current_language()
    return render_records_page(
        "work_order.html",
        config={"job_id": order.job_id},
        s=sheet(order, lang, _runtime().center.rules, _record_rules()),
        pdf_url=url_for("work_orders.pdf", job_id=order.job_id),
    )


@work_orders.route("/records/work_orders/<job_id>.pdf")
@auth.login_required
def pdf(job_id: str) -> Any:
    order = _order_or_404(job_id)
    body = pdf_bytes(order, auth.current_language(), _runtime().center.rules, _record_rules())
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="work-order-{order.order_no}.pdf"'
    )
    return response


def _body(allowed: tuple[str, ...]) -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InputError("body", None, "a JSON object")
    for key in body:
        if key not in allowed:
            raise InputError(str(key), body[key], "unknown field")
    return body


def _answer(run: Callable[[], WorkOrder]) -> Any:
    try:
        order = run()
    except InputError as error:
        return refused(error)
    return {"ok": True, "work_order": jsonable(order.to_json())}


@work_orders.route("/api/work_orders/<job_id>")
@auth.login_required
def api_work_order(job_id: str) -> Any:
    return _answer(lambda: work_order(_runtime().store.engine, job_id))


def _now() -> float:
    now: float = _runtime().center.now()
    return now


@work_orders.route("/api/work_orders/<job_id>/payment", methods=["POST"])
@auth.login_required
def api_payment(job_id: str) -> Any:
    def run() -> WorkOrder:
        body = _body(("method", "paid_yuan"))
        return record_payment(
            _runtime().store,
            job_id,
            method=body.get("method"),
            paid_yuan=body.get("paid_yuan"),
            user=session["user"],
            at_s=_now(),
            rules=_record_rules(),
        )

    return _answer(run)


@work_orders.route("/api/work_orders/<job_id>/sign_off", methods=["POST"])
@auth.login_required
def api_sign_off(job_id: str) -> Any:
    def run() -> WorkOrder:
        body = _body(("name",))
        return record_sign_off(
            _runtime().store, job_id, name=body.get("name"), user=session["user"], at_s=_now()
        )

    return _answer(run)


@work_orders.route("/api/work_orders/<job_id>/claim", methods=["POST"])
@auth.login_required
def api_claim(job_id: str) -> Any:
    def run() -> WorkOrder:
        body: Mapping[str, Any] = _body(("insurer", "path", "documents", "invoice", "note"))
        store = _runtime().store
        record_claim(
            store,
            job_id,
            insurer=body.get("insurer"),
            path=body.get("path"),
            documents=body.get("documents"),
            invoice=body.get("invoice"),
            note=body.get("note"),
            user=session["user"],
            at_s=_now(),
            rules=_record_rules(),
            insurers=_runtime().center.rules.insurers,
        )
        return work_order(store.engine, job_id)

    return _answer(run)
