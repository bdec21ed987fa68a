"""The live map in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright):
log in, see the fleet on the map, register a call through the form, confirm it, drag it
to another truck on the map and in the lists, see a refused drag's reason, and check that
a second dispatcher (a python-socketio client with its own session) saw every change.

The server is the real ``rescue serve`` in a subprocess on a free loopback port.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from geo.i18n import translate
from optimizer.dispatch.labels import KIND

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
XSS_NAME = '<img src=x onerror="window.__xss=1">王先生'


Server = Any  # the ``live_server`` fixture: a conftest.Server


def zh(msgid: str, **params: Any) -> str:
    return translate(msgid, "zh", **params)


Listener = Any  # a conftest.Listener: another dispatcher


def _visible_truck(page: Any, *, kind: str, exclude: set[str]) -> tuple[str, float, float]:
    """A truck of ``kind`` whose marker is on screen and not covered by another marker."""
    for box in page.locator(f".truck-icon.kind-{kind}").all():
        truck_id = box.get_attribute("data-truck-id")
        rect = box.bounding_box()
        if truck_id in exclude or rect is None:
            continue
        x, y = rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2
        on_top = page.evaluate(
            "([x, y]) => { const e = document.elementFromPoint(x, y);"
            " const t = e && e.closest('[data-truck-id]'); return t ? t.dataset.truckId : null; }",
            [x, y],
        )
        inside_map = 20 < x < 900 and 60 < y < 850
        if on_top == truck_id and inside_map:
            return truck_id, x, y
    raise AssertionError(f"no {kind} truck marker visible")


def _empty_map_point(page: Any) -> tuple[float, float]:
    """A point of the map with no marker or control on it."""
    for x in range(300, 900, 37):
        for y in range(150, 800, 41):
            free = page.evaluate(
                "([x, y]) => { const e = document.elementFromPoint(x, y);"
                " return !!e && !e.closest('.leaflet-marker-icon, .leaflet-control')"
                " && !!e.closest('#map'); }",
                [x, y],
            )
            if free:
                return x, y
    raise AssertionError("no empty point on the map")


def _until(page: Any, script: str, arg: Any = None, timeout_s: float = 10.0) -> None:
    """Poll ``script`` in the page until it is true. (Playwright's wait_for_function
    evaluates a string, which the page's Content-Security-Policy rightly forbids.)"""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(script, arg):
        assert time.monotonic() < deadline, f"timed out waiting for: {script}"
        time.sleep(0.05)


def _job_on(page: Any, job_id: str, truck_id: str) -> None:
    _until(
        page,
        "([id, t]) => { const j = window.rescueMap.state.jobs.get(id);"
        " return !!j && j.truck_id === t; }",
        [job_id, truck_id],
    )


def test_dispatcher_registers_a_call_and_drags_it_to_another_truck(
    chromium: Any,
    live_server: Server,
    make_call: Callable[..., dict[str, Any]],
    centre: tuple[float, float],
    dispatcher: Callable[[Server], Listener],
) -> None:
    server = live_server
    listener = dispatcher(server)
    listener.wait_for("state", lambda s: len(s["trucks"]) == 46)
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        _log_in_and_see_the_fleet(page, server)
        job_id, best = _register_and_confirm_a_call(page, listener, centre)
        _drag_to_other_trucks(page, listener, job_id, best)
        # A tow job (registered by the other dispatcher) dropped on a service vehicle.
        tow_call = make_call((116.45, 39.93), "engine_failure")
        _refused_drag_shows_its_reason(page, listener, tow_call, exclude={best})
        # The caller's name was shown as text, never run as HTML.
        page.click(f'#jobs-list li[data-job-id="{job_id}"]')
        assert XSS_NAME in page.text_content("#job-detail")
        assert page.evaluate("window.__xss") is None
        assert page.locator("#job-detail img").count() == 0
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "webmap.png"))
        page.close()
    assert problems == []


def _log_in_and_see_the_fleet(page: Any, server: Server) -> None:
    page.goto(server.url + "/")
    assert page.url.endswith("/login")
    page.fill("#login-name", server.user)
    page.fill("#login-password", "wrong")
    page.click("#login-submit")
    assert zh("Unknown user or wrong password.") in page.text_content("#login-error")
    page.fill("#login-name", server.user)
    page.fill("#login-password", server.password)
    page.click("#login-submit")
    # The fleet on the map of Beijing, drawn from the project's own road data.
    # (at the city-wide zoom most of them stand in clusters)
    _until(page, "() => !!window.rescueMap && window.rescueMap.truckMarkers.size === 46")
    _until(page, "() => document.querySelectorAll('.cluster-trucks').length > 0")
    _until(page, "() => window.rescueMap.state.baseReady")
    _until(page, "() => window.rescueMap.base.rings.getLayers().length >= 5")
    _until(page, "() => document.querySelector('#conn').classList.contains('online')")
    assert page.locator("#conn").text_content() == zh("live")
    assert "OpenStreetMap contributors" in page.text_content(".leaflet-control-attribution")


