"""A shift at the console, in headless Chromium (Debian's /usr/bin/chromium, Playwright), in
Chinese: the page speaks the catalogue's Chinese (English on a toggle remembered per
dispatcher), finds the caller's road or crossing, draws its own roads without a request
to any other host, pins and times waiting calls, alerts with a sound and a flash, checks
the intake, cancels with a reason, and previews, applies and undoes a re-plan. One call
goes from search to dispatch with the keyboard alone.

The server is the real ``rescue serve`` at 20x (``fast_server``); other dispatchers are
python-socketio clients. Screenshots go to ``tests/artifacts/``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from geo.i18n import translate

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts"
GUOMAO = (116.4613, 39.9090)  # 国贸桥: 建国路 crosses the East 3rd Ring
# Latin words a Chinese page may show: identifiers, units, datums, brands, key names.
ALLOWED_LATIN = re.compile(
    r"^(?:[A-Z]?\d[\w-]*|[A-Z]{1,3}-?\d+\w*|km|WGS|GCJ|OpenStreetMap|Leaflet|ODbL|Alt|"
    r"OR-Tools|English|dispatcher|GPS|ETA|data|runtime|first|login|txt)$"
)

Server = Any  # the ``fast_server`` fixture: a conftest.Server
Listener = Any  # a conftest.Listener: another dispatcher
Page = Any


def zh(msgid: str, **params: Any) -> str:
    return translate(msgid, "zh", **params)


@pytest.fixture(scope="module")
def server(fast_server: Server) -> Server:
    return fast_server


class Console:
    """One dispatcher's page, logged in; records every request and page error."""

    def __init__(self, browser: Any, server: Server) -> None:
        self.server = server
        self.context = browser.new_context(viewport={"width": 1500, "height": 950})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.problems: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))
        self.page.goto(server.url + "/login")
        self.page.fill("#login-name", server.user)
        self.page.fill("#login-password", server.password)
        self.page.click("#login-submit")
        self.page.wait_for_selector(".leaflet-container")
        until(self.page, "() => window.rescueMap.state.trucks.size > 0")

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def zoom_to(self, lonlat: tuple[float, float], zoom: int) -> None:
        self.page.evaluate(
            "([lon, lat, z]) => window.rescueMap.map.setView([lat, lon], z, {animate: false})",
            [lonlat[0], lonlat[1], zoom],
        )
        time.sleep(0.4)


@pytest.fixture
def console(chromium: Any, server: Server, request: pytest.FixtureRequest) -> Iterator[Console]:
    opened = Console(chromium, server)
    yield opened
    opened.shot(request.node.name.removeprefix("test_") + "-end")  # how the test left it
    opened.context.close()
    assert opened.problems == []


def until(page: Page, script: str, arg: Any = None, timeout_s: float = 15.0) -> Any:
    """Poll ``script`` in the page until it is truthy (the page's CSP forbids the string
    evaluation Playwright's wait_for_function needs)."""
    deadline = time.monotonic() + timeout_s
    while not (value := page.evaluate(script, arg)):
        assert time.monotonic() < deadline, f"timed out waiting for: {script}"
        time.sleep(0.1)
    return value


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dx, (a[1] - b[1]) * 110_540)


def untranslated(page: Page) -> list[str]:
    """Latin words a dispatcher can read on the page (text, titles, placeholders, labels)
    that are not identifiers, units or names."""
    words: list[str] = page.evaluate(
        """() => {
          const out = [];
          // Not texts of the product: data (road names, the user's name) and Leaflet's credit.
          const skip = 'script, style, .leaflet-control-attribution, .rescue-road-label, #user';
          const visible = (e) => !!e && e.getClientRects().length > 0;
          const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
          while (walker.nextNode()) {
            const node = walker.currentNode;
            if (node.parentElement.closest(skip)) continue;
            if (visible(node.parentElement)) out.push(node.textContent);
          }
          for (const e of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
            if (e.closest(skip)) continue;
            for (const a of ['title', 'placeholder', 'aria-label']) {
              out.push(e.getAttribute(a) || '');
            }
          }
          out.push(document.title);
          return out;
        }"""
    )
    latin = (w for text in words for w in re.findall(r"[A-Za-z][A-Za-z0-9-]*", text))
    return sorted({w for w in latin if len(w) > 1 and not ALLOWED_LATIN.match(w)})


