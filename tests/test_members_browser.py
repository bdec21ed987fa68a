"""The member register in headless Chromium against the real ``rescue serve``: the intake
form checks the card while the dispatcher types (plate not on the card, unknown), a
non-member caller joins now (380 yuan) and is quoted a member's price for a 20 km tow,
the call is dispatched, and the register holds the new member with its receipt; the
members page finds it. Screenshots in tests/artifacts/."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from geo.i18n import translate
from records import schema
from records.members import get_member
from records.store import EventStore

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
TOW_20_KM = (116.5675, 39.9087)
"""From Tiananmen 19.6 road km: billed 20 km, (20 - 15) x 8 = 40 yuan for a member."""
Server = Any  # the ``live_server`` fixture: a conftest.Server


def zh(msgid: str, **params: Any) -> str:
    return translate(msgid, "zh", **params)


def _until(page: Any, script: str, arg: Any = None, timeout_s: float = 15.0) -> None:
    """Poll ``script`` in the page until it is true (the page's CSP forbids evaluated
    strings, so Playwright's wait_for_function cannot be used)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"timed out waiting for: {script}"
        time.sleep(0.05)


@contextlib.contextmanager
def _store(db: Path) -> Iterator[EventStore]:
    store = EventStore(db)
    try:
        yield store
    finally:
        store.close()


def _card_status(page: Any) -> str:
    _until(page, "() => !!document.querySelector('#member-check #card-status')")
    return str(page.text_content("#card-status"))


def _check_shows(page: Any, status: str) -> None:
    _until(page, "(s) => document.querySelector('#member-check').dataset.status === s", status)


def test_dispatcher_checks_cards_and_a_caller_joins_now(chromium: Any, live_server: Server) -> None:
    server = live_server  # its register holds the test calls' member, card BJ-000123
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        _log_in(page, server)
        _card_checks(page)
        job_id, enrolment = _join_now_and_dispatch(page)
        with _store(server.db) as store:
            with store.engine.connect() as connection:
                row = connection.execute(
                    select(schema.jobs).where(schema.jobs.c.job_id == job_id)
                ).one()
            card = row.member_card
            member = get_member(store, card)
        # The job is a member's, dispatched, and the register holds the new member.
        assert row.member is True and row.total_yuan == 40.0 and row.truck_id
        assert member is not None and member.enrolled_job_id == job_id
        assert member.fee_paid_yuan == 380.0 and member.plates == ("京Q67890",)
        assert member.receipt_no and member.receipt_no.startswith("R")
        assert card in enrolment and member.receipt_no in enrolment
        _members_page_finds(page, server, card)
    finally:
        page.screenshot(path=str(ARTIFACTS / "members_last.png"))
        page.close()
    assert problems == []


def _log_in(page: Any, server: Server) -> None:
    page.goto(server.url + "/login")
    page.fill("#login-name", server.user)
    page.fill("#login-password", server.password)
    page.click("#login-submit")
    _until(page, "() => !!window.rescueMap && window.rescueMap.truckMarkers.size === 46")
    _until(page, "() => document.querySelector('#conn').classList.contains('online')")


def _card_checks(page: Any) -> None:
    """The card is checked while it is typed: valid, then another car, then unknown."""
    page.fill("[name=plate]", "京N12345")
    page.fill("[name=member_card]", "BJ-000123")
    _check_shows(page, "valid")
    assert _card_status(page) == zh("Card valid")
    assert "王先生" in page.text_content("#member-check")
    assert page.is_disabled("#join-now")  # a valid card does not join
    page.fill("[name=plate]", "京Q99999")
    _check_shows(page, "plate_not_on_card")
    assert _card_status(page) == zh("Plate not on this card")
    page.fill("[name=member_card]", "BJ000999")
    _check_shows(page, "unknown")
    assert _card_status(page) == zh("Card not in the register")
    assert "BJ000999" in page.text_content("#card-script")
    assert page.is_enabled("#join-now")
    page.locator("#membership").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "members_card_check.png"))


def _join_now_and_dispatch(page: Any) -> tuple[str, str]:
    """A non-member caller joins now (no card at hand: the system issues one), is quoted a
    member's price, and the call is dispatched; the job id and the enrolment shown."""
    page.fill("[name=member_card]", "")
    _until(page, "() => !document.querySelector('#card-status')")
    form = {
        "caller_name": "赵女士",
        "caller_phone": "13712345678",
        "plate": "京Q67890",
        "model": "Buick",
        "colour": "white",
        "lon": "116.3975",
        "lat": "39.9087",
        "landmarks": "天安门东",
        "fault_symptoms": "engine died",
        "customer_need": "tow to the shop",
        "tow_lon": str(TOW_20_KM[0]),
        "tow_lat": str(TOW_20_KM[1]),
    }
    for name, value in form.items():
        page.fill(f"[name={name}]", value)
    page.select_option("#fault-category", "engine_failure")
    page.click("#join-now")
    assert page.get_attribute("#join-now", "aria-pressed") == "true"
    assert page.is_visible("#join-now-note")
    assert page.is_checked("[name=member]")
    page.click("#intake-submit")
    page.wait_for_selector("#proposal-best")
    # Priced as a member's: (20 - 15) x 8 yuan, no call-out fee.
    assert page.text_content("#quote-total") == zh("{amount} yuan", amount=40)
    assert page.locator("#quote-items tr").count() == 4  # on-site, 15 km, beyond, total
    enrolment = str(page.text_content("#enrolment"))
    job_id = str(page.evaluate("window.rescueMap.state.lastIntake"))
    page.click("#confirm-dispatch")
    page.wait_for_selector("#dispatched")
    page.screenshot(path=str(ARTIFACTS / "members_join_now.png"))
    # The form is ready for the next call: join now is off again.
    assert page.get_attribute("#join-now", "aria-pressed") == "false"
    return job_id, enrolment


def _members_page_finds(page: Any, server: Server, card: str) -> None:
    page.goto(server.url + "/records/members")
    page.fill("#search-q", "京Q67890")
    page.click("#member-search button[type=submit]")
    # The unfiltered register lists the card too: wait for the search's answer, one row.
    _until(
        page,
        "(c) => !!document.querySelector(`tr[data-card='${c}']`)"
        " && document.querySelectorAll('#members-body tr').length === 1",
        card,
    )
    assert zh("valid") in page.text_content("#members-body")
    page.screenshot(path=str(ARTIFACTS / "members_page.png"))
