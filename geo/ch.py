"""Contraction hierarchy with PHAST-style sweeps: all distances to (or from) one place.

Built once per congestion band (a few seconds, cached on disk by :mod:`geo.hierarchy`),
a hierarchy turns the hot many-to-one question of dispatch, "how long from every truck
to this job", into an upward search from the job (a few hundred nodes) and one linear
sweep over every node in rank order (Delling et al., "PHAST: Hardware-accelerated
shortest path trees", 2011). The sweep visits the nodes in a fixed order with no heap and
no per-query allocation but the distance array, so its cost is a memory scan.

Construction (Geisberger et al., "Contraction Hierarchies", 2008): nodes are contracted
in order of a lazily updated priority (edge difference, contracted neighbours, level);
contracting ``v`` adds a shortcut ``u -> w`` for each pair of its neighbours unless a
witness search (a local Dijkstra avoiding ``v``, limited to ``WITNESS_SETTLE_LIMIT``
settled nodes) finds a path no longer than ``u -> v -> w``. A search that gives up adds
the shortcut, so the limit costs preprocessing and sweep time, never exactness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from geo.dijkstra import _heap_pop, _heap_push

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

WITNESS_SETTLE_LIMIT = 60
"""Settled nodes after which a witness search gives up (then the shortcut is added)."""
_POOL_ARCS_PER_EDGE = 12
"""Initial room for adjacency lists (they move to the end of the pool when they grow)."""
_QUEUE_ENTRIES_PER_NODE = 16
"""Initial room for the priority queue (stale entries stay until popped)."""
_MAX_ATTEMPTS = 12
"""Builds with doubled room before giving up (each doubles the pool or the queue)."""
BUILT, POOL_FULL, QUEUE_FULL = 0, 1, 2
"""What :func:`_build` says: done, or which room ran out."""


# ----------------------------------------------------------------- dynamic adjacency
# A side (the out-lists or the in-lists of every node) is ``(start, length, cap, to, w)``:
# node ``v``'s arcs are ``to[start[v]:start[v] + length[v]]`` with weights ``w``, in a pool
# whose first ``used[0]`` slots are taken; a list that outgrows its ``cap`` moves to the end.
Side = tuple[IntArray, IntArray, IntArray, IntArray, FloatArray]
Scratch = tuple[FloatArray, IntArray, FloatArray, IntArray]
"""A witness search's distances (all inf between searches), touched nodes and heap."""


@njit(cache=True, nogil=True)
def _new_side(n: int, pool_size: int) -> Side:
    return (
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.zeros(n, dtype=np.int64),
        np.empty(pool_size, dtype=np.int64),
        np.empty(pool_size, dtype=np.float64),
    )


@njit(cache=True, nogil=True)
def _append(side: Side, used: IntArray, node: int, other: int, w: float) -> bool:
    """Append ``node -> other`` to ``node``'s list; False when the pool is full."""
    start, length, cap, to, weight = side
    if length[node] == cap[node]:
        new_cap = 2 * cap[node] + 4
        if used[0] + new_cap > to.shape[0]:
            return False
        base = used[0]
        for k in range(length[node]):
            to[base + k] = to[start[node] + k]
            weight[base + k] = weight[start[node] + k]
        start[node] = base
        cap[node] = new_cap
        used[0] += new_cap
    to[start[node] + length[node]] = other
    weight[start[node] + length[node]] = w
    length[node] += 1
    return True


@njit(cache=True, nogil=True)
def _find(side: Side, node: int, other: int) -> int:
    start, length, _, to, _ = side
    for k in range(start[node], start[node] + length[node]):
        if to[k] == other:
            return k
    return -1


@njit(cache=True, nogil=True)
def _set_arc(out: Side, inn: Side, used: IntArray, tail: int, head: int, w: float) -> bool:
    """Add ``tail -> head`` or lower its weight; False when the pool is full.

    Both sides grow in step (one ``used`` counter), each within its own pool."""
    k = _find(out, tail, head)
    if k >= 0:
        if w < out[4][k]:
            out[4][k] = w
            inn[4][_find(inn, head, tail)] = w
        return True
    mark = used[0]
    if not _append(out, used, tail, head, w):
        return False
    grown = used[0] - mark
    used[0] = mark
    if not _append(inn, used, head, tail, w):
        return False
    used[0] = max(used[0], mark + grown)
    return True


