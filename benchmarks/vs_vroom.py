"""Solve VROOM-format problems with VROOM (pyvroom) and with our solver, side by side.

Usage::

    .venv/bin/python benchmarks/vs_vroom.py [PROBLEM.json ...] [--solomon C101,R101]
        [--beijing 3] [--instances ../shared/benchmarks/solomon] [--time-limit 10]
        [--exploration 5] [--threads 2] [--json PATH]

``--beijing N`` adds N live dispatch scenarios on the Beijing network (100 open calls, 50
trucks of which a third busy, 18:00), built by :func:`optimizer.dispatch.replan.build_live_problem`
exactly as the live re-plan builds them.

Every answer is checked by :mod:`optimizer.vrp.check`, which also counts its broken
promises. VROOM knows none of our extensions, so :func:`vroom_input` translates them:
``pinned`` steps become a skill only their vehicle has (their order is not enforced),
a load already on board becomes a job with a ``delivery`` amount (loaded at the
start in VROOM's semantics) whose answer steps are mapped back to the delivery, and a
tow's ``direct`` (loaded, the flatbed drives straight to the destination) cannot be
said: VROOM's answers are made to keep it (:func:`keep_tows_direct` moves the tasks
served between a tow's pickup and its delivery after the delivery; ``moved`` counts
them, ``broken_promises_as_answered`` are those of VROOM's answer before the move, which
the checker refuses).

VROOM is run two ways (both beside ours in each row):

``vroom``
    Without the promises (VROOM does not see them; our checker still counts them).
``vroom_promise``
    With each promise as the form VROOM can use, a hard time window ending at it
    (:func:`vroom_input` with ``promise_windows``). Our promise bounds the *arrival*,
    VROOM's window the *start of service*; since service starts at the arrival or, when
    early, at the window's start, "service starts by the promise" is the same as
    "arrives by the promise" for a window ``[start, promise]`` with ``start <= promise``
    (a task without a window gets ``[0, promise]``; its own windows are cut at the
    promise, and kept whole when none starts by it: then it cannot be on time anyway).
    VROOM drops what it cannot serve in a window, so it is solved twice
    (:func:`solve_with_vroom_promises`): pass 1 with the windows, where VROOM serves as
    many tasks by their promise as it can (highest summed priority first, then the most
    tasks; the tasks keep the problem's priorities); the tasks it dropped are counted
    (``dropped``: jobs and pickups, a shipment once) and given back without the promise
    window in pass 2, which starts from pass 1's routes (vehicle ``steps``) and gives the
    tasks kept on time priority 100 (VROOM's maximum), so that no late task displaces
    them. The checker then counts the answer's broken promises and unassigned tasks
    like the others'. VROOM's timeout covers both passes (pass 2 gets what pass 1 left,
    at least ``MIN_SECOND_PASS_S``). A problem without promises
    has the same answer both ways (it is not solved twice).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "benchmarks"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import numpy as np  # noqa: E402
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
from optimizer.vrp.vroom_start import vroom_answer  # noqa: E402
from optimizer.vrp.writer import problem_to_json  # noqa: E402

DEFAULT_INSTANCES = REPO.parent / "shared" / "benchmarks" / "solomon"
PIN_SKILL_BASE = 1_000_000
"""Pinned tasks need skill ``PIN_SKILL_BASE + vehicle position`` in VROOM's input."""
MAX_VROOM_PRIORITY = 100
"""The highest ``priority`` VROOM accepts."""
# VROOM's timeout for the second pass when the first took the whole budget.
MIN_SECOND_PASS_S = 1.0


