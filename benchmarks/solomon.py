"""Solve the 56 Solomon VRPTW instances and compare with the best known travel costs.

Usage::

    .venv/bin/python benchmarks/solomon.py [--time-limit 10] [--jobs 2] [--only C101,R201]
        [--instances ../shared/benchmarks/solomon] [--json PATH]

Each solution is checked with :mod:`optimizer.vrp.check`; the gap is the travel cost
(divided by the 1000 scale of :mod:`optimizer.vrp.solomon`) against ``BKS.json``'s
``best_known_cost_travel``, which may use more vehicles than the fewest-vehicle record.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from _report import write_json  # noqa: E402

from optimizer.vrp.check import check  # noqa: E402
from optimizer.vrp.problem import parse_problem  # noqa: E402
from optimizer.vrp.solomon import SCALE, read_solomon  # noqa: E402
from optimizer.vrp.solver import solve  # noqa: E402

DEFAULT_INSTANCES = REPO.parent / "shared" / "benchmarks" / "solomon"
CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")


def instance_class(name: str) -> str:
    """``RC104`` -> ``RC1``: the letters and the first digit."""
    letters = name.rstrip("0123456789")
    return name[: len(letters) + 1]


def solve_instance(path: Path, best_known: float, time_limit_s: float) -> dict[str, Any]:
    """Solve and check one instance; the row of the results table."""
    data = read_solomon(path)
    problem = parse_problem(data)
    started = time.monotonic()
    solution = solve(problem, time_limit_s=time_limit_s)
    solve_s = time.monotonic() - started
    report = check(data, solution)
    cost = solution["summary"]["cost"] / SCALE
    return {
        "instance": path.stem,
        "class": instance_class(path.stem),
        "vehicles": solution["summary"]["routes"],
        "cost": round(cost, 3),
        "bks_travel": best_known,
        "gap_pct": round((cost - best_known) / best_known * 100, 3),
        "feasible": report.feasible,
        "violations": report.violations[:5],
        "unassigned": solution["summary"]["unassigned"],
        "fallback": solution["summary"].get("fallback"),
        "solve_s": round(solve_s, 2),
    }


def run(
    instances_dir: Path, *, time_limit_s: float, jobs: int, only: list[str] | None
) -> dict[str, Any]:
    """Solve the instances (``only`` restricts them) with ``jobs`` processes."""
    best_known = json.loads((instances_dir / "BKS.json").read_text(encoding="utf-8"))
    names = sorted(best_known) if only is None else only
    unknown = [name for name in names if name not in best_known]
    if unknown:
        raise SystemExit(f"unknown instances {unknown}; BKS.json has {len(best_known)}")
    tasks = [
        (instances_dir / f"{name}.txt", best_known[name]["best_known_cost_travel"], time_limit_s)
        for name in names
    ]
    if jobs == 1:
        rows = [solve_instance(*task) for task in tasks]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(solve_instance, *task) for task in tasks]
            rows = [future.result() for future in futures]
    per_class = {
        name: round(statistics.mean(r["gap_pct"] for r in rows if r["class"] == name), 3)
        for name in CLASSES
        if any(r["class"] == name for r in rows)
    }
    return {
        "time_limit_s": time_limit_s,
        "jobs": jobs,
        "instances": rows,
        "mean_gap_pct": round(statistics.mean(r["gap_pct"] for r in rows), 3),
        "mean_gap_pct_per_class": per_class,
        "all_feasible": all(r["feasible"] for r in rows),
        "all_served": all(r["unassigned"] == 0 for r in rows),
    }


def print_table(results: dict[str, Any]) -> None:
    header = (
        f"{'instance':<9}{'vehicles':>9}{'cost':>11}{'BKS travel':>12}{'gap %':>8}"
        f"{'feasible':>10}{'solve s':>9}"
    )
    print(header)
    for row in results["instances"]:
        feasible = "yes" if row["feasible"] and not row["unassigned"] else "NO"
        print(
            f"{row['instance']:<9}{row['vehicles']:>9}{row['cost']:>11.2f}"
            f"{row['bks_travel']:>12.2f}{row['gap_pct']:>8.2f}{feasible:>10}"
            f"{row['solve_s']:>9.2f}"
        )
    print(f"mean gap: {results['mean_gap_pct']:.2f} %")
    for name, gap in results["mean_gap_pct_per_class"].items():
        print(f"  {name:<4} {gap:6.2f} %")
    print(
        f"all feasible: {results['all_feasible']}, every customer served: {results['all_served']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=Path, default=DEFAULT_INSTANCES, metavar="DIR")
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    parser.add_argument("--jobs", type=int, default=2, help="parallel solver processes (>= 1)")
    parser.add_argument("--only", help="comma-separated instance names, e.g. C101,R201")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    only = [name.strip().upper() for name in args.only.split(",")] if args.only else None
    results = run(args.instances, time_limit_s=args.time_limit, jobs=args.jobs, only=only)
    print_table(results)
    write_json(args.json, results)
    return 0 if results["all_feasible"] and results["all_served"] else 1


if __name__ == "__main__":
    sys.exit(main())