@njit(cache=True, nogil=True)
def _load(
    indptr: IntArray, head: IntArray, weight: FloatArray, pool_size: int
) -> tuple[Side, Side, IntArray, bool]:
    """The out- and in-lists of a CSR graph (self-loops dropped, parallel arcs at their
    cheapest), and False when the pool is too small."""
    n = indptr.shape[0] - 1
    out = _new_side(n, pool_size)
    inn = _new_side(n, pool_size)
    used = np.zeros(1, dtype=np.int64)
    for v in range(n):
        for k in range(indptr[v], indptr[v + 1]):
            if head[k] != v and not _set_arc(out, inn, used, v, head[k], weight[k]):
                return out, inn, used, False
    return out, inn, used, True


@njit(cache=True, nogil=True)
def _export(out: Side) -> tuple[IntArray, IntArray, FloatArray]:
    """Every arc of the pool (original and shortcut) as tails, heads, weights."""
    start, length, _, to, weight = out
    total = int(length.sum())
    tails = np.empty(total, dtype=np.int64)
    heads = np.empty(total, dtype=np.int64)
    weights = np.empty(total, dtype=np.float64)
    i = 0
    for v in range(start.shape[0]):
        for k in range(start[v], start[v] + length[v]):
            tails[i] = v
            heads[i] = to[k]
            weights[i] = weight[k]
            i += 1
    return tails, heads, weights


# ----------------------------------------------------------------- contraction
@njit(cache=True, nogil=True)
def _witness(
    source: int,
    avoid: int,
    max_cost: float,
    out: Side,
    contracted: npt.NDArray[np.bool_],
    scratch: Scratch,
) -> int:
    """Local Dijkstra from ``source`` over uncontracted nodes but ``avoid``; fills the
    scratch distances (reset by the caller: the first returned-count touched nodes)."""
    start, length, _, to, weight = out
    dist, touched, heap_keys, heap_nodes = scratch
    n_touched = 1
    touched[0] = source
    dist[source] = 0.0
    size = _heap_push(heap_keys, heap_nodes, 0, 0.0, source)
    settled = 0
    while size > 0:
        cost, node, size = _heap_pop(heap_keys, heap_nodes, size)
        if cost > dist[node]:
            continue
        if cost > max_cost or settled >= WITNESS_SETTLE_LIMIT:
            break
        settled += 1
        for k in range(start[node], start[node] + length[node]):
            nxt = to[k]
            if nxt == avoid or contracted[nxt]:
                continue
            new_cost = cost + weight[k]
            if new_cost < dist[nxt]:
                if dist[nxt] == np.inf:
                    if n_touched == touched.shape[0]:
                        return n_touched
                    touched[n_touched] = nxt
                    n_touched += 1
                if size == heap_keys.shape[0]:
                    return n_touched
                dist[nxt] = new_cost
                size = _heap_push(heap_keys, heap_nodes, size, new_cost, nxt)
    return n_touched


@njit(cache=True, nogil=True)
def _contract(
    v: int,
    apply: bool,
    out: Side,
    inn: Side,
    used: IntArray,
    contracted: npt.NDArray[np.bool_],
    scratch: Scratch,
) -> tuple[int, int, bool]:
    """Shortcuts needed to contract ``v`` (added when ``apply``), the arcs it removes, and
    False when the pool ran out."""
    out_start, out_len, _, out_to, out_w = out
    in_start, in_len, _, in_to, in_w = inn
    dist, touched = scratch[0], scratch[1]
    max_out = 0.0
    removed = 0
    for k in range(out_start[v], out_start[v] + out_len[v]):
        if not contracted[out_to[k]]:
            removed += 1
            max_out = max(max_out, out_w[k])
    shortcuts = 0
    ok = True
    for a in range(in_start[v], in_start[v] + in_len[v]):
        u = in_to[a]
        if contracted[u]:
            continue
        removed += 1
        n_touched = _witness(u, v, in_w[a] + max_out, out, contracted, scratch)
        for b in range(out_start[v], out_start[v] + out_len[v]):
            x = out_to[b]
            via = in_w[a] + out_w[b]
            if x != u and not contracted[x] and dist[x] > via:
                shortcuts += 1
                if apply and ok:
                    ok = _set_arc(out, inn, used, u, x, via)
        for t in range(n_touched):
            dist[touched[t]] = np.inf
    return shortcuts, removed, ok


