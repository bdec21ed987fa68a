"""Solve VROOM-format problems with VROOM (pyvroom) and with our solver, side by side.

Usage::

    .venv/bin/python benchmarks/vs_vroom.py [PROBLEM.json ...] [--solomon C101,R101]
        [--beijing 3] [--instances ../shared/benchmarks/solomon] [--time-limit 10]
        [--exploration 5] [--threads 2] [--json PATH]

``--beijing N`` adds N live dispatch scenarios on the Beijing network (100 open calls, 50
trucks of which a third busy, 18:00), built by :func:`optimizer.dispatch.replan.build_live_problem`
exactly as the live re-plan builds them.

Both answers are checked by :mod:`optimizer.vrp.check`, which also counts the broken
promises of each. VROOM knows none of our extensions, so :func:`vroom_input` translates
them: ``promise`` is dropped (VROOM does not see it, our checker still counts it),
``pinned`` steps become a skill only their vehicle has (their order is not enforced),
and a load already on board becomes a job with a ``delivery`` amount (loaded at the
start in VROOM's semantics) whose answer steps are mapped back to the delivery.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import numpy as np  # noqa: E402
import vroom  # noqa: E402
from _report import write_json  # noqa: E402
from _scenarios import add_open_calls, busy_board  # noqa: E402

from geo.places import load_geo  # noqa: E402
from optimizer.dispatch.clock import epoch_at_clock  # noqa: E402
from optimizer.dispatch.replan import build_live_problem  # noqa: E402
from optimizer.dispatch.rules import load_business_rules  # noqa: E402
from optimizer.vrp.check import check  # noqa: E402
from optimizer.vrp.problem import Problem, parse_problem  # noqa: E402
from optimizer.vrp.solomon import read_solomon  # noqa: E402
from optimizer.vrp.solver import solve  # noqa: E402
from optimizer.vrp.writer import problem_to_json  # noqa: E402

DEFAULT_INSTANCES = REPO.parent / "shared" / "benchmarks" / "solomon"
PIN_SKILL_BASE = 1_000_000
"""Pinned tasks need skill ``PIN_SKILL_BASE + vehicle position`` in VROOM's input."""


def vroom_input(problem: Problem) -> tuple[dict[str, Any], dict[int, int]]:
    """Plain VROOM input for a parsed problem (our extensions translated, see above),
    from the problem's own JSON (:func:`optimizer.vrp.writer.problem_to_json`).

    Returns
    -------
    tuple
        The VROOM input and, for each load on board, VROOM job id -> delivery id.
    """
    data = problem_to_json(problem)
    for key in ("lateness_cost_per_s", "unassigned_penalty"):
        data.pop(key, None)
    jobs: list[dict[str, Any]] = data["jobs"]
    for job in jobs:
        job.pop("promise", None)
    shipments = []
    on_board: dict[int, int] = {}
    job_of_delivery: dict[int, dict[str, Any]] = {}
    next_job_id = max((job["id"] for job in jobs), default=0) + 1
    for shipment in data["shipments"]:
        shipment.pop("direct", None)  # VROOM cannot keep a tow's halves together
        for half in ("pickup", "delivery"):
            if half in shipment:
                shipment[half].pop("promise", None)
        if "pickup" not in shipment:  # a load on board: a job delivering it from the start
            delivery = shipment["delivery"]
            job = {
                **delivery,
                "skills": shipment.get("skills", []),
                "priority": shipment.get("priority", 0),
                "id": next_job_id,
                "delivery": shipment.get("amount", []),
            }
            jobs.append(job)
            on_board[next_job_id] = delivery["id"]
            job_of_delivery[delivery["id"]] = job
            next_job_id += 1
        else:
            shipments.append(shipment)
    data["shipments"] = shipments
    skills_of = {("job", job["id"]): job for job in jobs}
    for shipment in shipments:
        skills_of["pickup", shipment["pickup"]["id"]] = shipment
        skills_of["delivery", shipment["delivery"]["id"]] = shipment
    for position, vehicle in enumerate(data["vehicles"]):
        skills = set(vehicle.get("skills", []))
        steps = []
        for step in vehicle.get("steps", []):
            kind, task_id, pinned = step["type"], step.get("id"), step.get("pinned", False)
            if kind == "delivery" and task_id in job_of_delivery:
                kind, task_id, pinned = "job", job_of_delivery[task_id]["id"], True
            steps.append({"type": kind} if task_id is None else {"type": kind, "id": task_id})
            if pinned and task_id is not None:
                skill = PIN_SKILL_BASE + position
                skills.add(skill)
                owner = skills_of[kind, task_id]
                owner["skills"] = sorted({*owner.get("skills", []), skill})
        vehicle["skills"] = sorted(skills)
        vehicle["steps"] = steps
    return data, on_board


def solve_with_vroom(
    problem: Problem, *, time_limit_s: float, exploration_level: int, threads: int
) -> dict[str, Any]:
    """VROOM's answer to ``problem``, with on-board loads mapped back to deliveries."""
    vroom_data, on_board = vroom_input(problem)
    problem = vroom.Input()
    problem._from_json(json.dumps(vroom_data), False)  # pyvroom's JSON loader, from a string
    answer = problem.solve(
        exploration_level=exploration_level,
        nb_threads=threads,
        timeout=timedelta(seconds=time_limit_s),
    ).to_dict()
    for item in [step for route in answer["routes"] for step in route["steps"]] + answer[
        "unassigned"
    ]:
        if item.get("type") == "job" and item.get("id") in on_board:
            item["type"], item["id"] = "delivery", on_board[item["id"]]
    return answer


