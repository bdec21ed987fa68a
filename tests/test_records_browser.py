"""The jobs and follow-up pages in a real browser on the real server: a job made and closed
by another dispatcher (a Socket.IO client) is found by its caller's phone, its history
shows who did what and when, and its follow-up call is recorded as a complaint that then
stands in the quality review's list. Screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from geo.i18n import translate

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
PHONE = "13512345678"
COMPLAINT = "师傅到得比说好的晚了半小时"
Server = Any  # conftest.Server
Listener = Any  # conftest.Listener
Page = Any


def zh(msgid: str, **params: Any) -> str:
    return translate(msgid, "zh", **params)


def until(page: Page, script: str, arg: Any = None, timeout_s: float = 15.0) -> Any:
    """Poll ``script`` in the page until it is truthy (the CSP forbids wait_for_function)."""
    deadline = time.monotonic() + timeout_s
    while not (value := page.evaluate(script, arg)):
        assert time.monotonic() < deadline, f"timed out waiting for: {script}"
        time.sleep(0.1)
    return value


def closed_job(listener: Listener, call: dict[str, Any]) -> dict[str, Any]:
    """``call`` taken, dispatched on its best truck and worked to closed."""
    ack = listener.intake(call)
    job, best = ack["job"], ack["proposal"]["best"]["truck"]
    sent = {"job_id": job["id"], "truck_id": best, "version": job["version"]}
    job = listener.call("dispatch", sent)["job"]
    for state in ("en_route", "on_scene", "fixed", "closed"):
        sent = {"job_id": job["id"], "state": state, "version": job["version"]}
        job = listener.call("advance", sent)["job"]
    return dict(job)


def texts(page: Page, selector: str) -> list[str]:
    found: list[str] = page.eval_on_selector_all(selector, "nodes => nodes.map(n => n.textContent)")
    return found


@pytest.fixture
def page(chromium: Any, live_server: Server) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    opened.goto(live_server.url + "/login")
    opened.fill("#login-name", live_server.user)
    opened.fill("#login-password", live_server.password)
    opened.click("#login-submit")
    opened.wait_for_selector(".leaflet-container")
    yield opened
    context.close()
    assert problems == []


def test_find_a_job_by_phone_see_its_history_and_record_its_follow_up(
    page: Page,
    live_server: Server,
    dispatcher: Callable[[Server], Listener],
    make_call: Callable[..., dict[str, Any]],
) -> None:
    listener = dispatcher(live_server)
    other = listener.intake(make_call(caller={"name": "赵先生", "phone": "13700137000"}))
    job = closed_job(listener, make_call(caller={"name": "孙女士", "phone": PHONE}))
    job_id = job["id"]
    try:
        search_and_read_the_history(page, live_server, job)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "records-jobs-history.png"), full_page=True)
    try:
        record_a_complaint(page, live_server, job_id, other_id=other["job"]["id"])
    finally:
        page.screenshot(path=str(ARTIFACTS / "records-followups.png"), full_page=True)


def search_and_read_the_history(page: Page, server: Server, job: dict[str, Any]) -> None:
    """Find the job by its caller's phone (typed with spaces), open its history."""
    job_id = job["id"]
    page.goto(server.url + "/records/jobs")
    until(page, "() => document.querySelectorAll('#jobs-body tr').length >= 2")
    page.fill("#search-phone", "135 1234 5678")
    page.click("#job-search button[type=submit]")
    until(page, "() => document.querySelectorAll('#jobs-body tr').length === 1")
    row = page.locator("#jobs-body tr")
    assert row.get_attribute("data-job") == job_id
    assert PHONE in row.text_content() and "孙女士" in row.text_content()
    assert zh("Closed") in row.text_content()
    link = row.locator("a")
    assert link.get_attribute("href") == f"/records/work_orders/{job_id}"
    assert page.url.endswith("/records/jobs?phone=135+1234+5678")
    row.locator(".history-button").click()
    until(page, "() => document.querySelectorAll('#history-body tr').length === 6")
    kinds = page.eval_on_selector_all("#history-body tr", "rows => rows.map(r => r.dataset.kind)")
    assert kinds == ["intake", "dispatch", "advance", "advance", "advance", "advance"]
    whos = texts(page, "#history-body tr td:nth-child(2)")
    assert whos == [server.user] * 6
    whats = texts(page, "#history-body tr td:nth-child(3)")
    assert whats[1] == zh("Dispatched to truck {truck}", truck=job["truck_id"])
    assert whats[-1] == zh("State changed to {state}", state=zh("Closed"))
    whens = texts(page, "#history-body tr td:nth-child(1)")
    assert all(when.startswith("20") for when in whens), whens
    assert job_id in page.text_content("#history-title")
    # A bad key is refused, naming the field, in the page's language.
    page.fill("#search-phone", "")
    page.fill("#search-plate", "xx")
    page.click("#job-search button[type=submit]")
    until(page, "() => document.getElementById('search-error').textContent.length > 0")
    assert page.text_content("#search-error").startswith("plate: ")
    page.fill("#search-plate", "")
    page.fill("#search-phone", PHONE)
    page.click("#job-search button[type=submit]")
    until(page, "() => document.querySelectorAll('#jobs-body tr').length === 1")
    row.locator(".history-button").click()
    until(page, "() => document.querySelectorAll('#history-body tr').length === 6")


def record_a_complaint(page: Page, server: Server, job_id: str, *, other_id: str) -> None:
    """On the follow-ups page: the closed job is due (the open one is not), its call is
    recorded as a complaint (refused first without the text) and stands in the review."""
    page.goto(server.url + "/records/followups")
    selector = f'#due-body tr[data-job="{job_id}"]'
    page.wait_for_selector(selector)
    assert page.locator(f'#due-body tr[data-job="{other_id}"]').count() == 0
    due = page.locator(selector)
    assert "孙女士" in due.text_content() and PHONE in due.text_content()
    due.locator(".record-button").click()
    assert page.is_visible("#followup-card")
    assert "孙女士" in page.text_content("#followup-title")
    assert not page.is_visible("#complaint-text")
    page.check('#followup-form input[value="complaint"]')
    assert page.is_visible("#complaint-text")
    page.click("#followup-form button[type=submit]")  # no text: refused
    until(page, "() => document.getElementById('followup-error').textContent.length > 0")
    assert page.text_content("#followup-error") == "complaint: " + zh(
        "is required for a complaint: write what was said"
    )
    page.fill("#complaint-text", COMPLAINT)
    page.screenshot(path=str(ARTIFACTS / "records-followup-form.png"), full_page=True)
    page.click("#followup-form button[type=submit]")
    until(page, "() => document.getElementById('followup-done').textContent.length > 0")
    assert zh("Complaint") in page.text_content("#followup-done")
    until(page, "(s) => !document.querySelector(s)", selector)
    heard = page.locator(f'#complaints-body tr[data-job="{job_id}"]')
    heard.wait_for()
    assert COMPLAINT in heard.text_content()
    assert server.user in heard.text_content()
    # The history now ends with the call.
    page.goto(server.url + f"/records/jobs?job_id={job_id}")
    until(page, "() => document.querySelectorAll('#jobs-body tr').length === 1")
    page.click("#jobs-body .history-button")
    until(page, "() => document.querySelectorAll('#history-body tr').length === 7")
    last = page.locator("#history-body tr").last
    assert last.get_attribute("data-kind") == "followup.outcome"
    assert COMPLAINT in last.text_content()
    page.goto(server.url + "/records/followups")
    page.wait_for_selector(f'#complaints-body tr[data-job="{job_id}"]')
