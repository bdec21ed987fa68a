"""The router on the real Beijing network: exactness against networkx, partial edges,
both directions of search, time bounds and path geometry."""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest

from geo.coords import wgs84_to_gcj02
from geo.errors import InputError
from geo.graph import travel_attr
from geo.places import Geo
from geo.router import SnapSet

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
        for target in rng.choice(net.node_count, size=50, replace=False):
            expected = theirs[int(net.node_osm_id[target])]
            assert ours[target] == pytest.approx(expected, rel=1e-6, abs=1e-9)
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
