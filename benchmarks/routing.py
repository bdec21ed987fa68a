"""Routing latency: travel times from 500 truck positions to one job, beside scipy.

Ours: ``Router.travel_times_to``, the call dispatch makes: an upward search from the job's
snapped point and a sweep over the band's contraction hierarchy (:mod:`geo.ch`), then the
partial edges at both ends of each of the 500 trucks. Peers, measured in the same run on
the same graph (the band's edge times, parallel edges at their cheapest):

- scipy ``csgraph.dijkstra`` from the job's node over the reversed graph, whole network
  and bounded at the promise (``limit=``, the 40 minutes of SERVICE_RULES §2), node to
  node (no partial edges: less work than ours);
- one networkx reverse search (``single_source_dijkstra_path_length`` from the job on the
  reversed graph);
- footnote: 500 separate networkx searches, one per truck (``--naive-jobs``).

Every job's answer is checked against scipy's whole-network search (node to node). Also
timed: the hierarchies' build (once per band, at ``make data``), cold network build and
warm load (network and the five hierarchies from the cache, the router's index).

    python benchmarks/routing.py [--jobs 200] [--trucks 500] [--naive-jobs 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra as scipy_dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _report import median_ms, percentile_ms, print_table, write_json

from geo.ch import Hierarchy
from geo.config import load_rules
from geo.network import RoadNetwork, build_network, default_osm_path, load_network
from geo.router import Router, SnapSet
from optimizer.dispatch.rules import load_business_rules

BAND = "daytime"


def random_places(router: Router, count: int, rng: np.random.Generator) -> list:
    net = router.network
    nodes = rng.integers(net.node_count, size=count)
    lon = net.node_lon[nodes] + rng.uniform(-0.001, 0.001, count)
    lat = net.node_lat[nodes] + rng.uniform(-0.001, 0.001, count)
    return router.snap_many(lon, lat)


def reversed_csr(network: RoadNetwork, weight: np.ndarray) -> csr_array:
    """The reversed graph for scipy: row = an edge's head; parallel edges at their cheapest."""
    tails = np.repeat(np.arange(network.node_count), np.diff(network.indptr))
    rows, cols = network.head, tails
    order = np.lexsort((weight, cols, rows))
    rows, cols, weight = rows[order], cols[order], weight[order]
    first = np.ones(rows.shape[0], dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    n = network.node_count
    return csr_array((weight[first], (rows[first], cols[first])), shape=(n, n))


def reversed_nx(network: RoadNetwork, weight: np.ndarray) -> nx.DiGraph:
    tails = np.repeat(np.arange(network.node_count), np.diff(network.indptr))
    graph = nx.DiGraph()
    for tail, head, w in zip(tails.tolist(), network.head.tolist(), weight.tolist(), strict=True):
        if not graph.has_edge(head, tail) or graph[head][tail]["w"] > w:
            graph.add_edge(head, tail, w=w)
    return graph


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn(*args, **kwargs)
    return time.perf_counter() - start, value


def time_loading(osm_path: Path, rules: dict[str, Any]) -> tuple[float, float, float]:
    """Cold network build, the five bands' hierarchies built, and a warm load (median of 5),
    in seconds."""
    cold_build_s, _ = timed(build_network, osm_path, rules)
    with tempfile.TemporaryDirectory() as cache:
        network = load_network(osm_path, rules=rules, cache_dir=Path(cache))
        build_s, _ = timed(Router(network, hierarchy_dir=Path(cache)).hierarchies.prepare)
        warm = []
        for _ in range(5):
            start = time.perf_counter()
            Router(
                load_network(osm_path, rules=rules, cache_dir=Path(cache)),
                hierarchy_dir=Path(cache),
            ).hierarchies.prepare()
            warm.append(time.perf_counter() - start)
    return cold_build_s, build_s, float(np.median(warm))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--trucks", type=int, default=500)
    parser.add_argument(
        "--naive-jobs", type=int, default=1, help="jobs timed with 500 networkx searches (~1 min)"
    )
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()
    rules = load_rules()
    promise_s = load_business_rules().promise_s
    osm_path = default_osm_path()

    cold_build_s, build_s, warm_load_s = time_loading(osm_path, rules)
    network = load_network(osm_path, rules=rules)
    router = Router(network)
    band_idx = network.band_index(BAND)
    weight = network.travel_s[band_idx]
    one_band_build_s, _ = timed(Hierarchy.build, network.indptr, network.head, weight)
    rng = np.random.default_rng(42)
    trucks = SnapSet.of(random_places(router, args.trucks, rng))
    jobs = random_places(router, args.jobs, rng)
    job_nodes = [int(network.tail[job.edge]) for job in jobs]
    truck_nodes = network.head[trucks.edge]
    graph = reversed_csr(network, weight)

    router.travel_times_to(jobs[0], trucks, band=BAND)  # compile / warm the JIT and the band
    hierarchy = router.hierarchies.get(band_idx)
    ours, scipy_full, scipy_bounded, worst_diff_s = [], [], [], 0.0
    for job, node in zip(jobs, job_nodes, strict=True):
        ours.append(timed(router.travel_times_to, job, trucks, band=BAND)[0])
        seconds, full = timed(scipy_dijkstra, graph, indices=node, return_predecessors=False)
        scipy_full.append(seconds)
        scipy_bounded.append(
            timed(scipy_dijkstra, graph, indices=node, return_predecessors=False, limit=promise_s)[
                0
            ]
        )
        mine = hierarchy.to_node(np.array([node]), np.zeros(1), truck_nodes)
        expected = full[truck_nodes]
        assert np.array_equal(np.isfinite(mine), np.isfinite(expected)), "reachability differs"
        finite = np.isfinite(expected)
        worst_diff_s = max(worst_diff_s, float(np.abs(mine - expected)[finite].max(initial=0.0)))

    reverse = reversed_nx(network, weight)
    nx_one = [
        timed(nx.single_source_dijkstra_path_length, reverse, node, weight="w")[0]
        for node in job_nodes[:20]
    ]
    naive = []
    for node in job_nodes[: args.naive_jobs]:
        start = time.perf_counter()
        for truck in truck_nodes.tolist():
            with contextlib.suppress(nx.NetworkXNoPath):
                nx.shortest_path_length(reverse, node, truck, weight="w")
        naive.append(time.perf_counter() - start)

    result = {
        "trucks": args.trucks,
        "jobs": args.jobs,
        "band": BAND,
        "promise_s": promise_s,
        "many_to_one_ms_median": median_ms(ours),
        "many_to_one_ms_p99": percentile_ms(ours, 99),
        "scipy_full_ms_median": median_ms(scipy_full),
        "scipy_bounded_ms_median": median_ms(scipy_bounded),
        "networkx_one_search_ms_median": median_ms(nx_one),
        "speedup_vs_scipy": median_ms(scipy_bounded) / median_ms(ours),
        "speedup_vs_scipy_full": median_ms(scipy_full) / median_ms(ours),
        "max_abs_diff_vs_scipy_s": worst_diff_s,
        "naive_jobs": len(naive),
        "naive_ms_median": median_ms(naive) if naive else None,
        "hierarchy_build_s_one_band": one_band_build_s,
        "hierarchy_build_s_all_bands": build_s,
        "hierarchy_arcs": int(hierarchy.up_out_to.shape[0] + hierarchy.up_in_to.shape[0]),
        "warm_load_s": warm_load_s,
        "cold_build_s": cold_build_s,
        "nodes": network.node_count,
        "edges": network.edge_count,
    }
    print(
        f"Routing on {result['nodes']} nodes / {result['edges']} edges, band {BAND}: "
        f"{args.trucks} trucks to one job, {args.jobs} jobs"
    )
    print_table(
        [
            ("ours: Router.travel_times_to, median ms", result["many_to_one_ms_median"], ""),
            ("ours, p99 ms", result["many_to_one_ms_p99"], ""),
            (
                "scipy dijkstra bounded at the promise, median ms",
                result["scipy_bounded_ms_median"],
                f"limit={promise_s:.0f} s",
            ),
            ("scipy dijkstra whole network, median ms", result["scipy_full_ms_median"], ""),
            ("networkx one reverse search, median ms", result["networkx_one_search_ms_median"], ""),
            ("speedup vs scipy bounded", result["speedup_vs_scipy"], "target >= 3x"),
            ("largest difference from scipy, s", worst_diff_s, "exact up to float sums"),
            ("hierarchy build, one band s", one_band_build_s, "once, at make data"),
            ("warm load s (network + 5 hierarchies)", warm_load_s, "target < 1 s"),
            ("cold build s (parse + compile)", cold_build_s, ""),
            ("footnote: 500 networkx searches, ms", result["naive_ms_median"], ""),
        ],
        ("figure", "value", "note"),
    )
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