def fill_call(page: Page, *, phone: str, plate: str, where: tuple[float, float]) -> None:
    page.fill("[name=caller_name]", "王先生")
    page.fill("[name=caller_phone]", phone)
    page.fill("[name=plate]", plate)
    page.fill("[name=lon]", str(where[0]))
    page.fill("[name=lat]", str(where[1]))
    page.select_option("#fault-category", "flat_battery")
    page.check("[name=member]")
    page.fill("[name=member_card]", "BJ000123")


# ---------------------------------------------------------------------------- language
def test_the_page_is_chinese_first_and_english_on_a_toggle_remembered(
    console: Console, chromium: Any, server: Server
) -> None:
    page = console.page
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.text_content("#intake-submit").strip() == zh("Register call · quote · propose")
    assert page.text_content(".tabs button[data-tab=jobs]").startswith(zh("Jobs"))
    until(page, "() => document.querySelector('#conn').classList.contains('online')")
    assert page.text_content("#conn") == zh("live")
    # Every tab, the fault list and a job's detail: no English left.
    page.click("button[data-tab=trucks]")
    assert not (words := untranslated(page)), " ".join(words)
    page.click("button[data-tab=jobs]")
    page.click("button[data-tab=intake]")
    fault_names = page.eval_on_selector_all("#fault-category option", "os => os.map(o => o.text)")
    assert fault_names and not [f for f in fault_names if re.search(r"[A-Za-z]{3}", f)]
    assert not (words := untranslated(page)), " ".join(words)
    console.shot("console-zh")

    page.click("#lang-toggle")
    page.wait_for_selector("html[lang=en]")
    until(page, "() => window.rescueMap && window.rescueMap.state.trucks.size > 0")
    assert page.text_content("#intake-submit").strip() == "Register call · quote · propose"
    console.shot("console-en")
    # Remembered for this dispatcher: a new browser session opens in English too.
    again = Console(chromium, server)
    try:
        assert again.page.get_attribute("html", "lang") == "en"
        again.page.click("#lang-toggle")
        again.page.wait_for_selector("html[lang=zh-CN]")
    finally:
        again.context.close()


