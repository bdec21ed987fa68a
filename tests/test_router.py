"""The router on the real Beijing network: exactness against networkx, partial edges,
both directions of search, time bounds and path geometry."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
import shapely

from geo.coords import wgs84_to_gcj02
from geo.errors import InputError
from geo.graph import travel_attr
from geo.places import Geo
from geo.projection import LocalProjection
from geo.router import Snap, SnapSet

TIANANMEN = (116.3975, 39.9087)
PKU_EAST_GATE = (116.3165, 39.9995)


def _random_places(geo: Geo, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random points near random nodes (within ~150 m), so all lie on the network."""
    rng = np.random.default_rng(seed)
    nodes = rng.integers(geo.network.node_count, size=count)
    lon = geo.network.node_lon[nodes] + rng.uniform(-0.0015, 0.0015, count)
    lat = geo.network.node_lat[nodes] + rng.uniform(-0.0012, 0.0012, count)
    return lon, lat


@pytest.mark.parametrize("band", ["daytime", "evening_peak"])
def test_node_to_node_times_equal_networkx_for_1000_pairs(
    geo: Geo, drive_graph: nx.MultiDiGraph, band: str
) -> None:
    rng = np.random.default_rng(2026)
    net = geo.network
    sources = rng.choice(net.node_count, size=20, replace=False)
    checked = 0
    for source in sources:
        ours = geo.router.node_travel_times(int(source), band=band)
        theirs = nx.single_source_dijkstra_path_length(
            drive_graph, int(net.node_osm_id[source]), weight=travel_attr(band)
        )
        targets = rng.choice(net.node_count, size=50, replace=False)
        one = (np.array([source]), np.zeros(1))
        hierarchy = geo.router.hierarchies.get(net.band_index(band))  # the hot path's
        from_source = hierarchy.from_node(*one, targets)
        for target, via_hierarchy in zip(targets, from_source, strict=True):
            expected = theirs[int(net.node_osm_id[target])]
            assert ours[target] == pytest.approx(expected, rel=1e-6, abs=1e-9)
            assert via_hierarchy == pytest.approx(expected, rel=1e-6, abs=1e-9)
            checked += 1
    assert checked == 1000


def test_network_is_strongly_connected(geo: Geo) -> None:
    forward = geo.router.node_travel_times(0, band="night")
    backward = geo.router.node_travel_times(0, band="night", backward=True)
    assert np.isfinite(forward).all() and np.isfinite(backward).all()