def vroom_input(
    problem: Problem, *, promise_windows: bool = False
) -> tuple[dict[str, Any], dict[int, int]]:
    """Plain VROOM input for a parsed problem (our extensions translated, see above),
    from the problem's own JSON (:func:`optimizer.vrp.writer.problem_to_json`).

    Parameters
    ----------
    problem
        The problem.
    promise_windows
        Give each task with a promise a time window ending at it (see above), instead
        of dropping the promise.

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
        _translate_promise(job, promise_windows)
    shipments = []
    on_board: dict[int, int] = {}
    job_of_delivery: dict[int, dict[str, Any]] = {}
    next_job_id = max((job["id"] for job in jobs), default=0) + 1
    for shipment in data["shipments"]:
        shipment.pop("direct", None)  # VROOM cannot keep a tow's halves together
        for half in ("pickup", "delivery"):
            if half in shipment:
                _translate_promise(shipment[half], promise_windows)
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


def _translate_promise(task: dict[str, Any], promise_windows: bool) -> None:
    """Drop ``task``'s promise or, with ``promise_windows``, make it a window's end."""
    promise_s = task.pop("promise", None)
    if promise_s is None or not promise_windows:
        return
    windows = task.get("time_windows") or [[0, promise_s]]
    kept = [[start, min(end, promise_s)] for start, end in windows if start <= promise_s]
    if kept:
        task["time_windows"] = kept


def _map_on_board(answer: dict[str, Any], on_board: Mapping[int, int]) -> dict[str, Any]:
    """``answer`` with the jobs standing for loads on board mapped back to deliveries."""
    for item in [step for route in answer["routes"] for step in route["steps"]] + answer[
        "unassigned"
    ]:
        if item.get("type") == "job" and item.get("id") in on_board:
            item["type"], item["id"] = "delivery", on_board[item["id"]]
    return answer


def keep_tows_direct(data: Mapping[str, Any], answer: dict[str, Any]) -> int:
    """Make ``answer`` keep each ``direct`` shipment's halves together, as VROOM cannot:
    the tasks a route serves between such a pickup and its delivery are moved after the
    delivery. A route changed loses its reported times and cost (the checker recomputes
    them from its departure). Returns how many tasks were moved."""
    delivery_of = {
        shipment["pickup"]["id"]: shipment["delivery"]["id"]
        for shipment in data.get("shipments") or []
        if shipment.get("direct") and "pickup" in shipment
    }
    moved = 0
    for route in answer["routes"]:
        steps: list[dict[str, Any]] = route["steps"]
        reordered: list[dict[str, Any]] = []
        placed: set[int] = set()  # ids of the step objects already in ``reordered``
        for position, step in enumerate(steps):
            if id(step) in placed:
                continue
            reordered.append(step)
            if step["type"] == "pickup" and step["id"] in delivery_of:
                wanted = ("delivery", delivery_of[step["id"]])
                later = steps[position + 1 :]
                delivery = next(s for s in later if (s["type"], s.get("id")) == wanted)
                moved += later.index(delivery)
                reordered.append(delivery)
                placed.add(id(delivery))
        if reordered != steps:
            for step in reordered:
                if step["type"] != "start":
                    step.pop("arrival", None)
            route["steps"] = reordered
            route.pop("cost", None)
            answer.get("summary", {}).pop("cost", None)
    return moved


def solve_with_vroom(
    problem: Problem, *, time_limit_s: float, exploration_level: int, threads: int
) -> dict[str, Any]:
    """VROOM's answer to ``problem`` without promises, on-board loads mapped back."""
    vroom_data, on_board = vroom_input(problem)
    answer = vroom_answer(
        vroom_data,
        timeout_s=time_limit_s,
        exploration_level=exploration_level,
        threads=threads,
    )
    return _map_on_board(answer, on_board)


def solve_both(
    problem: Problem, *, time_limit_s: float, exploration_level: int, threads: int
) -> tuple[dict[str, Any], float, dict[str, Any], float]:
    """Our answer and its seconds, then VROOM's (without promises) and its seconds."""
    started = time.monotonic()
    ours = solve(problem, time_limit_s=time_limit_s)
    ours_s = time.monotonic() - started
    started = time.monotonic()
    theirs = solve_with_vroom(
        problem, time_limit_s=time_limit_s, exploration_level=exploration_level, threads=threads
    )
    return ours, ours_s, theirs, time.monotonic() - started


