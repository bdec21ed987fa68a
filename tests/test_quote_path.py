"""One quote path: ``rescue quote`` prices a call as intake does (optimizer.dispatch.pricing),
states what intake states (highway, accident, insurer) and takes ``--at`` as a clock time."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from geo.places import Geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.intake import parse_intake, parse_quote_request
from optimizer.dispatch.pricing import price_call
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops, choose_tow_destination
from rescue.cli import main

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
TIANANMEN = (116.3975, 39.9087)
TERMINAL_3 = (116.6146, 40.0525)  # Capital Airport T3, at the edge of the extract
# East of 建国门: at night the nearest shop by road time is 方庄 (363 s vs 379 s to 双井), at
# the morning peak 双井 (801 s vs 816 s): the route to 方庄 runs on expressways, which the
# peak slows most (2.4x against 2.1x, config [congestion.factor]).
JIANGUOMEN_EAST = (116.4428, 39.9022)
# The CLI's answer beyond the quote itself.
CLI_EXTRAS = ("tow_destination", "toll_roads", "band", "estimated")


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out if code == 0 else err)


def _quote_only(answer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in answer.items() if k not in CLI_EXTRAS}


def _non_member_call(make_call: MakeCall, where: tuple[float, float], **fields: Any) -> dict:
    return make_call(
        where,
        "engine_failure",
        member=False,
        member_card=None,
        customer_need="拖到维修店 (tow to a repair shop)",
        **fields,
    )


@pytest.mark.parametrize(
    ("where", "flags", "fields"),
    [
        # The caller says it is on a highway, and it is an insurance accident (PICC).
        (
            TIANANMEN,
            ("--on-highway", "--accident", "--insurer", "picc"),
            {"on_highway": True, "accident": True, "insurer": "picc"},
        ),
        # No flags: the tow from T3 runs on the Airport Expressway, a tolled road.
        (TERMINAL_3, (), {}),
    ],
)
def test_cli_quote_is_the_quote_intake_makes(
    capsys: pytest.CaptureFixture[str],
    geo: Geo,
    business_rules: Rules,
    shops: Shops,
    make_call: MakeCall,
    where: tuple[float, float],
    flags: tuple[str, ...],
    fields: dict[str, Any],
) -> None:
    at = "08:30"
    board = DispatchBoard(geo, business_rules, shops, [])
    job = board.register_call(
        _non_member_call(make_call, where, **fields), now_s=epoch_at_clock(at), job_id="J"
    )
    location = f"{where[0]},{where[1]}"
    code, answer = _cli(
        capsys,
        *("quote", "--location", location, "--non-member", "--fault", "engine_failure"),
        *(*flags, "--at", at),
    )
    assert code == 0
    assert job.quote is not None
    assert _quote_only(answer) == job.quote.to_json()
    assert answer["tow_destination"]["name"] == job.tow_destination_name
    assert answer["band"] == "morning_peak"


def test_the_flags_state_what_intake_states(
    capsys: pytest.CaptureFixture[str], business_rules: Rules
) -> None:
    base = ("quote", "--location", "116.3975,39.9087", "--member", "BJ-1", "--fault", "flat_tyre")
    code, plain = _cli(capsys, *base, "--at", "10:00")
    assert code == 0 and plain["notices"] == [] and plain["on_highway"] is False
    code, stated = _cli(
        capsys, *base, "--on-highway", "--accident", "--insurer", "picc", "--at", "10:00"
    )
    assert code == 0 and stated["on_highway"] is True
    assert [item["code"] for item in stated["items"]] == ["on_site_service", "tolls"]
    assert stated["total_yuan"] == 0  # a member's on-site rescue is free, tolls at cost
    assert any("tolls are the customer's" in notice for notice in stated["notices"])
    assert any("PICC claims line 95518" in notice for notice in stated["notices"])


def test_at_is_the_clock_time_of_the_call_not_the_wall_clock(
    capsys: pytest.CaptureFixture[str], geo: Geo, business_rules: Rules, shops: Shops
) -> None:
    location = f"{JIANGUOMEN_EAST[0]},{JIANGUOMEN_EAST[1]}"
    answers, expected_shop = {}, {}
    placement = geo.locate(*JIANGUOMEN_EAST)
    snap = placement.snap
    shop_snaps = [geo.router.snap(s.lon, s.lat) for s in shops.shops]
    for at, band in (("03:00", "night"), ("08:30", "morning_peak")):
        code, answer = _cli(
            capsys, "quote", "--location", location, "--non-member", "--fault", "stuck", "--at", at
        )
        assert code == 0 and answer["band"] == band
        answers[band] = answer
        # The nearest shop by road time in that band (SERVICE_RULES §4), worked out here.
        times = geo.router.travel_times_from(snap, shop_snaps, band=band)
        expected_shop[band] = shops.shops[int(np.argmin(times))].name
        tow = choose_tow_destination(geo, shops, placement, chosen=None, name="", band=band)
        assert answer["tow_destination"]["name"] == expected_shop[band] == tow.name
        assert answer["tow_km"] == round(tow.tow_m / 1000.0, 2)
        # Non-member inside the 5th ring: 100 yuan call-out + 15 yuan per billed km.
        assert answer["total_yuan"] == 100 + 15 * answer["billed_tow_km"]
        request = parse_quote_request(
            {"member": False, "location": list(JIANGUOMEN_EAST), "fault_category": "stuck"},
            business_rules,
        )
        priced = price_call(request, geo=geo, rules=business_rules, shops=shops, band=band)
        assert _quote_only(answer) == priced.quote.to_json()
    assert expected_shop == {
        "night": "示例维修店·方庄分公司",
        "morning_peak": "示例维修店·双井分公司",
    }


def test_cli_quote_in_gcj02(capsys: pytest.CaptureFixture[str]) -> None:
    # Tiananmen as a Chinese phone reports it (GCJ-02): inside the 5th ring, member, on site.
    code, quote = _cli(
        capsys,
        *("quote", "--location", "116.40374,39.91010", "--crs", "gcj02"),
        *("--member", "BJ-1", "--fault", "flat_tyre", "--at", "10:00"),
    )
    assert code == 0 and quote["zone"] == "inside_5th_ring"
    assert quote["total_yuan"] == 0 and quote["tow_km"] is None and quote["band"] == "daytime"


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("--location", "116.39,39.90", "--at", "25:00"), "--at='25:00': expected a clock time"),
        (
            ("--location", "116.39,39.90", "--at", "noon"),
            "--at='noon': expected a clock time HH:MM",
        ),
        (
            ("--location", "116.39,39.90", "--at", "116.39,39.90"),
            "--at='116.39,39.90': expected a clock time HH:MM (a place",
        ),
        (("--location", "116.39"), "--location='116.39': expected LON,LAT"),
        (("--location", "39.9087,116.3975"), "--location='39.9087,116.3975': looks like (lat"),
        (("--location", "121.47,31.23"), "--location='[121.47, 31.23]': "),  # Shanghai
        (("--location", "116.39,39.90", "--tow-to", "121.47,31.23"), "--tow-to='[121.47, 31.23]'"),
        (("--location", "116.39,39.90", "--fault", "alien_attack"), "--fault='alien_attack'"),
        (("--location", "116.39,39.90", "--insurer", "acme"), "--insurer='acme': unknown"),
        (("--at", "10:00"), "--location"),
        (("--location", "116.39,39.90", "--non-member"), "not allowed with"),
    ],
)
def test_cli_quote_errors_name_the_option(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], needle: str
) -> None:
    code, answer = _cli(capsys, "quote", "--member", "C", *argv)
    assert code == 2
    assert needle in answer["error"]


def test_intake_and_quote_request_read_the_pricing_fields_alike(
    business_rules: Rules, make_call: MakeCall
) -> None:
    call = _non_member_call(
        make_call,
        (116.40374, 39.91010),
        crs="gcj02",
        on_highway=False,
        accident=True,
        insurer="cpic",
        tow_destination=[116.3165, 39.9995],
        tow_destination_name="4S店",
    )
    intake, request = parse_intake(call, business_rules), parse_quote_request(call, business_rules)
    for name in request.__dataclass_fields__:
        assert getattr(intake, name) == getattr(request, name), name