def _outcome(data: Mapping[str, Any], answer: Mapping[str, Any], solve_s: float) -> dict[str, Any]:
    report = check(data, answer)
    return {
        "cost": report.travel_cost,
        "routes": len(answer.get("routes", [])),
        "unassigned": report.unassigned,
        "broken_promises": report.broken_promises,
        "lateness_s": report.lateness_s,
        "feasible": report.feasible,
        "violations": report.violations[:5],
        "solve_s": round(solve_s, 2),
    }


def compare(
    problem_dicts: dict[str, dict[str, Any]],
    *,
    time_limit_s: float,
    exploration_level: int = 5,
    threads: int = 2,
) -> list[dict[str, Any]]:
    """Solve each named problem with our solver and with VROOM; one row per problem.

    Each row holds ``name`` and, under ``ours`` and ``vroom``: ``cost`` (travel,
    recomputed), ``routes``, ``unassigned``, ``broken_promises``, ``lateness_s``,
    ``feasible``, ``violations`` (first five) and ``solve_s``. VROOM gets
    ``time_limit_s`` as its timeout too.
    """
    rows = []
    for name, data in problem_dicts.items():
        problem = parse_problem(data)
        started = time.monotonic()
        ours = solve(problem, time_limit_s=time_limit_s)
        ours_s = time.monotonic() - started
        started = time.monotonic()
        theirs = solve_with_vroom(
            problem, time_limit_s=time_limit_s, exploration_level=exploration_level, threads=threads
        )
        vroom_s = time.monotonic() - started
        rows.append(
            {
                "name": name,
                "ours": _outcome(data, ours, ours_s),
                "vroom": _outcome(data, theirs, vroom_s),
            }
        )
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'problem':<16}{'cost ours':>12}{'cost vroom':>12}{'diff %':>8}"
        f"{'unassigned':>12}{'broken':>9}{'feasible':>10}{'solve s':>13}"
    )
    for row in rows:
        ours, theirs = row["ours"], row["vroom"]
        diff = (ours["cost"] - theirs["cost"]) / theirs["cost"] * 100 if theirs["cost"] else 0.0
        feasible = "/".join("yes" if side["feasible"] else "NO" for side in (ours, theirs))
        print(
            f"{row['name']:<16}{ours['cost']:>12}{theirs['cost']:>12}{diff:>8.2f}"
            f"{ours['unassigned']:>6}/{theirs['unassigned']:<5}"
            f"{ours['broken_promises']:>4}/{theirs['broken_promises']:<4}{feasible:>10}"
            f"{ours['solve_s']:>7.2f}/{theirs['solve_s']:<5.2f}"
        )
    print("(pairs: ours/vroom; broken = broken promises, counted by optimizer.vrp.check)")


def beijing_problems(
    count: int, *, calls: int = 100, trucks: int = 50
) -> dict[str, dict[str, Any]]:
    """``count`` seeded live dispatch problems on the Beijing network at 18:00."""
    if count <= 0:
        return {}
    geo, rules = load_geo(), load_business_rules()
    now_s = epoch_at_clock("18:00")
    problems = {}
    for seed in range(count):
        rng = np.random.default_rng(seed)
        board = busy_board(geo, rules, trucks=trucks, now_s=now_s, rng=rng)
        add_open_calls(board, calls, now_s=now_s, rng=rng)
        problems[f"beijing-{seed}"] = problem_to_json(
            build_live_problem(board, now_s=now_s).problem
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("problems", nargs="*", type=Path, metavar="PROBLEM.json")
    parser.add_argument("--solomon", help="Solomon instances to include, e.g. C101,R101")
    parser.add_argument(
        "--beijing",
        type=int,
        default=0,
        metavar="N",
        help="Beijing dispatch scenarios (100 calls, 50 trucks, 18:00)",
    )
    parser.add_argument("--instances", type=Path, default=DEFAULT_INSTANCES, metavar="DIR")
    parser.add_argument("--time-limit", type=float, default=10.0, metavar="S")
    parser.add_argument("--exploration", type=int, default=5, help="VROOM exploration level")
    parser.add_argument("--threads", type=int, default=2, help="VROOM threads")
    parser.add_argument("--json", type=Path, metavar="PATH", help="write the rows here")
    args = parser.parse_args(argv)
    problems: dict[str, dict[str, Any]] = {}
    for path in args.problems:
        problems[path.stem] = json.loads(path.read_text(encoding="utf-8"))
    for name in (args.solomon or "").split(","):
        if name.strip():
            problems[name.strip().upper()] = read_solomon(
                args.instances / f"{name.strip().upper()}.txt"
            )
    problems.update(beijing_problems(args.beijing))
    if not problems:
        parser.error("give PROBLEM.json files, --solomon NAMES or --beijing N")
    rows = compare(
        problems,
        time_limit_s=args.time_limit,
        exploration_level=args.exploration,
        threads=args.threads,
    )
    print_rows(rows)
    if args.json is not None:
        write_json(args.json, {"time_limit_s": args.time_limit, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