def solve_with_vroom_promises(
    problem: Problem, *, time_limit_s: float, exploration_level: int, threads: int
) -> tuple[dict[str, Any], int]:
    """VROOM's answer to ``problem`` with promise windows, in two passes (see above).

    Returns
    -------
    tuple
        The answer (on-board loads mapped back) and how many tasks pass 1 dropped (jobs
        and pickups: a shipment once).
    """
    started = time.monotonic()
    plain, on_board = vroom_input(problem)
    windowed, _ = vroom_input(problem, promise_windows=True)
    first = vroom_answer(
        windowed,
        timeout_s=time_limit_s,
        exploration_level=exploration_level,
        threads=threads,
    )
    dropped = {(item["type"], item["id"]) for item in first["unassigned"]}
    if not dropped:
        return _map_on_board(first, on_board), 0
    windowed["vehicles"] = _with_steps_of(windowed["vehicles"], first)
    for job, plain_job in zip(windowed["jobs"], plain["jobs"], strict=True):
        _late_or_kept(job, job, plain_job, ("job", job["id"]) in dropped)
    for shipment, plain_shipment in zip(windowed["shipments"], plain["shipments"], strict=True):
        late = ("pickup", shipment["pickup"]["id"]) in dropped
        for half in ("pickup", "delivery"):
            _late_or_kept(shipment, shipment[half], plain_shipment[half], late)
    second = vroom_answer(
        windowed,
        timeout_s=max(time_limit_s - (time.monotonic() - started), MIN_SECOND_PASS_S),
        exploration_level=exploration_level,
        threads=threads,
    )
    dropped_count = sum(kind in ("job", "pickup") for kind, _ in dropped)
    return _map_on_board(second, on_board), dropped_count


def _with_steps_of(vehicles: list[dict[str, Any]], answer: dict[str, Any]) -> list[dict[str, Any]]:
    """``vehicles`` with ``answer``'s routes as their ``steps`` (none when unused)."""
    steps_of = {
        route["vehicle"]: [
            {"type": step["type"], "id": step["id"]}
            for step in route["steps"]
            if step["type"] in ("job", "pickup", "delivery")
        ]
        for route in answer["routes"]
    }
    return [{**vehicle, "steps": steps_of.get(vehicle["id"], [])} for vehicle in vehicles]


def _late_or_kept(
    owner: dict[str, Any], task: dict[str, Any], plain_task: Mapping[str, Any], late: bool
) -> None:
    """Pass 2: a dropped task gets its windows without the promise back; a kept one
    keeps its promise window, and its ``owner`` (job or shipment) priority 100."""
    if not late:
        owner["priority"] = MAX_VROOM_PRIORITY
    elif "time_windows" in plain_task:
        task["time_windows"] = plain_task["time_windows"]
    else:
        task.pop("time_windows", None)


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


def _vroom_outcome(
    data: Mapping[str, Any], answer: dict[str, Any], solve_s: float
) -> dict[str, Any]:
    """:func:`_outcome` of VROOM's answer made to keep tows direct
    (:func:`keep_tows_direct`), with ``moved`` (tasks moved) and
    ``broken_promises_as_answered`` (by VROOM's own answer, before the move)."""
    as_answered = check(data, answer).broken_promises
    moved = keep_tows_direct(data, answer)
    return {
        **_outcome(data, answer, solve_s),
        "moved": moved,
        "broken_promises_as_answered": as_answered,
    }


