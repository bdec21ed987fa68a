"""Dijkstra over CSR arrays, compiled with numba (hot path: no Python objects per node).

Supports what dispatch needs and scipy's csgraph does not: several sources each with an
initial cost (a point part-way along an edge), a cost bound, early exit once every target
is settled, and the predecessor edge of every settled node for path reconstruction.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@njit(cache=True, nogil=True)
def _heap_push(keys: FloatArray, nodes: IntArray, size: int, key: float, node: int) -> int:
    i = size
    keys[i] = key
    nodes[i] = node
    while i > 0:
        parent = (i - 1) >> 1
        if keys[parent] <= keys[i]:
            break
        keys[parent], keys[i] = keys[i], keys[parent]
        nodes[parent], nodes[i] = nodes[i], nodes[parent]
        i = parent
    return size + 1


@njit(cache=True, nogil=True)
def _heap_pop(keys: FloatArray, nodes: IntArray, size: int) -> tuple[float, int, int]:
    top_key = keys[0]
    top_node = nodes[0]
    size -= 1
    keys[0] = keys[size]
    nodes[0] = nodes[size]
    i = 0
    while True:
        left = 2 * i + 1
        if left >= size:
            break
        child = left
        if left + 1 < size and keys[left + 1] < keys[left]:
            child = left + 1
        if keys[i] <= keys[child]:
            break
        keys[child], keys[i] = keys[i], keys[child]
        nodes[child], nodes[i] = nodes[i], nodes[child]
        i = child
    return top_key, top_node, size


@njit(cache=True, nogil=True)
def _dijkstra(
    indptr: IntArray,
    adj_node: IntArray,
    adj_weight: FloatArray,
    adj_edge: IntArray,
    sources: IntArray,
    source_costs: FloatArray,
    max_cost: float,
    targets: IntArray,
) -> tuple[FloatArray, IntArray]:
    n = indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    pred_edge = np.full(n, -1, dtype=np.int64)
    settled = np.zeros(n, dtype=np.bool_)
    is_target = np.zeros(n, dtype=np.bool_)
    remaining = 0
    for t in targets:
        if not is_target[t]:
            is_target[t] = True
            remaining += 1
    capacity = adj_node.shape[0] + sources.shape[0] + 1
    keys = np.empty(capacity, dtype=np.float64)
    nodes = np.empty(capacity, dtype=np.int64)
    size = 0
    for i in range(sources.shape[0]):
        s = sources[i]
        if source_costs[i] < dist[s]:
            dist[s] = source_costs[i]
            size = _heap_push(keys, nodes, size, source_costs[i], s)
    while size > 0:
        cost, node, size = _heap_pop(keys, nodes, size)
        if settled[node]:
            continue
        if cost > max_cost:
            break
        settled[node] = True
        if is_target[node]:
            remaining -= 1
            if remaining == 0:
                break
        for k in range(indptr[node], indptr[node + 1]):
            nxt = adj_node[k]
            new_cost = cost + adj_weight[k]
            if new_cost < dist[nxt]:
                dist[nxt] = new_cost
                pred_edge[nxt] = adj_edge[k]
                size = _heap_push(keys, nodes, size, new_cost, nxt)
    for v in range(n):
        if not settled[v]:
            dist[v] = np.inf
            pred_edge[v] = -1
    return dist, pred_edge


def dijkstra(
    indptr: npt.NDArray[np.int64],
    adj_node: npt.NDArray[np.int64],
    adj_weight: npt.NDArray[np.float64],
    adj_edge: npt.NDArray[np.int64],
    sources: npt.NDArray[np.int64],
    source_costs: npt.NDArray[np.float64],
    *,
    max_cost: float = np.inf,
    targets: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Shortest costs from a set of sources with initial costs.

    Parameters
    ----------
    indptr, adj_node, adj_weight, adj_edge
        CSR adjacency: the arcs out of node ``v`` are ``indptr[v]:indptr[v+1]``, leading to
        ``adj_node`` at cost ``adj_weight``; ``adj_edge`` is each arc's edge id.
    sources, source_costs
        Start nodes and the cost already spent to reach each.
    max_cost
        Nodes farther than this are left unsettled.
    targets
        Stop as soon as all of these are settled (all nodes when None).

    Returns
    -------
    dist, pred_edge
        Cost per node (``inf`` where not settled) and the edge id that reached it (-1 for
        sources and unsettled nodes).
    """
    no_targets = np.empty(0, dtype=np.int64)
    return _dijkstra(
        indptr,
        adj_node,
        adj_weight,
        adj_edge,
        np.asarray(sources, dtype=np.int64),
        np.asarray(source_costs, dtype=np.float64),
        float(max_cost),
        no_targets if targets is None else np.asarray(targets, dtype=np.int64),
    )
