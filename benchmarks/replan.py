"""Re-planning never leaves the room worse off: 20 seeded Beijing scenarios at 18:00.

Each scenario is a board with work under way (crews en route, a share of the fleet busy)
and calls received in the last 20 minutes, of five kinds (four seeds each):

- ``light``: 40 trucks, 12 undispatched calls;
- ``normal``: 50 trucks, 40 calls, half of them already dispatched one at a time;
- ``overloaded``: 50 trucks, 100 undispatched calls;
- ``tows``: 50 trucks, 50 calls of which most need a flatbed, some flatbeds towing;
- ``pinned``: 50 trucks, 60 calls, all dispatched one at a time, a third of them dragged
  by a dispatcher to another suitable truck (pinned there).

Per run it prints the re-plan's total time (matrix included) and matrix time, and the
broken promises and unserved calls of three plans, each scored by the board's own
arrival predictions after the plan is applied: the re-plan's, the board as it stands
(undispatched calls count as unserved), and one-at-a-time assignment of the
undispatched calls (oldest first, each to the truck ``propose`` ranks best).

    python benchmarks/replan.py [--seeds 4] [--time-limit 1.5] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import print_table, write_json
from _scenarios import add_open_calls, busy_board

from geo.config import load_rules
from geo.places import Geo, load_geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.model import JobState
from optimizer.dispatch.replan import apply_replan, replan
from optimizer.dispatch.rules import Rules

TARGET_TOTAL_S = 2.0


def one_at_a_time(board: DispatchBoard, job_ids: list[str], *, now_s: float) -> None:
    """Each received call, oldest first, to the truck ``propose`` ranks best."""
    for job_id in sorted(job_ids, key=lambda j: board.jobs[j].created_at_s):
        if board.jobs[job_id].state != JobState.RECEIVED:
            continue
        best = board.propose(job_id, now_s=now_s).best
        if best is not None:
            board.assign(job_id, best.truck, now_s=now_s)


def light(geo: Geo, rules: Rules, rng: np.random.Generator, now_s: float) -> DispatchBoard:
    board = busy_board(geo, rules, trucks=40, now_s=now_s, rng=rng)
    add_open_calls(board, 12, now_s=now_s, rng=rng)
    return board


def normal(geo: Geo, rules: Rules, rng: np.random.Generator, now_s: float) -> DispatchBoard:
    board = busy_board(geo, rules, trucks=50, now_s=now_s, rng=rng)
    calls = add_open_calls(board, 40, now_s=now_s, rng=rng)
    one_at_a_time(board, calls[: len(calls) // 2], now_s=now_s)
    return board


def overloaded(geo: Geo, rules: Rules, rng: np.random.Generator, now_s: float) -> DispatchBoard:
    board = busy_board(geo, rules, trucks=50, now_s=now_s, rng=rng)
    add_open_calls(board, 100, now_s=now_s, rng=rng)
    return board


def tows(geo: Geo, rules: Rules, rng: np.random.Generator, now_s: float) -> DispatchBoard:
    board = busy_board(geo, rules, trucks=50, now_s=now_s, rng=rng)
    faults = [f for f, kind in rules.fault_kinds.items() if kind == "flatbed"]
    calls = add_open_calls(board, 50, now_s=now_s, rng=rng, faults=[*faults, "flat_tyre"])
    # A few flatbeds already towing a car: it is delivered first.
    for job_id in calls[:4]:
        best = board.propose(job_id, now_s=now_s).best
        if best is not None and best.kind == "flatbed" and not board.trucks[best.truck].queue:
            board.assign(job_id, best.truck, now_s=now_s)
            for state in ("en_route", "on_scene", "towing"):
                board.advance(job_id, state, now_s=now_s)
    return board


def pinned(geo: Geo, rules: Rules, rng: np.random.Generator, now_s: float) -> DispatchBoard:
    board = busy_board(geo, rules, trucks=50, now_s=now_s, rng=rng)
    calls = add_open_calls(board, 60, now_s=now_s, rng=rng)
    one_at_a_time(board, calls, now_s=now_s)
    for job_id in calls[::3]:
        job = board.jobs[job_id]
        if job.state != JobState.ASSIGNED:
            continue
        others = [
            t.id
            for t in board.trucks.values()
            if t.id != job.truck_id
            and (t.kind == job.required_kind or (t.kind == "flatbed" and rules.flatbed_can_service))
        ]
        board.reassign(job_id, others[int(rng.integers(len(others)))], now_s=now_s)
    return board


SCENARIOS: dict[str, Callable[[Geo, Rules, np.random.Generator, float], DispatchBoard]] = {
    "light": light,
    "normal": normal,
    "overloaded": overloaded,
    "tows": tows,
    "pinned": pinned,
}


def standing(board: DispatchBoard, job_ids: list[str], *, now_s: float) -> tuple[int, int]:
    """(broken promises, unserved) among ``job_ids`` by the board's predicted arrivals."""
    arrivals: dict[str, float] = {}
    for truck_id in board.trucks:
        arrivals.update(board.plan(truck_id, now_s=now_s).arrivals_s)
    open_ids = [j for j in job_ids if board.jobs[j].state in (JobState.RECEIVED, *ARRIVING)]
    late = sum(1 for j in open_ids if j in arrivals and arrivals[j] > board.jobs[j].deadline_s)
    return late, sum(1 for j in open_ids if j not in arrivals)


