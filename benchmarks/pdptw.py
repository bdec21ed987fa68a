"""Pickup and delivery with time windows: our solver and VROOM on instances paired from Solomon's.

Usage::

    .venv/bin/python benchmarks/pdptw.py [--only C101,R201 | --all] [--time-limit 10]
        [--seed 2001] [--source vroom|ours] [--exploration 5] [--threads 2]
        [--instances ../shared/benchmarks/solomon] [--json benchmarks/results/pdptw.json]

Tows are pickups and deliveries, so the re-planning solver is measured on them too. Each
instance is generated as Li & Lim (2001) did (:mod:`optimizer.vrp.pdptw`, where the pairing
is described exactly):

1. the Solomon instance (:func:`optimizer.vrp.solomon.read_solomon`) is solved as a VRPTW
   by VROOM 1.15.2 (pyvroom; exploration level and threads as given, no time limit), which
   is deterministic and takes a few seconds (``--source ours``: by our solver within
   ``--time-limit`` instead, which is not deterministic; the instances then differ, and
   VROOM no longer meets routes of its own making: a check that the default does not
   favour it);
2. within each route of that solution the customers are paired at random with
   ``numpy.random.default_rng(seed)`` (default seed 2001), the earlier visit becoming the
   pickup and the later the delivery of a shipment of the pickup's demand; a route with an
   odd number of customers leaves one of them as a plain job.

The VRPTW routes stay a feasible solution of the generated instance (their cost is shown
as ``source``: an upper bound). Our solver (``solve(parse_problem(data), time_limit_s=...)``,
which starts from VROOM's plan here: the instance has none of our extensions), VROOM (the
same shipments, ``--time-limit`` as its timeout) and our solver with the VROOM start off
(``ortools_alone``: OR-Tools' own starts and search, the path every live re-plan with
promises takes) then solve it, one after the other, and :func:`optimizer.vrp.check.check`
checks every answer: pickup before
delivery on the same vehicle, capacities, time windows. Costs are travel times (Solomon
distances x 1000, as in ``benchmarks/solomon.py``).

By default 12 instances, two per Solomon class (X01 and X05 of C1, C2, R1, R2, RC1, RC2):
all 56 take about 15 minutes at 10 s each; ``--all`` runs them, ``--only`` picks others.
Generated instances are not kept.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from _report import write_json  # noqa: E402
from vs_vroom import solve_both, solve_with_vroom  # noqa: E402

from optimizer.vrp.check import check  # noqa: E402
from optimizer.vrp.pdptw import answer_from_routes, pdptw_from_routes, routes_of  # noqa: E402
from optimizer.vrp.problem import parse_problem  # noqa: E402
from optimizer.vrp.solomon import read_solomon  # noqa: E402
from optimizer.vrp.solver import solve  # noqa: E402

DEFAULT_INSTANCES = REPO.parent / "shared" / "benchmarks" / "solomon"
DEFAULT_ONLY = "C101,C105,C201,C205,R101,R105,R201,R205,RC101,RC105,RC201,RC205"
DEFAULT_SEED = 2001
# VROOM's timeout for the source VRPTW: far above what it needs (a few seconds), so that
# the source routes, hence the instance, do not depend on the machine's speed.
SOURCE_TIMEOUT_S = 600.0


def _side(data: dict[str, Any], answer: dict[str, Any], solve_s: float | None) -> dict[str, Any]:
    report = check(data, answer)
    return {
        "cost": report.travel_cost,
        "vehicles": len(answer.get("routes") or []),
        "unassigned": report.unassigned,
        "feasible": report.feasible,
        "violations": report.violations[:5],
        "solve_s": None if solve_s is None else round(solve_s, 2),
    }


def source_routes(
    vrptw: dict[str, Any], source: str, *, time_limit_s: float, exploration_level: int, threads: int
) -> list[list[int]]:
    """The VRPTW routes to pair along: VROOM's (``source == "vroom"``) or our solver's."""
    if source == "vroom":
        answer = solve_with_vroom(
            parse_problem(vrptw),
            time_limit_s=SOURCE_TIMEOUT_S,
            exploration_level=exploration_level,
            threads=threads,
        )
    else:
        answer = solve(parse_problem(vrptw), time_limit_s=time_limit_s)
    return routes_of(answer)


def run_instance(
    path: Path,
    *,
    seed: int,
    source: str,
    time_limit_s: float,
    exploration_level: int,
    threads: int,
) -> dict[str, Any]:
    """Generate one PDPTW instance from the Solomon file ``path`` and solve it both ways."""
    vrptw = read_solomon(path)
    routes = source_routes(
        vrptw,
        source,
        time_limit_s=time_limit_s,
        exploration_level=exploration_level,
        threads=threads,
    )
    data = pdptw_from_routes(vrptw, routes, seed)
    problem = parse_problem(data)
    ours, ours_s, theirs, vroom_s = solve_both(
        problem,
        time_limit_s=time_limit_s,
        exploration_level=exploration_level,
        threads=threads,
    )
    started = time.monotonic()
    alone = solve(problem, time_limit_s=time_limit_s, vroom_start=False)
    alone_s = time.monotonic() - started
    row: dict[str, Any] = {
        "instance": path.stem.upper(),
        "shipments": len(data["shipments"]),
        "jobs": len(data["jobs"]),
        "source": _side(data, answer_from_routes(data, routes), None),
        "ours": _side(data, ours, ours_s),
        "vroom": _side(data, theirs, vroom_s),
        "ortools_alone": _side(data, alone, alone_s),
    }
    row["cost_ratio_vs_vroom"] = round(row["ours"]["cost"] / row["vroom"]["cost"], 4)
    row["ortools_alone_cost_ratio_vs_vroom"] = round(
        row["ortools_alone"]["cost"] / row["vroom"]["cost"], 4
    )
    return row


def run(
    instances_dir: Path,
    names: list[str],
    *,
    seed: int,
    source: str,
    time_limit_s: float,
    exploration_level: int,
    threads: int,
) -> dict[str, Any]:
    """All the rows and their means (see :func:`run_instance`)."""
    rows = []
    for name in names:
        rows.append(
            run_instance(
                instances_dir / f"{name}.txt",
                seed=seed,
                source=source,
                time_limit_s=time_limit_s,
                exploration_level=exploration_level,
                threads=threads,
            )
        )
        print_row(rows[-1], flush=True)
    sides = ("source", "ours", "vroom", "ortools_alone")
    return {
        "time_limit_s": time_limit_s,
        "seed": seed,
        "source": source,
        "vroom_exploration": exploration_level,
        "vroom_threads": threads,
        "instances": rows,
        "mean_cost_ratio_vs_vroom": round(
            statistics.mean(row["cost_ratio_vs_vroom"] for row in rows), 4
        ),
        "mean_time_s": round(statistics.mean(row["ours"]["solve_s"] for row in rows), 2),
        "ortools_alone_mean_cost_ratio_vs_vroom": round(
            statistics.mean(row["ortools_alone_cost_ratio_vs_vroom"] for row in rows), 4
        ),
        "ortools_alone_mean_time_s": round(
            statistics.mean(row["ortools_alone"]["solve_s"] for row in rows), 2
        ),
        "vroom_mean_time_s": round(statistics.mean(row["vroom"]["solve_s"] for row in rows), 2),
        "mean_vehicles": round(statistics.mean(row["ours"]["vehicles"] for row in rows), 2),
        "vroom_mean_vehicles": round(statistics.mean(row["vroom"]["vehicles"] for row in rows), 2),
        "all_feasible": all(row[side]["feasible"] for row in rows for side in sides),
        "all_served": all(row[side]["unassigned"] == 0 for row in rows for side in sides),
    }


HEADER = (
    f"{'instance':<9}{'ship':>5}{'job':>4}{'source':>10}{'cost ours':>11}{'cost vroom':>11}"
    f"{'ratio':>7}{'vehicles':>10}{'unassigned':>11}{'feasible':>10}{'solve s':>13}"
)


def print_row(row: dict[str, Any], *, flush: bool = False) -> None:
    ours, theirs = row["ours"], row["vroom"]
    feasible = "/".join("yes" if side["feasible"] else "NO" for side in (ours, theirs))
    print(
        f"{row['instance']:<9}{row['shipments']:>5}{row['jobs']:>4}{row['source']['cost']:>10}"
        f"{ours['cost']:>11}{theirs['cost']:>11}{row['cost_ratio_vs_vroom']:>7.3f}"
        f"{ours['vehicles']:>5}/{theirs['vehicles']:<4}{ours['unassigned']:>6}/"
        f"{theirs['unassigned']:<4}{feasible:>10}{ours['solve_s']:>7.2f}/{theirs['solve_s']:<5.2f}",
        flush=flush,
    )


def print_summary(results: dict[str, Any]) -> None:
    print("(pairs: ours/vroom; source = the VRPTW routes the instance was paired along)")
    print(
        f"mean cost ratio ours/VROOM: {results['mean_cost_ratio_vs_vroom']:.4f}; "
        f"mean solve time {results['mean_time_s']:.2f} s, "
        f"VROOM {results['vroom_mean_time_s']:.2f} s; "
        f"vehicles {results['mean_vehicles']:.2f}, VROOM {results['vroom_mean_vehicles']:.2f}"
    )
    print(
        "OR-Tools alone (no VROOM start, the path of every live re-plan): mean cost ratio "
        f"{results['ortools_alone_mean_cost_ratio_vs_vroom']:.4f}, "
        f"mean solve time {results['ortools_alone_mean_time_s']:.2f} s"
    )
    print(f"all feasible: {results['all_feasible']}, every task served: {results['all_served']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    chosen = parser.add_mutually_exclusive_group()
    chosen.add_argument("--only", default=DEFAULT_ONLY, help="comma-separated Solomon names")
    chosen.add_argument("--all", action="store_true", help="all instances of --instances")
    parser.add_argument("--instances", type=Path, default=DEFAULT_INSTANCES, metavar="DIR")
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed of the pairing")
    parser.add_argument(
        "--source",
        choices=("vroom", "ours"),
        default="vroom",
        help="whose VRPTW routes the customers are paired along",
    )
    parser.add_argument("--exploration", type=int, default=5, help="VROOM exploration level")
    parser.add_argument("--threads", type=int, default=2, help="VROOM threads")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)
    if args.all:
        names = sorted(path.stem.upper() for path in args.instances.glob("*.txt"))
    else:
        names = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    missing = [name for name in names if not (args.instances / f"{name}.txt").exists()]
    if not names or missing:
        parser.error(f"no instance files for {missing or '--only'} in {args.instances}")
    print(HEADER, flush=True)
    results = run(
        args.instances,
        names,
        seed=args.seed,
        source=args.source,
        time_limit_s=args.time_limit,
        exploration_level=args.exploration,
        threads=args.threads,
    )
    print_summary(results)
    write_json(args.json, results)
    return 0 if results["all_feasible"] and results["all_served"] else 1


if __name__ == "__main__":
    sys.exit(main())