def compare(
    problem_dicts: dict[str, dict[str, Any]],
    *,
    time_limit_s: float,
    exploration_level: int = 5,
    threads: int = 2,
) -> list[dict[str, Any]]:
    """Solve each named problem with our solver and with VROOM both ways; one row each.

    Each row holds ``name`` and, under ``ours``, ``vroom`` and ``vroom_promise`` (see the
    module docstring): ``cost`` (travel, recomputed), ``routes``, ``unassigned``,
    ``broken_promises``, ``lateness_s``, ``feasible``, ``violations`` (first five) and
    ``solve_s``; ``vroom_promise`` also ``dropped``, the tasks its first pass could not
    serve by their promise; both VROOM sides ``moved`` and ``broken_promises_as_answered``
    (see :func:`keep_tows_direct`). VROOM gets ``time_limit_s`` as its timeout too (both
    passes).
    """
    rows = []
    for name, data in problem_dicts.items():
        problem = parse_problem(data)
        ours, ours_s, theirs, vroom_s = solve_both(
            problem,
            time_limit_s=time_limit_s,
            exploration_level=exploration_level,
            threads=threads,
        )
        row: dict[str, Any] = {
            "name": name,
            "ours": _outcome(data, ours, ours_s),
            "vroom": _vroom_outcome(data, theirs, vroom_s),
        }
        if _has_promises(data):
            started = time.monotonic()
            kept, dropped = solve_with_vroom_promises(
                problem,
                time_limit_s=time_limit_s,
                exploration_level=exploration_level,
                threads=threads,
            )
            row["vroom_promise"] = {
                **_vroom_outcome(data, kept, time.monotonic() - started),
                "dropped": dropped,
            }
        else:  # nothing to give VROOM: the same answer
            row["vroom_promise"] = {**row["vroom"], "dropped": 0}
        rows.append(row)
    return rows


def _has_promises(data: Mapping[str, Any]) -> bool:
    tasks = list(data.get("jobs") or [])
    for shipment in data.get("shipments") or []:
        tasks += [shipment[half] for half in ("pickup", "delivery") if half in shipment]
    return any(task.get("promise") is not None for task in tasks)


SIDES = ("ours", "vroom", "vroom_promise")


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Means over the Beijing rows, per side: ``beijing_{figure}_{side}`` for the
    figures ``broken_promises``, ``lateness_s``, ``unassigned``, ``cost`` and ``solve_s``, plus
    ``beijing_dropped_vroom_promise``, ``beijing_scenarios`` and ``all_feasible`` (every
    answer of every row)."""
    beijing = [row for row in rows if row["name"].startswith("beijing")]
    result: dict[str, Any] = {
        "beijing_scenarios": len(beijing),
        "all_feasible": all(row[side]["feasible"] for row in rows for side in SIDES),
    }
    if beijing:
        for figure in ("broken_promises", "lateness_s", "unassigned", "cost", "solve_s"):
            for side in SIDES:
                values = [row[side][figure] for row in beijing]
                result[f"beijing_{figure}_{side}"] = round(statistics.mean(values), 2)
        result["beijing_dropped_vroom_promise"] = round(
            statistics.mean(row["vroom_promise"]["dropped"] for row in beijing), 2
        )
    return result


def print_rows(rows: list[dict[str, Any]]) -> None:
    print(
        f"{'problem':<14}{'cost ours/vroom/vroom+promise':>30}{'unassigned':>11}"
        f"{'broken':>12}{'dropped':>8}{'feasible':>13}{'solve s':>19}"
    )
    for row in rows:
        sides = [row[side] for side in SIDES]
        costs = "/".join(str(side["cost"]) for side in sides)
        unassigned = "/".join(str(side["unassigned"]) for side in sides)
        broken = "/".join(str(side["broken_promises"]) for side in sides)
        feasible = "/".join("yes" if side["feasible"] else "NO" for side in sides)
        times = "/".join(f"{side['solve_s']:.2f}" for side in sides)
        print(
            f"{row['name']:<14}{costs:>30}{unassigned:>11}{broken:>12}"
            f"{row['vroom_promise']['dropped']:>8}{feasible:>13}{times:>19}"
        )
    print(
        "(triples: ours / VROOM without promises / VROOM with promise windows; broken = "
        "broken promises and unassigned counted by optimizer.vrp.check; dropped = tasks "
        "VROOM's first pass could not serve by their promise, served late in its second)"
    )


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
    results = summary(rows)
    print(", ".join(f"{key} {value}" for key, value in results.items()))
    write_json(
        args.json,
        {
            "time_limit_s": args.time_limit,
            "vroom_exploration": args.exploration,
            "vroom_threads": args.threads,
            **results,
            "rows": rows,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