ARRIVING = (JobState.ASSIGNED, JobState.EN_ROUTE)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4, help="runs per scenario kind")
    parser.add_argument("--time-limit", type=float, default=1.5)
    parser.add_argument("--at", default="18:00")
    parser.add_argument("--json")
    args = parser.parse_args()
    raw = load_rules()
    rules = Rules.from_toml(raw)
    geo = load_geo(rules=raw)
    now = epoch_at_clock(args.at)

    def make(kind: str, seed: int) -> DispatchBoard:
        return SCENARIOS[kind](geo, rules, np.random.default_rng(1000 + seed), now)

    rows: list[tuple[Any, ...]] = []
    runs: list[dict[str, Any]] = []
    for kind in SCENARIOS:
        for seed in range(args.seeds):
            board = make(kind, seed)
            calls = [j for j in board.jobs if j.startswith("C")]
            before = standing(board, calls, now_s=now)
            result = replan(board, now_s=now, time_limit_s=args.time_limit)
            apply_replan(board, result.queues, now_s=now)
            ours = standing(board, calls, now_s=now)
            baseline = make(kind, seed)
            one_at_a_time(baseline, calls, now_s=now)
            one_by_one = standing(baseline, calls, now_s=now)
            run = {
                "kind": kind,
                "seed": seed,
                "total_s": round(result.total_s, 3),
                "matrix_s": round(result.matrix_s, 3),
                "solver_limit_s": round(result.solver_limit_s, 3),
                "improved": result.improved,
                "late": ours[0],
                "unserved": ours[1],
                "board_late": before[0],
                "board_unserved": before[1],
                "one_at_a_time_late": one_by_one[0],
                "one_at_a_time_unserved": one_by_one[1],
            }
            runs.append(run)
            rows.append(
                (
                    f"{kind}-{seed}",
                    run["total_s"],
                    run["matrix_s"],
                    f"{ours[0]}/{ours[1]}",
                    f"{before[0]}/{before[1]}",
                    f"{one_by_one[0]}/{one_by_one[1]}",
                    "yes" if result.improved else "no change",
                )
            )
            print(*rows[-1], flush=True)

    print(f"\nRe-plan at {args.at}, time limit {args.time_limit} s (late/unserved per plan)")
    print_table(
        rows, ("run", "total s", "matrix s", "re-plan", "board", "one-at-a-time", "improved")
    )

    def key(run: dict[str, Any], prefix: str) -> tuple[int, int]:
        return (run[f"{prefix}unserved"], run[f"{prefix}late"])

    result_json = {
        "time_limit_s": args.time_limit,
        "runs": runs,
        "worse_than_board_runs": sum(key(r, "") > key(r, "board_") for r in runs),
        "worse_than_one_at_a_time_runs": sum(key(r, "") > key(r, "one_at_a_time_") for r in runs),
        "unserved_runs": sum(r["unserved"] > r["one_at_a_time_unserved"] for r in runs),
        "broken_median": statistics.median(r["late"] for r in runs),
        "board_broken_median": statistics.median(r["board_late"] for r in runs),
        "one_at_a_time_broken_median": statistics.median(r["one_at_a_time_late"] for r in runs),
        "total_s_max": max(r["total_s"] for r in runs),
        "matrix_s_median": statistics.median(r["matrix_s"] for r in runs),
    }
    print(
        f"worse than the board: {result_json['worse_than_board_runs']} runs; worse than "
        f"one-at-a-time: {result_json['worse_than_one_at_a_time_runs']}; unserved beyond "
        f"one-at-a-time: {result_json['unserved_runs']}; broken median "
        f"{result_json['broken_median']} vs one-at-a-time "
        f"{result_json['one_at_a_time_broken_median']}; max total "
        f"{result_json['total_s_max']:.2f} s (target <= {TARGET_TOTAL_S} s)"
    )
    write_json(args.json, result_json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
