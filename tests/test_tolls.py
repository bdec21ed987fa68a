"""Tolls by route (SERVICE_RULES §5: highway and bridge tolls on the way are the
customer's, at cost): flagged when the truck's route to the scene or the tow route drives on
a tolled road of config [tolls], not because the breakdown is on a motorway-class road."""

from __future__ import annotations

import pytest

from geo.places import Geo
from optimizer.dispatch.intake import QuoteRequest
from optimizer.dispatch.pricing import price_call
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from optimizer.dispatch.tolls import leg_tolls, place_tolls, route_tolls, toll_map

TERMINAL_3 = (116.6146, 40.0525)  # Capital Airport T3, at the east edge of the extract
AIRPORT_EXPRESSWAY = "机场高速 Airport Expressway"
SANYUANQIAO = (116.4565, 39.9610)  # 三元桥, where the Airport Expressway starts (3rd ring)
# Urban expressways tagged motorway in OSM, toll-free.
TOLL_FREE_MOTORWAYS = ("莲花池东路", "莲石东路", "莲石路", "菜户营南路", "德胜门外大街")
BAND = "daytime"


def _call(where: tuple[float, float], **fields: object) -> QuoteRequest:
    values: dict[str, object] = {
        "member": False,
        "location": where,
        "on_highway_reported": None,
        "fault_category": "engine_failure",
        "tow_destination": None,
        "tow_destination_name": "",
        "accident": False,
        "insurer": None,
    }
    values.update(fields)
    return QuoteRequest(**values)  # type: ignore[arg-type]