def _register_and_confirm_a_call(
    page: Any, listener: Listener, where: tuple[float, float]
) -> tuple[str, str]:
    # A click on the map sets the location fields (WGS-84) ...
    page.mouse.click(*_empty_map_point(page))
    assert float(page.input_value("[name=lon]")) > 116.0
    assert page.input_value("[name=crs]") == "wgs84"
    # ... or the dispatcher types them; caller text goes in as text, never as HTML.
    form = {
        "caller_name": XSS_NAME,
        "caller_phone": "13800138000",
        "plate": "京N12345",
        "model": "Passat",
        "colour": "black",
        "member_card": "BJ-000123",
        "lon": str(where[0]),
        "lat": str(where[1]),
        "landmarks": "天安门东",
        "fault_symptoms": "won't start",
        "customer_need": "jump start",
    }
    for name, value in form.items():
        page.fill(f"[name={name}]", value)
    # The card is in the register and the plate on it: the check ticks "member" itself.
    page.wait_for_selector("#member-check[data-status=valid]")
    assert page.is_checked("[name=member]")
    page.select_option("[name=caller_gender]", "male")
    page.select_option("#fault-category", "flat_battery")
    page.click("#intake-submit")
    page.wait_for_selector("#proposal-best")
    assert zh(KIND["service"]) in page.text_content("#triage")
    assert page.locator("#quote-items tr").count() >= 2
    # a member's on-site rescue is free
    assert page.text_content("#quote-total") == zh("{amount} yuan", amount=0)
    assert "分钟" in page.text_content("#proposal-script")
    assert page.locator("#alternatives tr").count() >= 3
    job_id = page.evaluate("window.rescueMap.state.lastIntake")
    best = page.text_content("#proposal-best").split()[0]
    listener.wait_for("job_updated", lambda j: j["id"] == job_id and j["state"] == "received")
    page.click("#confirm-dispatch")
    page.wait_for_selector("#dispatched")
    listener.wait_for("job_updated", lambda j: j["id"] == job_id and j["truck_id"] == best)
    return job_id, best


def _drag_to_other_trucks(page: Any, listener: Listener, job_id: str, best: str) -> None:
    # Drag the job's marker onto another truck's marker (Leaflet: mouse events), at a zoom
    # where markers stand alone instead of in clusters.
    page.evaluate(
        "([id]) => window.rescueMap.map.setView("
        "L.GeoJSON.coordsToLatLng(window.rescueMap.state.jobs.get(id).location), 13,"
        " {animate: false})",
        [job_id],
    )
    marker = page.locator(f'.job-icon[data-job-id="{job_id}"] .pin')
    marker.wait_for()
    target, tx, ty = _visible_truck(page, kind="flatbed", exclude={best})
    rect = marker.bounding_box()
    assert rect is not None
    page.mouse.move(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2)
    page.mouse.down()
    page.mouse.move(rect["x"] + 30, rect["y"] + 30, steps=5)
    page.mouse.move(tx, ty, steps=15)
    page.mouse.up()
    _job_on(page, job_id, target)
    assert f"{job_id} → {target}" in page.text_content("#notice")
    # The other dispatcher saw it.
    moved = listener.wait_for("job_updated", lambda j: j["id"] == job_id and j["version"] == 3)
    assert moved["truck_id"] == target
    listener.wait_for("truck_updated", lambda t: t["id"] == target and t["queue"] == [job_id])

    # The same with HTML5 drag and drop: from the jobs list onto a truck marker.
    page.click("button[data-tab=jobs]")
    again, *_ = _visible_truck(page, kind="service", exclude={best, target})
    page.drag_and_drop(
        f'#jobs-list li[data-job-id="{job_id}"]', f'.truck-icon[data-truck-id="{again}"]'
    )
    listener.wait_for("job_updated", lambda j: j["id"] == job_id and j["truck_id"] == again)
    _job_on(page, job_id, again)


def _refused_drag_shows_its_reason(
    page: Any, listener: Listener, tow_call: dict[str, Any], *, exclude: set[str]
) -> None:
    tow = listener.intake(tow_call)["job"]["id"]
    page.wait_for_selector(f'#jobs-list li[data-job-id="{tow}"]')
    busy = {j["truck_id"] for _, j in listener.events if isinstance(j, dict) and j.get("truck_id")}
    service, *_ = _visible_truck(page, kind="service", exclude=exclude | busy)
    page.drag_and_drop(
        f'#jobs-list li[data-job-id="{tow}"]', f'.truck-icon[data-truck-id="{service}"]'
    )
    refused = zh("Refused: {reason}", reason="")
    _until(page, "([r]) => document.querySelector('#notice').textContent.includes(r)", [refused])
    text = page.text_content("#notice")
    assert "清障车" in text and service in text and page.is_visible("#notice")  # a flatbed
    assert listener.wait_for("job_updated", lambda j: j["id"] == tow)["state"] == "received"
