"""Fee rules of SERVICE_RULES §5, one test each, then quotes on the real network."""

from __future__ import annotations

import json

import networkx as nx
import pytest

from geo.places import Geo
from geo.router import Snap
from optimizer.dispatch.quote import billed_km, make_quote, rounded_tow_km
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops, choose_tow_destination
from rescue.cli import main

TIANANMEN = (116.3975, 39.9087)
ZHONGGUANCUN = (116.3165, 39.9995)  # Peking University's east gate
SHANGDI = (116.305, 40.033)  # north of the 5th ring


def _fees(quote: object) -> dict[str, float]:
    return {item.code: item.fee_yuan for item in quote.items}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("tow_m", "expected_yuan"),
    [(9_000, 0), (15_000, 0), (15_049, 0), (15_050, 8), (18_300, 32), (40_000, 200)],
)
def test_member_tow_free_up_to_15_road_km_then_8_yuan_per_km(
    business_rules: Rules, tow_m: float, expected_yuan: float
) -> None:
    # Road km are rounded to 0.1 km, then billed per km started: 15.049 km -> 15.0 -> 15 km,
    # free; 15.05 -> 15.1 -> 16 km: 1 km beyond 15 -> 8 yuan; 18.3 -> 19 km: 4 x 8 = 32.
    quote = make_quote(
        member=True, zone="inside_5th_ring", on_highway=False, tow_m=tow_m, rules=business_rules
    )
    assert quote.total_yuan == expected_yuan
    assert _fees(quote)["on_site_service"] == 0


def test_member_on_site_rescue_is_free(business_rules: Rules) -> None:
    quote = make_quote(
        member=True, zone="outside_6th_ring", on_highway=False, tow_m=None, rules=business_rules
    )
    assert _fees(quote)["on_site_service"] == 0
    assert quote.join_offer is None


@pytest.mark.parametrize(
    ("zone", "callout_yuan"),
    [("inside_5th_ring", 100), ("between_5th_and_6th_ring", 300), ("outside_6th_ring", 300)],
)
def test_non_member_callout_100_inside_the_5th_ring_300_outside(
    business_rules: Rules, zone: str, callout_yuan: float
) -> None:
    quote = make_quote(member=False, zone=zone, on_highway=False, tow_m=None, rules=business_rules)  # type: ignore[arg-type]
    assert _fees(quote)["callout"] == callout_yuan


def test_non_member_tow_is_15_yuan_per_road_km(business_rules: Rules) -> None:
    quote = make_quote(
        member=False, zone="inside_5th_ring", on_highway=False, tow_m=8_440, rules=business_rules
    )
    # 8.44 km bills 9 km started: 9 x 15 = 135, plus the 100 yuan call-out.
    assert _fees(quote)["tow_km"] == 135
    assert quote.total_yuan == 235


def test_join_now_offer_gives_the_member_price(business_rules: Rules) -> None:
    quote = make_quote(
        member=False, zone="inside_5th_ring", on_highway=False, tow_m=18_300, rules=business_rules
    )
    # Non-member: 100 + 19 x 15 = 385. Joining: 380 + member price 4 x 8 = 32 -> 412.
    assert quote.total_yuan == 385
    assert quote.join_offer == {
        "membership_yuan": 380,
        "member_total_yuan": 32,
        "total_if_joining_yuan": 412,
        "saving_today_yuan": -27,
    }
    assert "380" in quote.script_zh and "入会" in quote.script_zh


def test_tolls_notice_on_a_highway(business_rules: Rules) -> None:
    quote = make_quote(
        member=True, zone="inside_5th_ring", on_highway=True, tow_m=None, rules=business_rules
    )
    assert _fees(quote)["tolls"] == 0  # at cost, not priced in advance
    assert any("tolls" in notice for notice in quote.notices)
    assert "高速费" in quote.script_zh and "tolls" in quote.script_en


def test_suburban_surcharge_outside_the_6th_ring(business_rules: Rules) -> None:
    quote = make_quote(
        member=True, zone="outside_6th_ring", on_highway=False, tow_m=None, rules=business_rules
    )
    assert _fees(quote)["suburban_surcharge"] == business_rules.fees.suburban_surcharge_yuan


def test_accident_quote_names_the_insurers_claim_line(business_rules: Rules) -> None:
    quote = make_quote(
        member=True,
        zone="inside_5th_ring",
        on_highway=False,
        tow_m=5_000,
        rules=business_rules,
        accident=True,
        insurer="picc",
    )
    assert any("95518" in notice for notice in quote.notices)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out if code == 0 else err)


def test_cli_quote_tows_by_road_km_to_the_nearest_shop(
    capsys: pytest.CaptureFixture[str], geo: Geo
) -> None:
    code, quote = _cli(
        capsys,
        "quote",
        "--location",
        f"{SHANGDI[0]},{SHANGDI[1]}",
        "--non-member",
        "--fault",
        "engine_failure",
    )
    assert code == 0
    assert quote["zone"] == "between_5th_and_6th_ring"
    assert quote["items"][0] == {
        "code": "callout",
        "label": "Emergency call-out fee, outside the 5th Ring Road",
        "label_zh": "应急费（五环外）",
        "fee_yuan": 300,
    }
    shop = quote["tow_destination"]["location"]
    straight_km = ((shop[0] - SHANGDI[0]) * 85.39) ** 2 + ((shop[1] - SHANGDI[1]) * 111.0) ** 2
    assert quote["tow_km"] > straight_km**0.5  # road km, not a straight line
    assert quote["total_yuan"] == 300 + 15 * quote["billed_tow_km"]
    assert {"items", "total_yuan", "zone", "tow_km", "script_zh", "script_en"} <= set(quote)


