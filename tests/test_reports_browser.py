"""The Reports page in headless Chromium against the real ``rescue serve``: a few hundred
simulated jobs (the benchmark's generator) written into the server's records, the page
opened for their days, every chart drawn (ECharts canvases), no console error, no request
leaving the server; a wrong range shows its error; a screenshot for a person to look at."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import insert

from geo.i18n import translate
from records import schema
from records.store import EventStore

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHARTS = (
    "chart-days",
    "chart-hours",
    "chart-zones",
    "chart-bands",
    "chart-items",
    "chart-members",
    "chart-followups",
    "chart-trucks",
)

Server = Any  # the ``live_server`` fixture: a conftest.Server


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benchmarks" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _until(page: Any, script: str, timeout_s: float = 15.0) -> None:
    """Poll ``script`` in the page (the page's CSP forbids wait_for_function's eval)."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"timed out waiting for: {script}"
        time.sleep(0.05)


def _fill_records(db: Path) -> tuple[str, str]:
    """300 simulated jobs over 10 days into the server's store: the range's first and last day."""
    bench = _generator()
    jobs, fees, followups = bench.simulated_jobs(300, 10, 7)
    store = EventStore(db)
    try:
        with store.engine.begin() as connection:
            connection.execute(insert(schema.jobs), jobs)
            connection.execute(insert(schema.job_fees), fees)
            connection.execute(insert(schema.followups), followups)
    finally:
        store.close()
    return jobs[0]["day"], jobs[-1]["day"]


def _log_in(page: Any, server: Server, path: str) -> None:
    page.goto(server.url + path)
    assert page.url.endswith("/login")
    page.fill("#login-name", server.user)
    page.fill("#login-password", server.password)
    page.click("#login-submit")
    page.goto(server.url + path)


def test_reports_page_draws_every_chart(chromium: Any, live_server: Server) -> None:
    server = live_server
    first, last = _fill_records(server.db)
    page = chromium.new_page(viewport={"width": 1300, "height": 2000})
    problems: list[str] = []
    requests: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("request", lambda request: requests.append(request.url))
    try:
        _log_in(page, server, f"/reports?from={first}&to={last}")
        _until(page, "() => document.querySelectorAll('#report-kpis .kpi').length === 6")
        for chart in CHARTS:
            _until(page, f"() => document.querySelectorAll('#{chart} canvas').length > 0")
        assert page.input_value("#report-from") == first
        assert page.input_value("#report-to") == last
        kpis = page.text_content("#report-kpis") or ""
        assert translate("Promise kept", "zh") in kpis or "Promise kept" in kpis
        assert "300" in kpis  # the calls of the range
        href = page.get_attribute("#report-csv", "href")
        assert href == f"/reports.csv?from={first}&to={last}"
        page.wait_for_timeout(300)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "reports.png"), full_page=True)
        assert problems == []
        # A range ending before it starts: the server's refusal, in the page's language.
        page.fill("#report-from", last)
        page.fill("#report-to", first)
        page.click("#report-range button[type=submit]")
        _until(page, "() => document.getElementById('report-error').textContent.length > 0")
    finally:
        page.close()
    own = urlsplit(server.url).netloc
    outside = [u for u in requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    assert [u for u in outside if urlsplit(u).netloc != own] == []
    assert any("/vendor/echarts/echarts.min.js" in u for u in requests)
    # Only the refused range's answer (HTTP 400) was logged by the browser.
    assert all("400" in problem for problem in problems), problems
