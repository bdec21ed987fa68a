"""The contraction hierarchy answers exactly what Dijkstra answers (networkx as the judge)."""

from __future__ import annotations

import math
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.ch import POOL_FULL, QUEUE_FULL, Hierarchy, _build
from geo.hierarchies import BandHierarchies


def csr(n: int, arcs: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arcs = sorted(arcs)
    tails = np.array([a[0] for a in arcs], dtype=np.int64)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(tails, minlength=n)))).astype(np.int64)
    head = np.array([a[1] for a in arcs], dtype=np.int64)
    weight = np.array([a[2] for a in arcs], dtype=np.float64)
    return indptr, head, weight


def networkx_graph(n: int, arcs: list[tuple[int, int, float]]) -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n))
    for tail, head, w in arcs:  # parallel arcs: the cheapest counts
        if tail != head and (not graph.has_edge(tail, head) or graph[tail][head]["w"] > w):
            graph.add_edge(tail, head, w=w)
    return graph


def assert_matches_networkx(n: int, arcs: list[tuple[int, int, float]]) -> None:
    hierarchy = Hierarchy.build(*csr(n, arcs))
    graph = networkx_graph(n, arcs)
    nodes = np.arange(n, dtype=np.int64)
    for source in range(n):
        expected = nx.single_source_dijkstra_path_length(graph, source, weight="w")
        one = (np.array([source]), np.array([0.0]))
        forward = hierarchy.from_node(*one, nodes)
        backward = hierarchy.to_node(*one, nodes)
        for other in range(n):
            want = expected.get(other, math.inf)
            assert forward[other] == pytest.approx(want, rel=1e-12, abs=1e-9)
            back = nx.shortest_path_length(graph, other, source, weight="w") if nx.has_path(
                graph, other, source
            ) else math.inf  # fmt: skip
            assert backward[other] == pytest.approx(back, rel=1e-12, abs=1e-9)


def test_grid_with_one_way_streets_matches_networkx() -> None:
    rng = np.random.default_rng(7)
    side = 8
    arcs = []
    for r in range(side):
        for c in range(side):
            v = r * side + c
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < side and c + dc < side:
                    u = (r + dr) * side + c + dc
                    w = float(rng.uniform(5, 60))
                    arcs.append((v, u, w))
                    if rng.random() < 0.8:  # a fifth of the streets are one-way
                        arcs.append((u, v, w * float(rng.uniform(0.8, 1.2))))
    assert_matches_networkx(side * side, arcs)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(min_value=1, max_value=14).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    st.floats(min_value=0.0, max_value=100.0, allow_nan=False),
                ),
                max_size=50,
            ),
        )
    )
)
def test_any_graph_matches_networkx(case: tuple[int, list[tuple[int, int, float]]]) -> None:
    """Parallel arcs, self-loops, zero weights, unreachable parts: all exact."""
    assert_matches_networkx(*case)


def test_seed_costs_count_and_the_cheapest_seed_wins() -> None:
    arcs = [(0, 1, 10.0), (1, 2, 10.0), (3, 2, 1.0)]
    hierarchy = Hierarchy.build(*csr(4, arcs))
    seeds, costs = np.array([0, 3]), np.array([5.0, 30.0])
    assert hierarchy.from_node(seeds, costs, np.array([2, 1])).tolist() == [25.0, 15.0]
    to_two = hierarchy.to_node(np.array([2]), np.array([4.0]), np.array([0, 3, 1]))
    assert to_two.tolist() == [24.0, 5.0, 14.0]


def test_a_full_pool_or_queue_is_reported_and_the_build_retries_with_more_room() -> None:
    indptr, head, weight = csr(6, [(i, (i + 1) % 6, 1.0) for i in range(6)])
    assert _build(indptr, head, weight, 4, 1024)[-1] == POOL_FULL
    assert _build(indptr, head, weight, 1024, 7)[-1] == QUEUE_FULL
    assert Hierarchy.build(indptr, head, weight).from_node(
        np.array([0]), np.array([0.0]), np.array([5])
    ).tolist() == [5.0]


def test_band_hierarchies_are_saved_and_loaded_equal(tmp_path: Path, geo) -> None:
    """On the Beijing network: a second process reads what the first one built."""
    network = geo.network
    band = network.band_index("night")
    first = BandHierarchies(network, tmp_path)
    built = first.get(band)
    path = first.path(band)
    assert path is not None and path.exists()
    loaded = BandHierarchies(network, tmp_path).get(band)
    for name, array in built.arrays().items():
        np.testing.assert_array_equal(array, getattr(loaded, name))
    other = BandHierarchies(network, tmp_path).path(network.band_index("evening_peak"))
    assert other != path  # another band's times: another file


def test_a_damaged_cache_file_is_built_again(tmp_path: Path, geo) -> None:
    network = geo.network
    band = network.band_index("night")
    path = BandHierarchies(network, tmp_path).path(band)
    assert path is not None
    path.write_bytes(b"not a hierarchy")
    rebuilt = BandHierarchies(network, tmp_path).get(band)
    assert rebuilt.position.shape == (network.node_count,)
    assert BandHierarchies(network, tmp_path)._read(path) is not None  # the file replaced