def test_cli_quote_on_site_member_is_free(capsys: pytest.CaptureFixture[str]) -> None:
    code, quote = _cli(
        capsys,
        "quote",
        "--location",
        "116.3975,39.9087",
        "--member",
        "BJ-1",
        "--fault",
        "flat_tyre",
    )
    assert code == 0 and quote["total_yuan"] == 0 and quote["tow_km"] is None


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (
            ("quote", "--location", "116.39,39.90", "--member", "C", "--fault", "alien_attack"),
            "'alien_attack'",  # the field is named by the CLI's spelling of it
        ),
        (("quote", "--member", "C"), "--location"),
        (
            ("quote", "--location", "116.39,39.90", "--member", "C", "--non-member"),
            "not allowed with",
        ),
    ],
)
def test_cli_quote_errors(capsys: pytest.CaptureFixture[str], argv: tuple, needle: str) -> None:
    code, answer = _cli(capsys, *argv)
    assert code == 2 and needle in answer["error"]


# ---------------------------------------------------------------------------- tow km
def test_tow_km_are_rounded_to_a_tenth_before_each_started_km_is_billed(
    business_rules: Rules,
) -> None:
    fees = business_rules.fees
    assert fees.tow_km_precision_km == 0.1
    # 0.00004 m over 15 km is map noise: 15.0 km, nothing beyond the member's free 15 km.
    assert rounded_tow_km(15_000.00004, fees) == pytest.approx(15.0)
    assert billed_km(15_000.00004, fees) == 15
    noise = make_quote(
        member=True,
        zone="inside_5th_ring",
        on_highway=False,
        tow_m=15_000.00004,
        rules=business_rules,
    )
    assert noise.total_yuan == 0 and "tow_extra_km" not in _fees(noise)
    # 15.06 km rounds to 15.1 km: the 16th km is started, 1 km x 8 yuan.
    assert rounded_tow_km(15_060, fees) == pytest.approx(15.1)
    assert billed_km(15_060, fees) == 16
    started = make_quote(
        member=True, zone="inside_5th_ring", on_highway=False, tow_m=15_060, rules=business_rules
    )
    assert _fees(started)["tow_extra_km"] == 8 and started.total_yuan == 8
    assert billed_km(14_000, fees) == 14  # 140 x 0.1 is not a hair over 14


def _road_m_by_networkx(geo: Geo, graph: nx.MultiDiGraph, origin: Snap, dest: Snap) -> float:
    """Shortest road metres from ``origin`` to ``dest`` on the osmnx graph (weight
    ``length``), leaving the origin's road and entering the destination's road either way
    (partial edges by the network's edge lengths)."""
    net = geo.network

    def ends(snap: Snap, exit_: bool) -> list[tuple[int, float]]:
        node = net.head if exit_ else net.tail
        part = (1.0 - snap.fraction) if exit_ else snap.fraction
        out = [(int(net.node_osm_id[node[snap.edge]]), part * net.length_m[snap.edge])]
        if snap.twin >= 0:
            twin_part = snap.fraction if exit_ else 1.0 - snap.fraction
            out.append((int(net.node_osm_id[node[snap.twin]]), twin_part * net.length_m[snap.twin]))
        return out

    return min(
        start_m + nx.shortest_path_length(graph, a, b, weight="length") + end_m
        for a, start_m in ends(origin, True)
        for b, end_m in ends(dest, False)
    )


def test_tow_km_do_not_depend_on_the_time_of_day(
    geo: Geo, shops: Shops, business_rules: Rules, drive_graph: nx.MultiDiGraph
) -> None:
    origin = geo.router.snap(*TIANANMEN)
    dest = geo.router.snap(*ZHONGGUANCUN)
    expected_m = _road_m_by_networkx(geo, drive_graph, origin, dest)
    billed = {}
    for clock in ("03:00", "08:30"):
        band = geo.band_at(clock)
        tow = choose_tow_destination(
            geo, shops, geo.locate(*TIANANMEN), chosen=ZHONGGUANCUN, name="中关村", band=band
        )
        assert tow.tow_m == pytest.approx(expected_m, abs=3.0)
        # The fastest route is a different road length in each band; the bill is not.
        assert geo.router.route(origin, dest, band=band).length_m > tow.tow_m + 1_000
        quote = make_quote(
            member=True,
            zone="inside_5th_ring",
            on_highway=False,
            tow_m=tow.tow_m,
            rules=business_rules,
        )
        billed[clock] = (quote.billed_tow_km, quote.total_yuan)
    # 15.57 km -> 15.6 -> 16 km started: 1 km beyond the free 15 -> 8 yuan, at any hour.
    assert expected_m == pytest.approx(15_572, abs=5)
    assert billed == {"03:00": (16, 8.0), "08:30": (16, 8.0)}