# ---------------------------------------------------------------------------- offline map
def test_the_default_map_is_the_projects_own_and_asks_no_other_host(console: Console) -> None:
    page = console.page
    until(page, "() => window.rescueMap.state.baseReady")
    for zoom in (9, 11, 13, 15):
        console.zoom_to(GUOMAO, zoom)
    until(page, "() => document.querySelectorAll('.rescue-road-label').length > 0")
    labels = page.eval_on_selector_all(".rescue-road-label", "ls => ls.map(l => l.textContent)")
    assert any("三环" in text for text in labels), labels
    console.shot("basemap-guomao-z15")
    console.zoom_to(GUOMAO, 11)
    console.shot("basemap-z11")
    own = urlsplit(console.server.url).netloc
    outside = [u for u in console.requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")]
    outside = [u for u in outside if urlsplit(u).netloc != own]
    assert outside == []
    # Online tiles only when the dispatcher chooses them in the layer menu.
    page.route("https://tile.openstreetmap.org/**", lambda route: route.abort())
    page.hover(".leaflet-control-layers")
    page.get_by_text(zh("OpenStreetMap tiles (online)")).click()
    until(
        page,
        "() => performance.getEntriesByType('resource')"
        ".some(e => e.name.startsWith('https://tile.openstreetmap.org/'))",
    )


# ---------------------------------------------------------------------------- place search
def test_place_search_finds_a_crossing_and_pinyin(console: Console) -> None:
    page = console.page
    page.fill("#place-search", "建国路与东三环")
    page.wait_for_selector("#place-results li[role=option]")
    assert page.locator(".search-pin").count() >= 1  # the results are on the map too
    console.shot("place-search-crossing")
    page.press("#place-search", "Enter")
    picked = (float(page.input_value("[name=lon]")), float(page.input_value("[name=lat]")))
    assert distance_m(picked, GUOMAO) < 600, picked
    assert page.input_value("[name=crs]") == "wgs84"
    assert "建国路" in page.input_value("[name=landmarks]")
    page.fill("#place-search", "jianguolu")
    page.wait_for_selector("#place-results li[role=option]")
    names = page.eval_on_selector_all(
        "#place-results .place-name", "ns => ns.map(n => n.textContent)"
    )
    assert any("建国路" in n for n in names), names


# ---------------------------------------------------------------------------- keyboard only
def test_a_call_from_search_to_dispatch_with_the_keyboard_only(
    console: Console, server: Server, dispatcher: Callable[[Server], Listener]
) -> None:
    listener = dispatcher(server)
    page, keys = console.page, console.page.keyboard
    keys.press("Alt+n")
    assert page.evaluate("document.activeElement.id") == "place-search"
    keys.type("建国路与东三环")
    page.wait_for_selector("#place-results li[role=option]")
    keys.press("ArrowDown")
    keys.press("ArrowUp")
    keys.press("Enter")  # picks the crossing, then the caller's name has the focus
    assert page.evaluate("document.activeElement.name") == "caller_name"
    keys.type("李女士")
    keys.press("Tab")
    keys.type("13912345678")
    keys.press("Tab")  # gender
    keys.press("Tab")
    assert page.evaluate("document.activeElement.name") == "plate"
    keys.type("京AD12345")
    for text in ("帕萨特", "黑色"):  # model, colour
        keys.press("Tab")
        keys.type(text)
    keys.press("Tab")
    keys.press("Space")  # a member
    keys.press("Tab")
    keys.type("BJ000123")
    keys.press("Enter")  # registers, quotes, proposes; the confirm button has the focus
    page.wait_for_selector("#proposal-best")
    assert page.evaluate("document.activeElement.id") == "confirm-dispatch"
    job_id = until(
        page,
        "() => document.querySelector('#intake-job') && document.querySelector('#intake-job')"
        ".closest('.result').querySelector('#proposal') && window.rescueMap.state.lastIntake",
    )
    keys.press("Enter")
    page.wait_for_selector("#dispatched")
    listener.wait_for("job_updated", lambda j: j["id"] == job_id and j["state"] == "assigned", 10)
    console.shot("keyboard-dispatched")


# ---------------------------------------------------------------------------- queue
def test_the_queue_pins_waiting_calls_times_them_and_alerts(
    console: Console,
    server: Server,
    dispatcher: Callable[[Server], Listener],
    make_call: Callable[..., dict[str, Any]],
) -> None:
    listener = dispatcher(server)
    page = console.page
    sent = listener.intake(
        make_call((116.45, 39.92), caller={"name": "赵先生", "phone": "13700000001"})
    )
    waiting_id = sent["job"]["id"]
    other = listener.intake(
        make_call((116.38, 39.95), caller={"name": "钱女士", "phone": "13700000002"})
    )
    best = other["proposal"]["best"]["truck"]
    dispatched = listener.call(
        "dispatch",
        {"job_id": other["job"]["id"], "truck_id": best, "version": other["job"]["version"]},
    )
    version = dispatched["job"]["version"]
    page.click("button[data-tab=jobs]")
    row = f'#jobs-list li[data-job-id="{waiting_id}"]'
    page.wait_for_selector(row)
    first = page.eval_on_selector("#jobs-list li", "li => li.dataset.jobId")
    assert "waiting" in page.get_attribute("#jobs-list li:first-child", "class")
    assert first != other["job"]["id"]
    assert zh("waiting {time}", time="").strip() in page.text_content(row + " .timer")
    # Updated in place, not redrawn: a mark set on the row survives seconds of updates.
    page.eval_on_selector(row, "li => { li.dataset.mark = 'kept'; }")
    time.sleep(2.5)
    assert page.get_attribute(row, "data-mark") == "kept"
    # The assigned truck says so instead of "idle".
    until(page, "([t]) => window.rescueMap.state.trucks.get(t).queue.length > 0", [best])
    page.click("button[data-tab=trucks]")
    truck_row = f'#trucks-list li[data-truck-id="{best}"] .status'
    assert page.text_content(truck_row) != page.evaluate("label('truck_state', 'idle')")
    assert zh("Free trucks by zone") in page.text_content("#fleet-table")
    assert re.search(r"\d", page.text_content("#fleet-summary"))
    # Waiting too long (3 min at 20x): a sound, a flash, the row turns red.
    until(page, "() => window.rescueMap.alertsSounded() > 0", timeout_s=30)
    assert "flash" in page.get_attribute(".tabs button[data-tab=alerts]", "class")
    page.click("button[data-tab=jobs]")
    until(page, "([s]) => document.querySelector(s).classList.contains('overdue')", [row])
    # The detail opens beside the list, not below it.
    page.click(row)
    page.wait_for_selector("#job-detail:not(.hidden)")
    detail, panel = (
        page.locator("#job-detail").bounding_box(),
        page.locator(".panel").bounding_box(),
    )
    assert detail["x"] + detail["width"] <= panel["x"] + 1
    console.shot("queue-waiting-and-detail")
    # Clusters at a city-wide zoom; single markers from zoom 13.
    console.zoom_to((116.40, 39.91), 9)
    until(page, "() => document.querySelectorAll('.cluster-icon').length > 0")
    console.shot("clusters-z9")
    # A closed job leaves the map and the list (its record stays on the server).
    job = other["job"]["id"]
    for state in ("en_route", "on_scene", "fixed", "closed"):
        answer = listener.call("advance", {"job_id": job, "state": state, "version": version})
        version = answer["job"]["version"]
    until(page, "([id]) => !window.rescueMap.state.jobs.has(id)", [job])
    assert page.locator(f'#jobs-list li[data-job-id="{job}"]').count() == 0
    assert page.evaluate("([id]) => window.rescueMap.jobMarkers.has(id)", [job]) is False


# ---------------------------------------------------------------------------- intake checks
def test_intake_checks_phone_plate_duplicates_and_starts_a_new_call(
    console: Console, make_call: Callable[..., dict[str, Any]]
) -> None:
    page = console.page
    fill_call(page, phone="1380013", plate="京A12345", where=(116.42, 39.90))
    page.click("#intake-submit")
    page.wait_for_selector("#intake-error")
    assert "caller.phone" in page.text_content("#intake-error")
    assert page.evaluate("document.activeElement.name") == "caller_phone"
    page.fill("[name=caller_phone]", "13800138000")
    page.fill("[name=plate]", "ABC")
    page.click("#intake-submit")
    until(
        page,
        "() => document.querySelector('#intake-error')?.textContent.includes('vehicle.plate')",
    )
    page.fill("[name=plate]", "京A12345")
    page.click("#intake-submit")
    page.wait_for_selector("#intake-job")
    assert page.locator("#intake-error").count() == 0  # the old refusal is gone
    first_job = page.text_content("#intake-job")
    # The same caller again within the hour: registered, with a warning naming the first.
    page.click("#new-call")
    assert page.input_value("[name=caller_name]") == ""
    assert page.locator("#intake-job").count() == 0
    fill_call(page, phone="138 0013 8000", plate="京B54321", where=(116.43, 39.91))
    page.click("#intake-submit")
    page.wait_for_selector(".duplicate-warning")
    warning = page.text_content(".duplicate-warning")
    assert re.search(r"J-?\d+", warning) and any(
        p in first_job for p in re.findall(r"J-?\d+", warning)
    )
    console.shot("intake-duplicate-warning")


# ---------------------------------------------------------------------------- cancel
def test_cancel_asks_for_confirmation_and_a_reason(
    console: Console,
    server: Server,
    dispatcher: Callable[[Server], Listener],
    make_call: Callable[..., dict[str, Any]],
) -> None:
    listener = dispatcher(server)
    job = listener.intake(
        make_call((116.36, 39.90), caller={"name": "孙先生", "phone": "13600000003"})
    )["job"]
    page = console.page
    page.click("button[data-tab=jobs]")
    page.click(f'#jobs-list li[data-job-id="{job["id"]}"]')
    page.click("#cancel-job")
    page.wait_for_selector("#cancel-dialog[open]")
    page.click("#cancel-confirm")
    assert page.is_visible("#cancel-error")  # no reason chosen: nothing sent
    page.check("#cancel-form input[value=other]")
    page.click("#cancel-confirm")
    assert zh("Say the reason in the note.") in page.text_content("#cancel-error")
    console.shot("cancel-dialog")
    page.check("#cancel-form input[value=duplicate]")
    page.fill("#cancel-form [name=note]", "与上一通来电重复")
    page.click("#cancel-confirm")
    cancelled = listener.wait_for(
        "job_updated", lambda j: j["id"] == job["id"] and j["state"] == "cancelled"
    )
    assert (cancelled["cancel_reason"], cancelled["cancel_note"]) == (
        "duplicate",
        "与上一通来电重复",
    )
    until(page, "([id]) => !window.rescueMap.jobMarkers.has(id)", [job["id"]])
    assert not page.is_visible("#cancel-dialog")


# ---------------------------------------------------------------------------- re-plan
def test_replan_is_previewed_then_applied_then_undone(
    console: Console,
    server: Server,
    dispatcher: Callable[[Server], Listener],
    make_call: Callable[..., dict[str, Any]],
) -> None:
    listener = dispatcher(server)
    # Two calls sent to their worst suitable trucks: a re-plan has something to fix.
    far: dict[str, str] = {}
    for n, where in enumerate([(116.47, 39.93), (116.33, 39.88)]):
        answer = listener.intake(
            make_call(where, caller={"name": "周先生", "phone": f"1350000000{n}"})
        )
        worst = answer["proposal"]["candidates"][-1]["truck"]
        job = answer["job"]
        listener.call(
            "dispatch", {"job_id": job["id"], "truck_id": worst, "version": job["version"]}
        )
        far[job["id"]] = worst
    page = console.page
    page.click("button[data-tab=jobs]")
    page.click("#replan-all")
    page.wait_for_selector("#replan-dialog[open]", timeout=60_000)
    changed = page.eval_on_selector_all(
        "#replan-changes tr[data-job-id]", "rs => rs.map(r => r.dataset.jobId)"
    )
    assert set(far) & set(changed), changed
    console.shot("replan-preview")
    # The preview changed nothing.
    for job_id, truck in far.items():
        assert (
            page.evaluate("([id]) => window.rescueMap.state.jobs.get(id).truck_id", [job_id])
            == truck
        )
    page.click("#replan-apply")
    page.wait_for_selector("#replan-undo:not(.hidden)")
    moved = next(j for j in changed if j in far)
    until(
        page, "([id, t]) => window.rescueMap.state.jobs.get(id).truck_id !== t", [moved, far[moved]]
    )
    page.click("#replan-undo")
    until(
        page, "([id, t]) => window.rescueMap.state.jobs.get(id).truck_id === t", [moved, far[moved]]
    )
    listener.wait_for("job_updated", lambda j: j["id"] == moved and j["truck_id"] == far[moved], 10)
