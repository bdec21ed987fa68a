"""Assignment latency: rank 500 trucks for one new job on the Beijing network.

Ours: ``DispatchBoard.propose`` (one backward search from the job to every truck's
free position, ranking, promise status and reason), as the server runs it. Baseline,
measured in the same run: networkx ``shortest_path_length`` from each suitable truck to the
job on osmnx's graph. A third of the trucks are busy with a job under way.

    python benchmarks/assign.py [--trucks 500] [--jobs 500] [--naive-jobs 2] [--json PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import median_ms, percentile_ms, print_table, write_json
from _scenarios import busy_board, make_call, random_places

from geo.config import load_rules
from geo.graph import build_drive_graph, travel_attr
from geo.network import default_osm_path
from geo.places import load_geo
from geo.speeds import SpeedModel
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.rules import Rules


def time_naive(
    board: DispatchBoard, job_ids: list[str], raw: dict[str, Any], *, now_s: float
) -> list[float]:
    """networkx from every suitable truck to each job, on the osmnx graph, same weights."""
    graph, _ = build_drive_graph(
        default_osm_path(),
        speeds=SpeedModel.from_rules(raw),
        drivable_highways=raw["network"]["drivable_highways"],
    )
    weight = travel_attr(board.band_at(now_s))
    net = board.geo.network
    view = board.view(now_s=now_s)
    seconds = []
    for job_id in job_ids:
        job = board.jobs[job_id]
        suitable = view.suitable(
            job.required_kind, flatbed_can_service=board.rules.flatbed_can_service
        )
        target = int(net.node_osm_id[net.tail[job.snap.edge]])
        sources = [int(net.node_osm_id[net.head[e]]) for e in view.free_snaps.edge[suitable]]
        start = time.perf_counter()
        for source in sources:
            with contextlib.suppress(nx.NetworkXNoPath):
                nx.shortest_path_length(graph, source, target, weight=weight)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trucks", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument(
        "--naive-jobs", type=int, default=2, help="jobs timed the naive way (~15 s each)"
    )
    parser.add_argument("--at", default="18:00", help="Beijing clock time (band)")
    parser.add_argument("--json")
    args = parser.parse_args()

    raw = load_rules()
    rules = Rules.from_toml(raw)
    geo = load_geo(rules=raw)
    now = epoch_at_clock(args.at)
    rng = np.random.default_rng(7)
    board = busy_board(geo, rules, trucks=args.trucks, now_s=now, rng=rng)
    start = time.perf_counter()
    board.view(now_s=now)
    view_build_s = time.perf_counter() - start

    intake, job_ids = [], []
    faults = rules.fault_categories
    for i, place in enumerate(random_places(geo, args.jobs, rng)):
        start = time.perf_counter()
        board.register_call(make_call(place, faults[i % len(faults)]), now_s=now, job_id=f"J{i}")
        intake.append(time.perf_counter() - start)
        job_ids.append(f"J{i}")
    board.propose(job_ids[0], now_s=now)  # warm the JIT
    ours = []
    statuses: dict[str, int] = {}
    for job_id in job_ids:
        start = time.perf_counter()
        proposal = board.propose(job_id, now_s=now)
        ours.append(time.perf_counter() - start)
        statuses[proposal.status] = statuses.get(proposal.status, 0) + 1
    naive = time_naive(board, job_ids[: args.naive_jobs], raw, now_s=now)

    result = {
        "trucks": args.trucks,
        "jobs": args.jobs,
        "band": board.band_at(now),
        "assign_ms_median": median_ms(ours),
        "assign_ms_p99": percentile_ms(ours, 99),
        "naive_ms_median": median_ms(naive),
        "naive_jobs": len(naive),
        "speedup": median_ms(naive) / median_ms(ours),
        "intake_ms_median": median_ms(intake),
        "fleet_view_build_ms": view_build_s * 1000,
        "promise_status_counts": statuses,
    }
    print(
        f"Assignment among {args.trucks} trucks ({args.trucks // 3} busy), "
        f"{args.jobs} jobs, band {result['band']}"
    )
    print_table(
        [
            ("assign (ours), median ms", result["assign_ms_median"], "target <= 5 ms"),
            ("assign (ours), p99 ms", result["assign_ms_p99"], "target <= 20 ms"),
            ("naive nx per truck, median ms", result["naive_ms_median"], f"over {len(naive)} jobs"),
            ("speedup (naive / ours)", result["speedup"], ""),
            (
                "intake: place, tow route, quote; median ms",
                result["intake_ms_median"],
                "before ranking",
            ),
            (
                "fleet view build ms (plans of all trucks)",
                result["fleet_view_build_ms"],
                "cold start only",
            ),
        ],
        ("figure", "value", "note"),
    )
    print("promise status of the best truck:", statuses)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
