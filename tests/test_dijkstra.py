"""The CSR Dijkstra against networkx on small synthetic graphs."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pytest

from geo.dijkstra import dijkstra


def _csr(n: int, edges: list[tuple[int, int, float]]) -> tuple[np.ndarray, ...]:
    order = sorted(range(len(edges)), key=lambda i: edges[i][0])
    tails = np.array([edges[i][0] for i in order], dtype=np.int64)
    heads = np.array([edges[i][1] for i in order], dtype=np.int64)
    weights = np.array([edges[i][2] for i in order], dtype=np.float64)
    indptr = np.concatenate(([0], np.cumsum(np.bincount(tails, minlength=n)))).astype(np.int64)
    return indptr, heads, weights, np.arange(len(edges), dtype=np.int64)


def _random_graph(seed: int, n: int = 60, m: int = 240) -> tuple[nx.MultiDiGraph, list]:
    rng = np.random.default_rng(seed)
    edges = [
        (int(rng.integers(n)), int(rng.integers(n)), float(rng.uniform(1, 100))) for _ in range(m)
    ]
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(edges)
    return graph, edges


@pytest.mark.parametrize("seed", range(5))
def test_single_source_matches_networkx(seed: int) -> None:
    graph, edges = _random_graph(seed)
    indptr, heads, weights, ids = _csr(60, edges)
    dist, pred = dijkstra(indptr, heads, weights, ids, np.array([0]), np.array([0.0]))
    expected = nx.single_source_dijkstra_path_length(graph, 0)
    for node in range(60):
        assert dist[node] == pytest.approx(expected.get(node, math.inf), rel=1e-12)
    reached = [v for v in range(60) if v != 0 and math.isfinite(dist[v])]
    tails = np.repeat(np.arange(60), np.diff(indptr))
    for node in reached:  # the predecessor edge lies on a shortest path
        edge = pred[node]
        assert heads[edge] == node
        assert dist[tails[edge]] + weights[edge] == pytest.approx(dist[node])


@pytest.mark.parametrize("seed", range(3))
def test_sources_with_initial_costs_equal_a_virtual_source(seed: int) -> None:
    graph, edges = _random_graph(seed)
    indptr, heads, weights, ids = _csr(60, edges)
    sources, offsets = np.array([3, 17, 42]), np.array([5.0, 0.5, 20.0])
    dist, _ = dijkstra(indptr, heads, weights, ids, sources, offsets)
    graph.add_weighted_edges_from(
        [("virtual", int(s), float(c)) for s, c in zip(sources, offsets, strict=True)]
    )
    expected = nx.single_source_dijkstra_path_length(graph, "virtual")
    for node in range(60):
        assert dist[node] == pytest.approx(expected.get(node, math.inf), rel=1e-12)


def test_bound_and_targets_stop_early_without_changing_settled_costs() -> None:
    _graph, edges = _random_graph(7)
    indptr, heads, weights, ids = _csr(60, edges)
    full, _ = dijkstra(indptr, heads, weights, ids, np.array([0]), np.array([0.0]))
    bounded, _ = dijkstra(
        indptr, heads, weights, ids, np.array([0]), np.array([0.0]), max_cost=60.0
    )
    assert np.all(bounded[full <= 60.0] == full[full <= 60.0])
    assert np.all(np.isinf(bounded[full > 60.0]))
    target = int(np.argsort(full)[5])
    early, _ = dijkstra(
        indptr, heads, weights, ids, np.array([0]), np.array([0.0]), targets=np.array([target])
    )
    assert early[target] == full[target]
    assert np.isinf(early).sum() > np.isinf(full).sum()