@njit(cache=True, nogil=True)
def _build(
    indptr: IntArray, head: IntArray, weight: FloatArray, pool_size: int, queue_size: int
) -> tuple[IntArray, IntArray, IntArray, FloatArray, int]:
    """Contract every node: (rank per node, arc tails, arc heads, arc weights, status);
    status is :data:`BUILT`, or :data:`POOL_FULL` / :data:`QUEUE_FULL` when the adjacency
    pool or the priority queue needs more room."""
    n = indptr.shape[0] - 1
    rank = np.full(n, -1, dtype=np.int64)
    no_arcs = np.empty(0, dtype=np.float64)
    out, inn, used, loaded = _load(indptr, head, weight, pool_size)
    if not loaded:
        return rank, rank, rank, no_arcs, POOL_FULL
    contracted = np.zeros(n, dtype=np.bool_)
    scratch = (
        np.full(n, np.inf),
        np.empty(n, dtype=np.int64),
        np.empty(4 * n, dtype=np.float64),
        np.empty(4 * n, dtype=np.int64),
    )
    deleted = np.zeros(n, dtype=np.int64)
    level = np.zeros(n, dtype=np.int64)
    priority = np.empty(n, dtype=np.float64)
    queue_keys = np.empty(queue_size, dtype=np.float64)
    queue_nodes = np.empty(queue_size, dtype=np.int64)
    size = 0
    for v in range(n):
        added, removed, _ = _contract(v, False, out, inn, used, contracted, scratch)
        priority[v] = 2.0 * (added - removed)
        size = _heap_push(queue_keys, queue_nodes, size, priority[v], v)
    next_rank = 0
    while size > 0:
        key, v, size = _heap_pop(queue_keys, queue_nodes, size)
        if contracted[v] or key != priority[v]:
            continue
        added, removed, _ = _contract(v, False, out, inn, used, contracted, scratch)
        fresh = 2.0 * (added - removed) + deleted[v] + level[v]
        if size > 0 and fresh > queue_keys[0]:
            priority[v] = fresh
            size = _heap_push(queue_keys, queue_nodes, size, fresh, v)
            continue
        if not _contract(v, True, out, inn, used, contracted, scratch)[2]:
            return rank, rank, rank, no_arcs, POOL_FULL
        contracted[v] = True
        rank[v] = next_rank
        next_rank += 1
        for side in (out, inn):
            start, length, _, to, _ = side
            for k in range(start[v], start[v] + length[v]):
                nb = to[k]
                if contracted[nb]:
                    continue
                deleted[nb] += 1
                level[nb] = max(level[nb], level[v] + 1)
                if size + 1 >= queue_keys.shape[0]:
                    return rank, rank, rank, no_arcs, QUEUE_FULL
                priority[nb] += 1.0  # refreshed lazily when it reaches the top
                size = _heap_push(queue_keys, queue_nodes, size, priority[nb], nb)
    tails, heads, weights = _export(out)
    return rank, tails, heads, weights, BUILT


# ----------------------------------------------------------------- queries
@njit(cache=True, nogil=True)
def _upward_then_sweep(
    search_indptr: IntArray,
    search_to: IntArray,
    search_w: FloatArray,
    sweep_indptr: IntArray,
    sweep_to: IntArray,
    sweep_w: FloatArray,
    seeds: IntArray,
    seed_costs: FloatArray,
) -> FloatArray:
    """Distances (in rank order: position 0 is the top) from or to the seeds.

    The upward search runs over ``search_*`` (arcs toward higher ranks, i.e. lower
    positions), then the sweep relaxes each position from its arcs ``sweep_*`` to higher
    ranks, top first, so every distance it reads is already final.
    """
    n = search_indptr.shape[0] - 1
    dist = np.full(n, np.inf)
    keys = np.empty(search_to.shape[0] + seeds.shape[0] + 1, dtype=np.float64)
    nodes = np.empty(search_to.shape[0] + seeds.shape[0] + 1, dtype=np.int64)
    size = 0
    for i in range(seeds.shape[0]):
        if seed_costs[i] < dist[seeds[i]]:
            dist[seeds[i]] = seed_costs[i]
            size = _heap_push(keys, nodes, size, seed_costs[i], seeds[i])
    while size > 0:
        cost, node, size = _heap_pop(keys, nodes, size)
        if cost > dist[node]:
            continue
        for k in range(search_indptr[node], search_indptr[node + 1]):
            nxt = search_to[k]
            new_cost = cost + search_w[k]
            if new_cost < dist[nxt]:
                dist[nxt] = new_cost
                size = _heap_push(keys, nodes, size, new_cost, nxt)
    for v in range(n):
        best = dist[v]
        for k in range(sweep_indptr[v], sweep_indptr[v + 1]):
            via = dist[sweep_to[k]] + sweep_w[k]
            best = min(best, via)
        dist[v] = best
    return dist


