"""Solve the 56 Solomon VRPTW instances with our solver and with VROOM, side by side.

Usage::

    .venv/bin/python benchmarks/solomon.py [--time-limit 10] [--jobs 1] [--only C101,R201]
        [--exploration 5] [--threads 2] [--instances ../shared/benchmarks/solomon]
        [--json PATH]

Each instance is solved by :func:`optimizer.vrp.solver.solve` and then by VROOM
(pyvroom, exploration 5 and 2 threads by default: as a user runs it on this 2-core
machine), each given ``--time-limit`` (VROOM as its timeout). Both answers are checked by
the independent :mod:`optimizer.vrp.check`, which also recomputes the travel cost; the
gap is that cost (divided by the 1000 scale of :mod:`optimizer.vrp.solomon`) against
``BKS.json``'s ``best_known_cost_travel``, which may use more vehicles than the
fewest-vehicle record.

Protocol for fair times: with ``--jobs 1`` (the default, the figure to publish) one
solver runs at a time, so ours and VROOM's 2 threads each have both cores. ``--jobs N``
solves N instances at once (each process running ours then VROOM): quicker, but the
processes compete for the 2 cores and the times are not comparable with VROOM's.

Tuned and held-out halves: within each class (C1, C2, R1, R2, RC1, RC2) the instances
sorted by name alternate, the first (C101, C103, ...) in the half the solver's constants
were tuned on (``tuned``), the second (C102, C104, ...) in the half reported as unseen
(``heldout``). ``mean_gap_heldout`` is the figure to quote.

The ten-task figure (``ten_task_max_s``): the first ten customers of the first instance
of each class, solved with the same time limit; the search must stop on its own well
before it.
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
from vs_vroom import solve_both  # noqa: E402

from optimizer.vrp.check import check  # noqa: E402
from optimizer.vrp.problem import parse_problem  # noqa: E402
from optimizer.vrp.solomon import SCALE, read_solomon  # noqa: E402
from optimizer.vrp.solver import solve  # noqa: E402

DEFAULT_INSTANCES = REPO.parent / "shared" / "benchmarks" / "solomon"
CLASSES = ("C1", "C2", "R1", "R2", "RC1", "RC2")
TEN_TASKS = 10


def instance_class(name: str) -> str:
    """``RC104`` -> ``RC1``: the letters and the first digit."""
    letters = name.rstrip("0123456789")
    return name[: len(letters) + 1]


def halves(names: list[str]) -> dict[str, str]:
    """Instance -> ``tuned`` or ``heldout``: alternate within each class sorted by name."""
    half: dict[str, str] = {}
    for name_class in {instance_class(name) for name in names}:
        members = sorted(name for name in names if instance_class(name) == name_class)
        for position, name in enumerate(members):
            half[name] = "tuned" if position % 2 == 0 else "heldout"
    return half


def _outcome(
    data: dict[str, Any], answer: dict[str, Any], solve_s: float, best_known: float
) -> dict[str, Any]:
    report = check(data, answer)
    cost = report.travel_cost / SCALE
    return {
        "cost": round(cost, 3),
        "gap_pct": round((cost - best_known) / best_known * 100, 3),
        "time_s": round(solve_s, 3),
        "vehicles": len(answer.get("routes", [])),
        "feasible": report.feasible,
        "unassigned": report.unassigned,
        "violations": report.violations[:5],
    }


def solve_instance(
    path: Path, best_known: float, time_limit_s: float, exploration: int, threads: int
) -> dict[str, Any]:
    """Solve and check one instance with ours, then VROOM; the row of the results table."""
    data = read_solomon(path)
    ours, ours_s, theirs, vroom_s = solve_both(
        parse_problem(data),
        time_limit_s=time_limit_s,
        exploration_level=exploration,
        threads=threads,
    )
    return {
        "instance": path.stem,
        "class": instance_class(path.stem),
        "bks_travel": best_known,
        "ours": {
            **_outcome(data, ours, ours_s, best_known),
            "search": ours["summary"].get("search"),
        },
        "vroom": _outcome(data, theirs, vroom_s, best_known),
    }


def ten_task_seconds(path: Path, time_limit_s: float) -> dict[str, Any]:
    """Our time on the first :data:`TEN_TASKS` customers of an instance."""
    data = read_solomon(path)
    data["jobs"] = data["jobs"][:TEN_TASKS]
    started = time.monotonic()
    answer = solve(parse_problem(data), time_limit_s=time_limit_s)
    solve_s = time.monotonic() - started
    return {
        "instance": path.stem,
        "time_s": round(solve_s, 3),
        "feasible": check(data, answer).feasible,
        "search": answer["summary"].get("search"),
    }


def _mean(values: list[float]) -> float | None:
    return round(statistics.mean(values), 3) if values else None


def run(
    instances_dir: Path,
    *,
    time_limit_s: float,
    jobs: int,
    only: list[str] | None,
    exploration: int = 5,
    threads: int = 2,
) -> dict[str, Any]:
    """Solve the instances (``only`` restricts them) with ``jobs`` processes."""
    best_known = json.loads((instances_dir / "BKS.json").read_text(encoding="utf-8"))
    half_of = halves(sorted(best_known))
    names = sorted(best_known) if only is None else only
    unknown = [name for name in names if name not in best_known]
    if unknown:
        raise SystemExit(f"unknown instances {unknown}; BKS.json has {len(best_known)}")
    tasks = [
        (
            instances_dir / f"{name}.txt",
            best_known[name]["best_known_cost_travel"],
            time_limit_s,
            exploration,
            threads,
        )
        for name in names
    ]
    if jobs == 1:
        rows = [solve_instance(*task) for task in tasks]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(solve_instance, *task) for task in tasks]
            rows = [future.result() for future in futures]
    for row in rows:
        row["half"] = half_of[row["instance"]]
    firsts = [min(n for n in best_known if instance_class(n) == c) for c in CLASSES]
    ten_tasks = [ten_task_seconds(instances_dir / f"{name}.txt", time_limit_s) for name in firsts]

    def mean_of(solver: str, key: str, half: str | None = None) -> float | None:
        return _mean([r[solver][key] for r in rows if half in (None, r["half"])])

    ours_time = mean_of("ours", "time_s")
    vroom_time = mean_of("vroom", "time_s")
    return {
        "time_limit_s": time_limit_s,
        "jobs": jobs,
        "vroom_settings": {"exploration": exploration, "threads": threads},
        "split": "alternate instances within each class sorted by name: first tuned",
        "instances": rows,
        "mean_gap_heldout": mean_of("ours", "gap_pct", "heldout"),
        "mean_gap_tuned": mean_of("ours", "gap_pct", "tuned"),
        "mean_gap_pct": mean_of("ours", "gap_pct"),
        "mean_time_s": ours_time,
        "vroom_mean_gap": mean_of("vroom", "gap_pct"),
        "vroom_mean_gap_heldout": mean_of("vroom", "gap_pct", "heldout"),
        "vroom_mean_gap_tuned": mean_of("vroom", "gap_pct", "tuned"),
        "vroom_mean_time_s": vroom_time,
        "time_ratio_vs_vroom": (
            round(ours_time / vroom_time, 3) if ours_time and vroom_time else None
        ),
        "mean_gap_pct_per_class": {
            name: {
                solver: _mean([r[solver]["gap_pct"] for r in rows if r["class"] == name])
                for solver in ("ours", "vroom")
            }
            for name in CLASSES
            if any(r["class"] == name for r in rows)
        },
        "ten_task": ten_tasks,
        "ten_task_max_s": max(t["time_s"] for t in ten_tasks),
        "all_feasible": all(r["ours"]["feasible"] for r in rows)
        and all(t["feasible"] for t in ten_tasks),
        "all_served": all(r["ours"]["unassigned"] == 0 for r in rows),
        "vroom_all_feasible": all(r["vroom"]["feasible"] for r in rows),
        "vroom_all_served": all(r["vroom"]["unassigned"] == 0 for r in rows),
    }


def _ok(outcome: dict[str, Any]) -> str:
    return "yes" if outcome["feasible"] and not outcome["unassigned"] else "NO"


def print_table(results: dict[str, Any]) -> None:
    print(
        f"{'instance':<9}{'half':>8}{'BKS':>10} | {'ours':>10}{'gap %':>7}{'s':>6}{'veh':>4}"
        f"{'ok':>4} | {'VROOM':>10}{'gap %':>7}{'s':>6}{'veh':>4}{'ok':>4}"
    )
    for row in results["instances"]:
        cells = []
        for solver in ("ours", "vroom"):
            o = row[solver]
            cells.append(
                f"{o['cost']:>10.2f}{o['gap_pct']:>7.2f}{o['time_s']:>6.2f}"
                f"{o['vehicles']:>4}{_ok(o):>4}"
            )
        head = f"{row['instance']:<9}{row['half']:>8}{row['bks_travel']:>10.2f} | "
        print(head + " | ".join(cells))
    print(
        f"mean gap: ours {results['mean_gap_pct']} % (held out {results['mean_gap_heldout']} %, "
        f"tuned {results['mean_gap_tuned']} %), VROOM {results['vroom_mean_gap']} % "
        f"(held out {results['vroom_mean_gap_heldout']} %, "
        f"tuned {results['vroom_mean_gap_tuned']} %)"
    )
    print(
        f"mean time: ours {results['mean_time_s']} s, VROOM {results['vroom_mean_time_s']} s "
        f"(ratio {results['time_ratio_vs_vroom']})"
    )
    for name, gaps in results["mean_gap_pct_per_class"].items():
        print(f"  {name:<4} ours {gaps['ours']:6.2f} %   VROOM {gaps['vroom']:6.2f} %")
    print(
        f"ten tasks: at most {results['ten_task_max_s']} s "
        f"({', '.join(str(t['time_s']) for t in results['ten_task'])})"
    )
    print(
        f"all feasible: ours {results['all_feasible']}, VROOM {results['vroom_all_feasible']}; "
        f"every customer served: ours {results['all_served']}, "
        f"VROOM {results['vroom_all_served']}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=Path, default=DEFAULT_INSTANCES, metavar="DIR")
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    parser.add_argument(
        "--jobs", type=int, default=1, help="instances solved at once (>= 1; 1 for fair times)"
    )
    parser.add_argument("--only", help="comma-separated instance names, e.g. C101,R201")
    parser.add_argument("--exploration", type=int, default=5, help="VROOM's exploration level")
    parser.add_argument("--threads", type=int, default=2, help="VROOM's threads")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    only = [name.strip().upper() for name in args.only.split(",")] if args.only else None
    results = run(
        args.instances,
        time_limit_s=args.time_limit,
        jobs=args.jobs,
        only=only,
        exploration=args.exploration,
        threads=args.threads,
    )
    print_table(results)
    write_json(args.json, results)
    return 0 if results["all_feasible"] and results["all_served"] else 1


if __name__ == "__main__":
    sys.exit(main())
