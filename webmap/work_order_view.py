"""The work order as a paper form: the texts it prints in a language, its print-only HTML
and its PDF (WeasyPrint, A4, the Chinese font WenQuanYi Micro Hei).

The page (``/records/work_orders/<job_id>``, :mod:`webmap.work_order_routes`) and the print
document share one template of the form, ``work_order_sheet.html`` and its stylesheet
``work_order_sheet.css``; :func:`print_html` renders it alone (no frame, no forms) for the PDF
of the page's export link and of ``rescue workorder show --pdf``.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from geo.i18n import N_, translate, translate_in
from optimizer.dispatch.labels import page_labels
from optimizer.dispatch.rules import Rules
from records.claims import CLAIM_DOCUMENT_LABEL, CLAIM_PATH_LABEL
from records.days import beijing_time
from records.rules import RecordRules
from records.work_orders import PAYMENT_METHOD_LABEL, WorkOrder

TEMPLATES = Path(__file__).resolve().parent / "templates"
PRINT_TEMPLATE = "work_order_print.html"
YES_NO = (N_("Yes"), N_("No"))


def clock_text(at_s: float | None) -> str:
    """Beijing time ``YYYY-MM-DD HH:MM``, or an empty text."""
    return "" if at_s is None else beijing_time(at_s).strftime("%Y-%m-%d %H:%M")


def km_text(metres: float | None) -> str:
    return "" if metres is None else f"{metres / 1000.0:.1f}"


def yuan_text(yuan: float | None) -> str:
    return "" if yuan is None else f"{yuan:.2f}"


def sheet(order: WorkOrder, lang: str, rules: Rules, record_rules: RecordRules) -> dict[str, Any]:
    """What the form prints, as texts in ``lang`` (labels of the codes, Beijing times,
    km with one decimal, yuan with two), plus the codes the page's forms need."""
    labels = page_labels(lang, rules)

    def label(group: str, code: str | None) -> str:
        return "" if code is None else labels.get(group, {}).get(code, code)

    zh = lang == "zh"
    insurer = rules.insurers.get(order.claim.insurer if order.claim else order.insurer or "")
    claim = order.claim
    in_hand = set(claim.documents) if claim else set()
    return {
        "order": order,
        "order_no": order.order_no,
        "job_id": order.job_id,
        "state": label("job_state", order.state),
        "created": clock_text(order.created_at_s),
        "deadline": clock_text(order.deadline_s),
        "promise_kept": None
        if order.promise_kept is None
        else translate(YES_NO[0] if order.promise_kept else YES_NO[1], lang),
        "member": translate(YES_NO[0] if order.member else YES_NO[1], lang),
        "gender": label("gender", order.caller_gender),
        "zone": label("zone", order.zone),
        "required_kind": label("kind", order.required_kind),
        "fault": label("fault", order.fault_category),
        "cancel_reason": label("cancel_reason", order.cancel_reason),
        "location": ""
        if order.location is None
        else f"{order.location[1]:.5f}, {order.location[0]:.5f}",
        "driven_km": km_text(order.driven_m),
        "tow_km": km_text(order.tow_m),
        "history": [
            {
                "state": label("job_state", h.state),
                "at": clock_text(h.at_s),
                "note": h.note_zh if zh else h.note,
            }
            for h in order.history
        ],
        "fees": [
            {"label": (f.label_zh or f.label) if zh else f.label, "yuan": yuan_text(f.fee_yuan)}
            for f in order.fees
        ],
        "total": yuan_text(order.total_yuan),
        "notices": list(order.notices_zh if zh else order.notices),
        "payment_method": None
        if order.payment is None
        else translate(PAYMENT_METHOD_LABEL.get(order.payment.method, order.payment.method), lang),
        "paid": None if order.payment is None else yuan_text(order.payment.paid_yuan),
        "signed_by": None if order.sign_off is None else order.sign_off.name,
        "signed_at": None if order.sign_off is None else clock_text(order.sign_off.at_s),
        "show_claim": order.accident or claim is not None,
        "insurer": None
        if insurer is None
        else {"name": insurer.name_zh if zh else insurer.name_en, "phone": insurer.phone},
        "claim_path": None
        if claim is None
        else translate(CLAIM_PATH_LABEL.get(claim.path, claim.path), lang),
        "documents": [
            {
                "code": code,
                "label": translate(CLAIM_DOCUMENT_LABEL.get(code, code), lang),
                "in_hand": code in in_hand,
            }
            for code in record_rules.claim_documents
        ],
        "invoice": None if claim is None or claim.invoice is None else claim.invoice,
        "invoice_yuan": None
        if claim is None or claim.invoice is None
        else yuan_text(claim.invoice.amount_yuan),
        "claim_note": "" if claim is None else claim.note,
        # For the forms of the page.
        "payment_methods": [
            {"code": m, "label": translate(PAYMENT_METHOD_LABEL.get(m, m), lang)}
            for m in record_rules.payment_methods
        ],
        "claim_paths": [
            {"code": p, "label": translate(CLAIM_PATH_LABEL.get(p, p), lang)}
            for p in record_rules.claim_paths
        ],
        "insurers": [
            {
                "code": i.key,
                "label": f"{i.name_zh if zh else i.name_en} {i.phone}",
            }
            for i in rules.insurers.values()
        ],
    }


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def print_html(order: WorkOrder, lang: str, rules: Rules, record_rules: RecordRules) -> str:
    """The work order alone as an HTML document for print (the page's form, no forms)."""
    template = _environment().get_template(PRINT_TEMPLATE)
    return template.render(
        s=sheet(order, lang, rules, record_rules),
        lang=lang,
        _=functools.partial(translate_in, lang),
    )


def pdf_bytes(order: WorkOrder, lang: str, rules: Rules, record_rules: RecordRules) -> bytes:
    """The work order as an A4 PDF (WeasyPrint, fonts from the system's fontconfig)."""
    from weasyprint import HTML  # type: ignore[import-untyped]  # noqa: PLC0415 (slow)

    html = print_html(order, lang, rules, record_rules)
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    return pdf
