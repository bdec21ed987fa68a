"""Routing latency: travel times from 500 truck positions to one job.

Ours: one backward Dijkstra from the job over the compiled CSR network (numba), with the
partial edges at both ends. Baseline, measured in the same run: the naive way, osmnx's
networkx graph with ``nx.shortest_path_length`` once per truck (node to node).
Also: cold build (parse OSM and compile) and warm load (cached arrays + router index).

    python benchmarks/routing.py [--jobs 200] [--trucks 500] [--naive-jobs 3] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import contextlib

from _report import median_ms, print_table, write_json

from geo.config import load_rules
from geo.graph import build_drive_graph, travel_attr
from geo.network import build_network, default_osm_path, load_network
from geo.router import Router, SnapSet
from geo.speeds import SpeedModel

BAND = "daytime"


def random_places(router: Router, count: int, rng: np.random.Generator) -> list:
    net = router.network
    nodes = rng.integers(net.node_count, size=count)
    lon = net.node_lon[nodes] + rng.uniform(-0.001, 0.001, count)
    lat = net.node_lat[nodes] + rng.uniform(-0.001, 0.001, count)
    return router.snap_many(lon, lat)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--trucks", type=int, default=500)
    parser.add_argument(
        "--naive-jobs", type=int, default=3, help="jobs timed the naive way (each costs ~10 s)"
    )
    parser.add_argument("--json", help="write the figures to this JSON file")
    args = parser.parse_args()
    rules = load_rules()
    osm_path = default_osm_path()

    start = time.perf_counter()
    build_network(osm_path, rules)
    cold_build_s = time.perf_counter() - start

    with tempfile.TemporaryDirectory() as cache:
        load_network(osm_path, rules=rules, cache_dir=Path(cache))  # fill this cache
        warm = []
        for _ in range(5):
            start = time.perf_counter()
            Router(load_network(osm_path, rules=rules, cache_dir=Path(cache)))
            warm.append(time.perf_counter() - start)
    warm_load_s = float(np.median(warm))

    router = Router(load_network(osm_path, rules=rules))
    rng = np.random.default_rng(42)
    trucks = SnapSet.of(random_places(router, args.trucks, rng))
    jobs = random_places(router, args.jobs, rng)
    router.travel_times_to(jobs[0], trucks, band=BAND)  # compile / warm the JIT
    ours = []
    for job in jobs:
        start = time.perf_counter()
        router.travel_times_to(job, trucks, band=BAND)
        ours.append(time.perf_counter() - start)

    graph, _ = build_drive_graph(
        osm_path,
        speeds=SpeedModel.from_rules(rules),
        drivable_highways=rules["network"]["drivable_highways"],
    )
    osm_id = router.network.node_osm_id
    truck_nodes = [int(osm_id[router.network.head[e]]) for e in trucks.edge]
    naive = []
    for job in jobs[: args.naive_jobs]:
        target = int(osm_id[router.network.tail[job.edge]])
        start = time.perf_counter()
        for node in truck_nodes:
            with contextlib.suppress(nx.NetworkXNoPath):
                nx.shortest_path_length(graph, node, target, weight=travel_attr(BAND))
        naive.append(time.perf_counter() - start)

    result = {
        "trucks": args.trucks,
        "jobs": args.jobs,
        "naive_jobs": len(naive),
        "many_to_one_ms_median": median_ms(ours),
        "many_to_one_ms_p99": float(np.percentile(ours, 99) * 1000),
        "naive_ms_median": median_ms(naive),
        "speedup": median_ms(naive) / median_ms(ours),
        "warm_load_s": warm_load_s,
        "cold_build_s": cold_build_s,
        "nodes": router.network.node_count,
        "edges": router.network.edge_count,
    }
    print(
        f"Routing on {result['nodes']} nodes / {result['edges']} edges, band {BAND}: "
        f"{args.trucks} trucks to one job"
    )
    print_table(
        [
            (
                "many-to-one (ours), median ms",
                result["many_to_one_ms_median"],
                f"over {args.jobs} jobs",
            ),
            ("many-to-one (ours), p99 ms", result["many_to_one_ms_p99"], ""),
            ("naive nx per truck, median ms", result["naive_ms_median"], f"over {len(naive)} jobs"),
            ("speedup (naive / ours)", result["speedup"], "target >= 100x"),
            ("warm load s (cache + router)", warm_load_s, "target < 1 s"),
            ("cold build s (parse + compile)", cold_build_s, ""),
        ],
        ("figure", "value", "note"),
    )
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