def test_snap_lands_on_the_nearest_edge_between_its_nodes(geo: Geo) -> None:
    net = geo.network
    edge = int(np.flatnonzero(geo.network.twin_edge < 0)[100])  # a one-way edge
    coords = np.array(net.edge_coords(edge))
    mid = coords[len(coords) // 2 - 1 : len(coords) // 2 + 1].mean(axis=0)
    snap = geo.router.snap(*mid)
    assert snap.edge == edge and snap.twin == -1
    assert 0.0 < snap.fraction < 1.0
    assert snap.distance_m < 1.0


def test_partial_edges_are_counted_at_both_ends(geo: Geo) -> None:
    net = geo.network
    band = "daytime"
    edge = int(np.flatnonzero(geo.network.twin_edge < 0)[100])
    coords = np.array(net.edge_coords(edge))
    snap = geo.router.snap(*coords[len(coords) // 2 - 1 : len(coords) // 2 + 1].mean(axis=0))
    head = geo.router.node_snap(int(net.head[edge]))
    tail = geo.router.node_snap(int(net.tail[edge]))
    w = net.travel_s[net.band_index(band), edge]
    to_head = geo.router.travel_times_from(snap, [head], band=band)[0]
    assert to_head == pytest.approx((1.0 - snap.fraction) * w, rel=1e-9)
    from_tail = geo.router.travel_times_to(snap, [tail], band=band)[0]
    assert from_tail == pytest.approx(snap.fraction * w, rel=1e-9)


def test_many_to_one_equals_one_to_many_pair_by_pair(geo: Geo) -> None:
    lon, lat = _random_places(geo, 60, seed=1)
    snaps = geo.router.snap_many(lon, lat)
    job = geo.router.snap(*TIANANMEN)
    many_to_one = geo.router.travel_times_to(job, SnapSet.of(snaps), band="morning_peak")
    for i, snap in enumerate(snaps):
        single = geo.router.travel_times_from(snap, [job], band="morning_peak")[0]
        assert many_to_one[i] == pytest.approx(single, rel=1e-9)
    assert np.isfinite(many_to_one).all()


def test_time_bound_drops_only_what_is_farther(geo: Geo) -> None:
    lon, lat = _random_places(geo, 200, seed=2)
    snaps = SnapSet.of(geo.router.snap_many(lon, lat))
    job = geo.router.snap(*TIANANMEN)
    full = geo.router.travel_times_to(job, snaps, band="daytime")
    bounded = geo.router.travel_times_to(job, snaps, band="daytime", max_s=900.0)
    near = full <= 900.0
    assert near.any() and (~near).any()
    np.testing.assert_allclose(bounded[near], full[near])
    assert np.isinf(bounded[~near]).all()


def test_route_follows_roads_from_snap_to_snap(geo: Geo) -> None:
    origin, dest = geo.router.snap(*TIANANMEN), geo.router.snap(*PKU_EAST_GATE)
    route = geo.router.route(origin, dest, band="night")
    assert route.travel_s == pytest.approx(
        geo.router.travel_times_from(origin, [dest], band="night")[0], rel=1e-9
    )
    coords = route.geometry["coordinates"]
    assert route.geometry["type"] == "LineString"
    assert coords[0] == pytest.approx([origin.lon, origin.lat], abs=1e-6)
    assert coords[-1] == pytest.approx([dest.lon, dest.lat], abs=1e-6)
    straight_m = 11_890  # PROVENANCE.md: straight line 11.89 km, drivable route 15.11 km
    assert 1.1 * straight_m < route.length_m < 1.6 * straight_m
    polyline_m = sum(
        math.hypot((b[0] - a[0]) * 85_390, (b[1] - a[1]) * 111_035)
        for a, b in itertools.pairwise(coords)
    )
    assert polyline_m == pytest.approx(route.length_m, rel=0.02)


def test_route_on_one_edge_needs_no_search(geo: Geo) -> None:
    net = geo.network
    edge = int(np.flatnonzero(geo.network.twin_edge < 0)[100])
    a, b = np.array(net.edge_coords(edge))[[0, -1]]
    origin = geo.router.snap(*(a + (b - a) * 0.2))
    dest = geo.router.snap(*(a + (b - a) * 0.7))
    route = geo.router.route(origin, dest, band="night")
    w = net.travel_s[net.band_index("night"), edge]
    assert route.travel_s == pytest.approx((dest.fraction - origin.fraction) * w, rel=1e-9)


def test_gcj02_input_snaps_like_the_wgs84_point(geo: Geo) -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(*TIANANMEN)
    assert geo.router.snap(gcj_lon, gcj_lat, crs="gcj02") == geo.router.snap(*TIANANMEN)


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (float("nan"), 39.9, "finite"),
        (39.9087, 116.3975, "looks like (lat, lon)"),
        (116.9, 39.9, "more than 2000 m"),
        (200.0, 39.9, "longitude must be in -180..180"),
        ("east", 39.9, "two numbers"),
    ],
)
def test_bad_places_get_a_clear_error(geo: Geo, lon: object, lat: object, message: str) -> None:
    with pytest.raises(InputError, match=r"location=") as error:
        geo.router.snap(lon, lat)
    assert message in str(error.value)


def test_far_points_are_told_the_covered_area(geo: Geo) -> None:
    with pytest.raises(InputError, match=r"network covers lon 116\.148\.\.116\.613"):
        geo.router.snap(116.30, 39.70)  # the southern arc of the 5th ring, outside the extract


# ---------------------------------------------------------------------------- dead ends
FRAGRANT_HILLS = (116.188, 39.992)  # 香山, at the foot of the hills west of the city
CITY_STATION = (116.30, 39.98)  # a station in the city (Haidian, inside the 4th ring)


def _edge_lines(geo: Geo) -> tuple[LocalProjection, np.ndarray]:
    """Every edge's shape in a local metric frame (the test's own, not the router's)."""
    net = geo.network
    projection = LocalProjection(float(net.node_lon.mean()), float(net.node_lat.mean()))
    x, y = projection.to_xy(net.geom_lon, net.geom_lat)
    owner = np.repeat(np.arange(net.edge_count), np.diff(net.geom_offsets))
    return projection, shapely.linestrings(np.column_stack((x, y)), indices=owner)


def _snap_on(geo: Geo, edge: int, point: shapely.Point, line: shapely.LineString) -> Snap:
    """The place ``point`` put on ``edge`` at its nearest point (as the router would)."""
    fraction = float(shapely.line_locate_point(line, point, normalized=True))
    twin = int(geo.network.twin_edge[edge])
    if 0 <= twin < edge:
        edge, twin, fraction = twin, edge, 1.0 - fraction
    return Snap(edge, fraction, twin, math.nan, math.nan, float(shapely.distance(point, line)))


def _exits(geo: Geo, snap: Snap, band: str) -> list[tuple[int, float]]:
    """(OSM node, seconds) a truck at ``snap`` reaches first, either way along its road."""
    net = geo.network
    w = net.travel_s[net.band_index(band)]
    exits = [(int(net.node_osm_id[net.head[snap.edge]]), (1.0 - snap.fraction) * w[snap.edge])]
    if snap.twin >= 0:
        exits.append((int(net.node_osm_id[net.head[snap.twin]]), snap.fraction * w[snap.twin]))
    return exits


def test_fragrant_hills_snaps_to_meichang_street_not_to_the_dead_end_park_road(
    geo: Geo, drive_graph: nx.MultiDiGraph
) -> None:
    net, router = geo.network, geo.router
    projection, lines = _edge_lines(geo)
    here = shapely.Point(*projection.to_xy(*FRAGRANT_HILLS))
    distance_m = shapely.distance(here, lines)
    # What the data says: the nearest road is a 2.1 km service road into the park, 256 m
    # away, hanging off the through network (every way in crosses one road, 18+ minutes of
    # it at free flow); 煤厂街, a tertiary street, passes 2 m farther.
    nearest = int(np.argmin(distance_m))
    assert net.edge_highway(nearest) == "service" and net.length_m[nearest] > 2_000
    park_road = _snap_on(geo, nearest, here, lines[nearest])
    assert park_road.distance_m == pytest.approx(256.4, abs=0.5)
    assert router.dead_end_s(park_road) > 15 * 60
    street = [e for e in range(net.edge_count) if net.edge_name[e] == "煤厂街"]
    street_m = float(distance_m[street].min())
    assert street_m - park_road.distance_m < 5.0

    placement = geo.locate(*FRAGRANT_HILLS)
    assert placement.road_name == "煤厂街" and placement.highway == "tertiary"
    assert placement.snap.distance_m == pytest.approx(street_m)

    # Expected arrival from the city: networkx on the osmnx graph, to the end of 煤厂街
    # nearest to Fragrant Hills (the snap is that end: 煤厂街's nearest point to the place).
    street_nodes = {
        node
        for u, v, data in drive_graph.edges(data=True)
        if "煤厂街"
        in (data.get("name") if isinstance(data.get("name"), list) else [data.get("name")])
        for node in (u, v)
    }
    end = min(
        street_nodes,
        key=lambda n: here.distance(
            shapely.Point(*projection.to_xy(drive_graph.nodes[n]["x"], drive_graph.nodes[n]["y"]))
        ),
    )
    assert (placement.snap.lon, placement.snap.lat) == pytest.approx(
        (drive_graph.nodes[end]["x"], drive_graph.nodes[end]["y"]), abs=1e-6
    )
    station = router.snap(*CITY_STATION)
    for band, dead_end_min in (("night", 45), ("morning_peak", 95)):
        expected_s = min(
            cost + nx.shortest_path_length(drive_graph, node, end, weight=travel_attr(band))
            for node, cost in _exits(geo, station, band)
        )
        ours_s = router.travel_times_to(placement.snap, [station], band=band)[0]
        assert ours_s == pytest.approx(expected_s, abs=1.0)
        # By the park road the same call was predicted 47 min at night, 99 at the peak.
        by_park_road_s = router.travel_times_to(park_road, [station], band=band)[0]
        assert by_park_road_s > dead_end_min * 60 > ours_s + 20 * 60


def test_snap_leaves_the_nearest_edge_only_for_a_cheaper_way_out_of_a_dead_end(
    geo: Geo,
) -> None:
    router = geo.router
    projection, lines = _edge_lines(geo)
    tree = shapely.STRtree(lines)
    lon, lat = _random_places(geo, 2000, seed=7)
    points = shapely.points(*projection.to_xy(lon, lat))
    _, nearest = tree.query_nearest(points, all_matches=False)
    moved = 0
    for point, edge, snap in zip(points, nearest, router.snap_many(lon, lat), strict=True):
        on_nearest = _snap_on(geo, int(edge), point, lines[edge])
        if snap.edge == on_nearest.edge:
            assert snap.fraction == pytest.approx(on_nearest.fraction, abs=1e-9)
            continue
        extra_m = snap.distance_m - on_nearest.distance_m
        if abs(extra_m) <= 1e-6 and router.dead_end_s(snap) <= router.dead_end_s(on_nearest):
            continue  # as near, no dearer: a tie (at a node), which each search breaks its way
        moved += 1
        # Only away from a dead end, to a road at most snap_margin_m farther, and only
        # when the extra metres at walking pace cost less than the drive out of it.
        assert router.dead_end_s(on_nearest) > 0
        assert -1e-6 <= extra_m <= router.snap_margin_m
        assert extra_m / router.snap_walk_mps + router.dead_end_s(snap) < router.dead_end_s(
            on_nearest
        )
    assert 0 < moved < 0.06 * len(points)  # 4 % of random places, in this data


# ---------------------------------------------------------------------------- road distance
def test_shortest_length_equals_networkx_by_length(geo: Geo, drive_graph: nx.MultiDiGraph) -> None:
    net, router = geo.network, geo.router
    rng = np.random.default_rng(11)
    lon, lat = _random_places(geo, 25, seed=11)
    for origin, node in zip(
        router.snap_many(lon, lat), rng.choice(net.node_count, 25), strict=True
    ):
        dest = router.node_snap(int(node))  # exactly at the node: no partial edge at the end
        target = int(net.node_osm_id[node])
        exits = [(int(net.head[origin.edge]), (1.0 - origin.fraction) * net.length_m[origin.edge])]
        if origin.twin >= 0:
            exits.append((int(net.head[origin.twin]), origin.fraction * net.length_m[origin.twin]))
        expected_m = min(
            cost
            + nx.shortest_path_length(drive_graph, int(net.node_osm_id[n]), target, weight="length")
            for n, cost in exits
        )
        assert router.shortest_length_m(origin, dest) == pytest.approx(expected_m, rel=1e-9)


def test_shortest_length_is_no_longer_than_any_bands_fastest_route(geo: Geo) -> None:
    origin, dest = geo.router.snap(*TIANANMEN), geo.router.snap(*PKU_EAST_GATE)
    shortest_m = geo.router.shortest_length_m(origin, dest)
    lengths_m = {
        band: geo.router.route(origin, dest, band=band).length_m for band in geo.network.bands
    }
    assert all(shortest_m <= length_m + 1e-6 for length_m in lengths_m.values())
    assert len({round(length_m) for length_m in lengths_m.values()}) > 1  # the fastest varies


def test_shortest_length_on_one_edge(geo: Geo) -> None:
    net = geo.network
    edge = int(np.flatnonzero(geo.network.twin_edge < 0)[100])
    a, b = np.array(net.edge_coords(edge))[[0, -1]]
    origin = geo.router.snap(*(a + (b - a) * 0.2))
    dest = geo.router.snap(*(a + (b - a) * 0.7))
    assert geo.router.shortest_length_m(origin, dest) == pytest.approx(
        (dest.fraction - origin.fraction) * net.length_m[edge], rel=1e-9
    )
    assert geo.router.shortest_length_m(origin, origin) == 0.0
