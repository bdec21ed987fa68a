"""Re-planning latency and quality: 100 open calls, 50 trucks, Beijing at 18:00.

Ours: ``optimizer.dispatch.replan`` (duration matrix from geo for the needed locations + OR-Tools,
soft 40-minute promise). Baseline: one-at-a-time assignment (each call, oldest first, to
the truck ``propose`` ranks best), the way calls are handled without re-planning. Both
plans are scored the same way, by the board's own arrival predictions.

    python benchmarks/replan.py [--runs 5] [--calls 100] [--trucks 50] [--time-limit 1.5]
                                [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import print_table, write_json
from _scenarios import add_open_calls, busy_board

from geo.config import load_rules
from geo.places import Geo, load_geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.replan import apply_replan, replan
from optimizer.dispatch.rules import Rules


def scenario(
    geo: Geo, rules: Rules, *, seed: int, trucks: int, calls: int, now_s: float
) -> DispatchBoard:
    rng = np.random.default_rng(seed)
    board = busy_board(geo, rules, trucks=trucks, now_s=now_s, rng=rng)
    add_open_calls(board, calls, now_s=now_s, rng=rng)
    return board


def broken_promises(board: DispatchBoard, job_ids: list[str], *, now_s: float) -> tuple[int, int]:
    """(late, unserved) among ``job_ids`` by the board's predicted arrivals."""
    arrivals: dict[str, float] = {}
    for truck_id in board.trucks:
        arrivals.update(board.plan(truck_id, now_s=now_s).arrivals_s)
    late = sum(1 for j in job_ids if j in arrivals and arrivals[j] > board.jobs[j].deadline_s)
    return late, sum(1 for j in job_ids if j not in arrivals)


def one_at_a_time(board: DispatchBoard, job_ids: list[str], *, now_s: float) -> None:
    for job_id in sorted(job_ids, key=lambda j: board.jobs[j].created_at_s):
        best = board.propose(job_id, now_s=now_s).best
        if best is not None:
            board.assign(job_id, best.truck, now_s=now_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--trucks", type=int, default=50)
    parser.add_argument("--time-limit", type=float, default=1.5)
    parser.add_argument("--at", default="18:00")
    parser.add_argument("--json")
    args = parser.parse_args()
    raw = load_rules()
    rules = Rules.from_toml(raw)
    geo = load_geo(rules=raw)
    now = epoch_at_clock(args.at)

    rows, totals, matrices, ours_late, base_late = [], [], [], [], []
    for run in range(args.runs):
        greedy_board = scenario(
            geo, rules, seed=run, trucks=args.trucks, calls=args.calls, now_s=now
        )
        calls = [j for j in greedy_board.jobs if j.startswith("C")]
        one_at_a_time(greedy_board, calls, now_s=now)
        base = broken_promises(greedy_board, calls, now_s=now)

        board = scenario(geo, rules, seed=run, trucks=args.trucks, calls=args.calls, now_s=now)
        result = replan(board, now_s=now, time_limit_s=args.time_limit)
        apply_replan(board, result.queues, now_s=now)
        ours = broken_promises(board, calls, now_s=now)
        fallback = result.solution["summary"].get("fallback") or "-"
        rows.append(
            (run, result.total_s, result.matrix_s, ours[0], ours[1], base[0], base[1], fallback)
        )
        totals.append(result.total_s)
        matrices.append(result.matrix_s)
        ours_late.append(ours[0] + ours[1])
        base_late.append(base[0] + base[1])

    scenario_text = f"{args.calls} open calls with {args.trucks} trucks at {args.at}"
    print(f"Re-plan {scenario_text} (time limit {args.time_limit} s)")
    print_table(
        rows,
        (
            "run",
            "total s",
            "matrix s",
            "late",
            "unserved",
            "1-by-1 late",
            "1-by-1 unserved",
            "fallback",
        ),
    )
    result_json = {
        "calls": args.calls,
        "trucks": args.trucks,
        "runs": args.runs,
        "replan_s_median": statistics.median(totals),
        "replan_s_max": max(totals),
        "matrix_s_median": statistics.median(matrices),
        "broken_promises_median": statistics.median(ours_late),
        "one_at_a_time_broken_promises_median": statistics.median(base_late),
        "broken_promises_ratio": statistics.median(ours_late)
        / max(1, statistics.median(base_late)),
    }
    print(
        f"median total {result_json['replan_s_median']:.2f} s "
        f"(target <= 2 s, max {result_json['replan_s_max']:.2f} s); "
        f"broken promises median {result_json['broken_promises_median']} vs one-at-a-time "
        f"{result_json['one_at_a_time_broken_promises_median']} "
        f"(ratio {result_json['broken_promises_ratio']:.2f})"
    )
    write_json(args.json, result_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
