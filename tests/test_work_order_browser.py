"""The work order page in headless Chromium (Debian's /usr/bin/chromium, Playwright) on the
real ``rescue serve``: a job made by another dispatcher (a python-socketio client) from call
to delivery, then on the page: a refused claim shows why, the payment, the sign-off and the
club's invoice are recorded, the page prints to one A4 sheet without its forms
(``page.pdf``) and the PDF export downloads. Screenshots and PDFs go to
``tests/artifacts/`` (page 1 rendered to PNG with pypdfium2, to look at)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from geo.i18n import translate

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
A4_PT = (595, 842)
Server = Any  # conftest.Server
Page = Any


def zh(msgid: str, **params: Any) -> str:
    return translate(msgid, "zh", **params)


def _delivered_accident_job(listener: Any) -> dict[str, Any]:
    """An insurance accident towed by the club, from the call to ``delivered``."""
    ack = listener.intake(
        {
            "caller": {"name": "王先生", "phone": "13900139000", "gender": "male"},
            "vehicle": {"plate": "京A66666", "model": "Toyota Camry", "colour": "white"},
            "member": False,
            "member_card": None,
            "location": [116.4035, 39.9050],
            "landmarks": "东单路口北",
            "fault_symptoms": "追尾，车头受损",
            "fault_category": "accident_damage",
            "customer_need": "拖到修理厂",
            "accident": True,
            "insurer": "ping_an",
        }
    )
    job, best = ack["job"], ack["proposal"]["best"]["truck"]
    job = listener.call(
        "dispatch", {"job_id": job["id"], "truck_id": best, "version": job["version"]}
    )["job"]
    for state in ("en_route", "on_scene", "towing", "delivered"):
        job = listener.call(
            "advance", {"job_id": job["id"], "state": state, "version": job["version"]}
        )["job"]
    return job


@pytest.fixture
def page(chromium: Any, live_server: Server) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1200, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda e: problems.append(str(e)))
    opened.goto(live_server.url + "/login")
    opened.fill("#login-name", live_server.user)
    opened.fill("#login-password", live_server.password)
    opened.click("#login-submit")
    opened.wait_for_url(live_server.url + "/")
    yield opened
    context.close()
    assert problems == []


def _until(page: Page, script: str, timeout_s: float = 10.0) -> Any:
    """Poll ``script`` until truthy (the page's CSP forbids ``wait_for_function``'s eval)."""
    deadline = time.monotonic() + timeout_s
    while not (value := page.evaluate(script)):
        assert time.monotonic() < deadline, f"timed out waiting for: {script}"
        time.sleep(0.1)
    return value


def _render(pdf: Path, name: str) -> str:
    """Page 1 of ``pdf`` to ``tests/artifacts/<name>.png``; checks one A4 sheet; its text."""
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) == 1
        sheet = document[0]
        assert tuple(round(v) for v in sheet.get_size()) == A4_PT
        text: str = sheet.get_textpage().get_text_range()
        sheet.render(scale=1.5).to_pil().save(ARTIFACTS / f"{name}.png")
        sheet.close()
    finally:
        document.close()
    return text


def test_record_payment_sign_off_and_claim_then_print(
    page: Page, live_server: Server, dispatcher: Any
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    job = _delivered_accident_job(dispatcher(live_server))
    page.goto(f"{live_server.url}/records/work_orders/{job['id']}")
    number = page.text_content("#order-no")
    assert number and number.endswith("-0001") and len(number) == len("20261203-0001")
    assert page.text_content("#total") == f"{job['quote']['total_yuan']:.2f}"
    assert page.is_visible("#claim-form")
    # The club towed: without the invoice the claim is refused, with the reason shown.
    page.check("input[name=path][value=club_tows]")
    assert page.is_visible("#invoice-fields")
    page.click("#claim-form button[type=submit]")
    _until(page, "() => document.querySelector('#claim-form [data-error]').textContent")
    error = page.text_content("#claim-form [data-error]") or ""
    assert error.startswith("invoice.number: ")
    assert zh("1-40 letters, digits or '-'") in error

    # The payment, as the crew collected it.
    page.select_option("#payment-method", "cash")
    page.fill("#payment-amount", "245.5")
    with page.expect_navigation():
        page.click("#payment-form button[type=submit]")
    assert page.text_content("#paid") == "245.50"
    # The owner's sign-off.
    page.fill("#sign-off-name", "王先生")
    with page.expect_navigation():
        page.click("#sign-off-form button[type=submit]")
    assert page.text_content("#signed-by") == "王先生"
    assert page.query_selector("#sign-off-form") is None  # signed once
    # The club's invoice and the documents in hand.
    page.check("input[name=path][value=club_tows]")
    page.check("input[name=documents][value=liability_ruling]")
    page.check("input[name=documents][value=driving_licence]")
    page.fill("[name=invoice_number]", "12345678")
    page.fill("[name=invoice_title]", "王先生")
    page.fill("[name=invoice_amount]", "245.5")
    page.fill("[name=invoice_date]", number[:4] + "-" + number[4:6] + "-" + number[6:8])
    with page.expect_navigation():
        page.click("#claim-form button[type=submit]")
    assert page.text_content("#invoice-no") == "12345678"
    assert page.is_checked("input[name=documents][value=driving_licence]")
    page.screenshot(path=str(ARTIFACTS / "work_order_page.png"), full_page=True)
    _print_and_export(page, number)


def _print_and_export(page: Page, number: str) -> None:
    # Printed from the browser: one A4 sheet, the form without the page's forms and frame.
    printed = ARTIFACTS / "work_order_browser_print.pdf"
    page.emulate_media(media="print")
    page.pdf(path=str(printed), prefer_css_page_size=True, print_background=True)
    page.emulate_media(media="screen")
    assert printed.read_bytes().startswith(b"%PDF")
    text = _render(printed, "work_order_browser_print")
    assert number in text and "王先生" in text and "12345678" in text
    assert zh("Rescue work order") in text
    assert zh("Record payment") not in text and zh("Log out") not in text

    # The PDF export (WeasyPrint) downloads from the page's link.
    with page.expect_download() as download:
        page.click("#pdf-link")
    exported = ARTIFACTS / "work_order_export.pdf"
    download.value.save_as(str(exported))
    assert download.value.suggested_filename == f"work-order-{number}.pdf"
    assert exported.read_bytes().startswith(b"%PDF")
    text = _render(exported, "work_order_export")
    assert number in text and "12345678" in text and "245.50" in text