def _csr(
    rows: IntArray, cols: IntArray, weights: FloatArray, n: int
) -> tuple[IntArray, IntArray, FloatArray]:
    order = np.lexsort((cols, rows))
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n)))).astype(np.int64)
    return indptr, cols[order].astype(np.int64), weights[order]


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """A contraction hierarchy of one weighting, nodes renumbered by rank (0 = top).

    ``position[v]`` is node ``v``'s place in that order. ``up_out_*``: per position, the
    arcs to higher-ranked positions; ``up_in_*``: per position, the arcs *from*
    higher-ranked positions (stored reversed: ``up_in_to`` is the arc's tail).
    """

    position: IntArray
    up_out_indptr: IntArray
    up_out_to: IntArray
    up_out_w: FloatArray
    up_in_indptr: IntArray
    up_in_to: IntArray
    up_in_w: FloatArray

    @classmethod
    def build(cls, indptr: IntArray, head: IntArray, weight: FloatArray) -> Hierarchy:
        """Contract a CSR graph (arcs of ``v`` at ``indptr[v]:indptr[v+1]``)."""
        n = int(indptr.shape[0] - 1)
        pool = max(1024, _POOL_ARCS_PER_EDGE * int(head.shape[0]))
        queue = max(1024, _QUEUE_ENTRIES_PER_NODE * n)
        for _ in range(_MAX_ATTEMPTS):
            rank, tails, heads, weights, status = _build(
                np.ascontiguousarray(indptr, dtype=np.int64),
                np.ascontiguousarray(head, dtype=np.int64),
                np.ascontiguousarray(weight, dtype=np.float64),
                pool,
                queue,
            )
            if status == BUILT:
                break
            pool, queue = (2 * pool, queue) if status == POOL_FULL else (pool, 2 * queue)
        else:
            raise RuntimeError(f"contraction needs more than {pool} arcs or {queue} entries")
        position = (n - 1 - rank).astype(np.int64)
        tail_pos, head_pos = position[tails], position[heads]
        up = head_pos < tail_pos  # toward the top
        down = ~up
        out_indptr, out_to, out_w = _csr(tail_pos[up], head_pos[up], weights[up], n)
        in_indptr, in_to, in_w = _csr(head_pos[down], tail_pos[down], weights[down], n)
        return cls(position, out_indptr, out_to, out_w, in_indptr, in_to, in_w)

    def arrays(self) -> dict[str, npt.NDArray[np.generic]]:
        """The arrays by field name (to save them)."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def to_node(self, seeds: IntArray, seed_costs: FloatArray, nodes: IntArray) -> FloatArray:
        """Shortest cost from each of ``nodes`` to the cheapest seed (seed cost included):
        an upward search backward from the seeds, then a sweep down the forward arcs."""
        dist = _upward_then_sweep(
            self.up_in_indptr, self.up_in_to, self.up_in_w,
            self.up_out_indptr, self.up_out_to, self.up_out_w,
            self.position[seeds], seed_costs,
        )  # fmt: skip
        result: FloatArray = dist[self.position[nodes]]
        return result

    def from_node(self, seeds: IntArray, seed_costs: FloatArray, nodes: IntArray) -> FloatArray:
        """Shortest cost from the seeds (seed cost included) to each of ``nodes``."""
        dist = _upward_then_sweep(
            self.up_out_indptr, self.up_out_to, self.up_out_w,
            self.up_in_indptr, self.up_in_to, self.up_in_w,
            self.position[seeds], seed_costs,
        )  # fmt: skip
        result: FloatArray = dist[self.position[nodes]]
        return result