def _motorway_edge_named(geo: Geo, name: str) -> int:
    net = geo.network
    edges = [
        e for e, n in enumerate(net.edge_name) if n == name and net.edge_highway(e) == "motorway"
    ]
    assert edges, name
    return edges[len(edges) // 2]


def _edge_middle(geo: Geo, edge: int) -> tuple[float, float]:
    """A point halfway along the middle segment of the edge's shape (no junction)."""
    net = geo.network
    middle = (int(net.geom_offsets[edge]) + int(net.geom_offsets[edge + 1]) - 1) // 2
    lon = (net.geom_lon[middle] + net.geom_lon[middle + 1]) / 2.0
    lat = (net.geom_lat[middle] + net.geom_lat[middle + 1]) / 2.0
    return float(lon), float(lat)


def test_tow_from_terminal_3_into_the_city_gets_the_toll_notice(
    geo: Geo, business_rules: Rules, shops: Shops
) -> None:
    placement = geo.locate(*TERMINAL_3)
    assert placement.snap.distance_m < 300  # T3 is on the network's edge, and snaps
    assert placement.zone == "between_5th_and_6th_ring"
    assert placement.on_highway is False  # the old rule (a motorway at the scene): no tolls
    priced = price_call(_call(TERMINAL_3), geo=geo, rules=business_rules, shops=shops, band=BAND)
    assert priced.tow is not None
    shop = geo.locate(*priced.tow.lonlat)
    assert shop.zone == "inside_5th_ring"  # a shop in the city
    # The tow route, worked out here: it drives km of the Airport Expressway (by its OSM
    # names) outside the 5th ring, where config [tolls] lists it.
    route = geo.router.route(placement.snap, priced.tow.snap, band=BAND)
    net = geo.network
    airport_names = {"机场高速", "Airport Expressway", "首都机场公道 Capital Airport Expwy"}
    airport_km = sum(
        float(net.length_m[e]) / 1000.0
        for e in route.edges
        if airport_names & set(net.edge_name[e].split(" / "))
    )
    assert airport_km > 2.0
    assert AIRPORT_EXPRESSWAY in priced.toll_roads
    assert priced.toll_roads == tuple(route_tolls(geo, business_rules.tolls, route))
    quote = priced.quote
    fees = {item.code: item.fee_yuan for item in quote.items}
    assert fees["tolls"] == 0  # at cost, not priced in advance
    assert quote.on_highway is True
    notice = next(n for n in quote.notices if "tolls are the customer's" in n)
    assert AIRPORT_EXPRESSWAY in notice
    assert "高速费" in quote.script_zh
    # Non-member outside the 5th ring: 300 yuan call-out + 15 yuan per km billed; tolls 0.
    assert quote.billed_tow_km is not None and quote.billed_tow_km >= 10
    assert quote.total_yuan == 300 + 15 * quote.billed_tow_km


def test_a_call_on_lianhuachi_east_road_towed_in_the_city_gets_no_toll_notice(
    geo: Geo, business_rules: Rules, shops: Shops
) -> None:
    where = _edge_middle(geo, _motorway_edge_named(geo, "莲花池东路"))
    placement = geo.locate(*where)
    assert placement.road_name == "莲花池东路" and placement.highway == "motorway"
    assert placement.on_highway is True  # the old rule flagged tolls here
    priced = price_call(_call(where), geo=geo, rules=business_rules, shops=shops, band=BAND)
    assert priced.tow is not None and geo.locate(*priced.tow.lonlat).zone == "inside_5th_ring"
    # The tow route, worked out here: every edge of it inside the 5th ring, none on a road
    # config [tolls] lists as tolled everywhere (the Airport Expressway, 机场南线).
    route = geo.router.route(placement.snap, priced.tow.snap, band=BAND)
    net = geo.network
    tolled_everywhere = {"机场高速", "Airport Expressway", "机场南线高速公道 Airport South Expwy"}
    for edge in route.edges:
        start, end = int(net.geom_offsets[edge]), int(net.geom_offsets[edge + 1])
        lon, lat = net.geom_lon[(start + end) // 2], net.geom_lat[(start + end) // 2]
        assert geo.zones.classify(float(lon), float(lat)) == "inside_5th_ring"
        assert not tolled_everywhere & set(net.edge_name[edge].split(" / "))
    assert priced.toll_roads == ()
    quote = priced.quote
    assert "tolls" not in {item.code for item in quote.items}
    assert quote.on_highway is False and quote.notices == []
    assert "高速费" not in quote.script_zh
    # Non-member inside the 5th ring: 100 yuan call-out + 15 yuan per km started.
    assert quote.total_yuan == 100 + 15 * (quote.billed_tow_km or 0)


@pytest.mark.parametrize("name", TOLL_FREE_MOTORWAYS)
def test_toll_free_urban_motorways_are_not_tolled(
    geo: Geo, business_rules: Rules, name: str
) -> None:
    tolls = toll_map(geo, business_rules.tolls)
    edges = [e for e, n in enumerate(geo.network.edge_name) if name in n.split(" / ")]
    assert edges
    assert not tolls.roads_on(edges)


def test_radial_expressways_are_tolled_beyond_the_5th_ring_only(
    geo: Geo, business_rules: Rules
) -> None:
    # 京港澳 (京石高速公路): 17.5 km of it inside the 5th ring (六里桥 ...), 5.3 km beyond.
    net, tolls = geo.network, toll_map(geo, business_rules.tolls)
    inside = beyond = 0
    for edge, name in enumerate(net.edge_name):
        if "京石高速公路" not in name.split(" / "):
            continue
        start, end = int(net.geom_offsets[edge]), int(net.geom_offsets[edge + 1])
        middle = (start + end) // 2
        zone = geo.zones.classify(float(net.geom_lon[middle]), float(net.geom_lat[middle]))
        tolled = tolls.road_of_edge.get(edge)
        if zone == "inside_5th_ring":
            assert tolled is None
            inside += 1
        else:
            assert tolled == "京港澳高速 G4"
            beyond += 1
    assert inside and beyond


def test_the_trucks_route_to_the_scene_counts_too(geo: Geo, business_rules: Rules) -> None:
    # A truck at T3 driving to a job at 三元桥 uses the Airport Expressway; back the same.
    t3, sanyuanqiao = geo.router.snap(*TERMINAL_3), geo.router.snap(*SANYUANQIAO)
    assert AIRPORT_EXPRESSWAY in leg_tolls(geo, business_rules.tolls, t3, sanyuanqiao, band=BAND)
    assert AIRPORT_EXPRESSWAY in leg_tolls(geo, business_rules.tolls, sanyuanqiao, t3, band=BAND)
    # A scene on a tolled road: every truck's route to it ends on that road.
    edge = _motorway_edge_named(geo, "机场高速")
    assert place_tolls(geo, business_rules.tolls, geo.router.snap(*_edge_middle(geo, edge))) == [
        AIRPORT_EXPRESSWAY
    ]


def test_the_callers_word_on_the_highway(geo: Geo, business_rules: Rules, shops: Shops) -> None:
    on_expressway = _edge_middle(geo, _motorway_edge_named(geo, "机场高速"))
    service = {"fault_category": "flat_tyre"}  # no tow: only the scene counts

    def quote(**fields: object) -> tuple[bool, tuple[str, ...]]:
        call = _call(on_expressway, **service, **fields)
        priced = price_call(call, geo=geo, rules=business_rules, shops=shops, band=BAND)
        return priced.quote.on_highway, priced.toll_roads

    assert quote() == (True, (AIRPORT_EXPRESSWAY,))  # snapped onto the tolled road
    assert quote(on_highway_reported=False) == (False, ())  # on the service road beside it
    # Said to be on a highway where the network has no tolled road: tolls still flagged.
    city = _call((116.3975, 39.9087), **service, on_highway_reported=True)
    priced = price_call(city, geo=geo, rules=business_rules, shops=shops, band=BAND)
    assert priced.quote.on_highway is True and priced.toll_roads == ()
