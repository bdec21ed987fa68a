"""Network edges as the rest of the system sees them: the edge ids a route drives (to tell
which named roads it uses, e.g. tolled expressways) and the through network / dead ends
that snapping avoids, on the real Beijing network."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from geo.places import Geo
from geo.router import Route, Snap, through_nodes

TIANANMEN = (116.3975, 39.9087)
PKU_EAST_GATE = (116.3165, 39.9995)


def _check_edges(geo: Geo, route: Route, origin: Snap, dest: Snap, band: str) -> None:
    """``route.edges`` is a connected chain from the origin's road to the destination's,
    whose times and lengths (partial at the ends) add up to the route's."""
    net = geo.network
    edges = np.array(route.edges)
    assert len(edges) >= 1
    assert (net.head[edges[:-1]] == net.tail[edges[1:]]).all()
    assert edges[0] in (origin.edge, origin.twin) and edges[-1] in (dest.edge, dest.twin)
    start = origin.fraction if edges[0] == origin.edge else 1.0 - origin.fraction
    end = dest.fraction if edges[-1] == dest.edge else 1.0 - dest.fraction
    share = np.ones(len(edges))
    share[0] -= start
    share[-1] -= 1.0 - end
    w = net.travel_s[net.band_index(band)]
    assert float((share * net.length_m[edges]).sum()) == pytest.approx(route.length_m, rel=1e-9)
    assert float((share * w[edges]).sum()) == pytest.approx(route.travel_s, rel=1e-9)


@pytest.mark.parametrize("band", ["night", "evening_peak"])
def test_route_lists_the_edges_it_drives_in_order(geo: Geo, band: str) -> None:
    origin, dest = geo.router.snap(*TIANANMEN), geo.router.snap(*PKU_EAST_GATE)
    route = geo.router.route(origin, dest, band=band)
    _check_edges(geo, route, origin, dest, band)
    assert len(route.edges) > 20
    assert len(set(route.edges)) == len(route.edges)


def test_route_edges_of_random_trips(geo: Geo) -> None:
    rng = np.random.default_rng(3)
    net = geo.network
    nodes = rng.integers(net.node_count, size=40)
    snaps = geo.router.snap_many(
        net.node_lon[nodes] + rng.uniform(-0.001, 0.001, 40),
        net.node_lat[nodes] + rng.uniform(-0.001, 0.001, 40),
    )
    for origin, dest in zip(snaps[::2], snaps[1::2], strict=True):
        _check_edges(geo, geo.router.route(origin, dest, band="daytime"), origin, dest, "daytime")


def test_route_on_one_edge_lists_that_edge(geo: Geo) -> None:
    net = geo.network
    edge = int(np.flatnonzero(net.twin_edge < 0)[100])
    a, b = np.array(net.edge_coords(edge))[[0, -1]]
    origin = geo.router.snap(*(a + (b - a) * 0.2))
    dest = geo.router.snap(*(a + (b - a) * 0.7))
    assert geo.router.route(origin, dest, band="night").edges == (edge,)
    assert geo.router.route(origin, origin, band="night").edges == ()  # nothing driven


def test_route_edges_name_the_roads_driven(geo: Geo) -> None:
    # From a point on the 机场高速 (Airport Expressway) into town: its edges say so.
    net = geo.network
    expressway = [e for e in range(net.edge_count) if net.edge_name[e] == "机场高速"]
    assert expressway
    coords = np.array(net.edge_coords(expressway[0]))
    origin = geo.router.snap(*coords[len(coords) // 2 - 1 : len(coords) // 2 + 1].mean(axis=0))
    assert net.edge_name[origin.edge] == "机场高速"
    dest = geo.router.snap(*TIANANMEN)
    route = geo.router.route(origin, dest, band="night")
    _check_edges(geo, route, origin, dest, "night")
    names = [net.edge_name[e] for e in route.edges]
    assert names[0] == "机场高速"
    assert net.edge_name[dest.edge] == names[-1] == "南池子大街"


# ---------------------------------------------------------------------------- dead ends
def test_through_network_is_the_largest_2_edge_connected_part(geo: Geo) -> None:
    """Our bridges (numba Tarjan) against networkx on the same undirected road graph: one
    undirected edge per two-way road, one per one-way edge (two one-way carriageways
    between the same nodes are two roads, not a dead end)."""
    net = geo.network
    graph = nx.MultiGraph()
    graph.add_nodes_from(range(net.node_count))
    for edge in range(net.edge_count):
        twin = int(net.twin_edge[edge])
        if (twin < 0 or twin > edge) and net.tail[edge] != net.head[edge]:
            graph.add_edge(int(net.tail[edge]), int(net.head[edge]), key=edge)
    graph.remove_edges_from(list(nx.bridges(graph)))
    largest = max(nx.connected_components(graph), key=len)
    expected = np.zeros(net.node_count, dtype=bool)
    expected[list(largest)] = True
    ours = through_nodes(net)
    assert (ours == expected).all()
    assert (geo.router.through_node == ours).all()
    assert 0.8 < ours.mean() < 0.95  # 86 % of nodes; the rest sit in dead ends


def test_dead_end_seconds_are_zero_on_through_roads_and_grow_into_dead_ends(geo: Geo) -> None:
    net, router = geo.network, geo.router
    through = router.through_node
    assert (router.dead_end_node_s[through] == 0).all()
    assert (router.dead_end_node_s[~through] > 0).all()
    assert np.isfinite(router.dead_end_node_s).all()
    inner = int(np.flatnonzero(through[net.tail] & through[net.head])[0])
    assert router.dead_end_s(Snap(inner, 0.5, int(net.twin_edge[inner]), 0.0, 0.0, 0.0)) == 0.0
    # A dead-end edge: its point's seconds lie between its ends' (drive along it).
    stub = int(np.flatnonzero(through[net.tail] & ~through[net.head])[0])
    free_flow_s = float(net.travel_s[:, stub].min())
    half = router.dead_end_s(Snap(stub, 0.5, int(net.twin_edge[stub]), 0.0, 0.0, 0.0))
    assert half == pytest.approx(0.5 * free_flow_s, rel=1e-9)
