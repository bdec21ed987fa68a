"""How the batch solver searches: VROOM's plan as the start where VROOM expresses the
problem, and guided local search stopping once it stalls rather than at the deadline."""

from __future__ import annotations

import copy
import time
from pathlib import Path
from typing import Any

from optimizer.vrp import solver as solver_module
from optimizer.vrp.check import check
from optimizer.vrp.problem import parse_problem
from optimizer.vrp.solomon import read_solomon
from optimizer.vrp.solver import Solution, solve, solve_with_greedy
from optimizer.vrp.vroom_start import vroom_can_start, vroom_routes
from tests.test_vrp_solver import dispatch_problem, random_problem

SOLOMON = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "solomon"
# Far beyond what ten tasks need: the search must end on its own, by stalling.
GENEROUS_LIMIT_S = 10.0


def without_promises(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for job in data["jobs"]:
        job.pop("promise", None)
    return data


def checked(data: dict[str, Any], solution: Solution) -> Solution:
    report = check(data, solution)
    assert report.feasible, report.violations
    assert report.unassigned == 0
    return solution


def test_ten_tasks_start_from_vroom_and_stop_on_stall() -> None:
    data = without_promises(random_problem(10, 3, seed=3))
    solution = checked(data, solve(parse_problem(data), time_limit_s=GENEROUS_LIMIT_S))
    search = solution["summary"]["search"]
    assert search["start"] == "vroom"
    assert search["stop"] == "stall"
    assert search["solutions"] > 0


def test_ten_promised_tasks_start_from_heuristics_and_stop_on_stall() -> None:
    data = random_problem(10, 3, seed=3)
    solution = checked(data, solve(parse_problem(data), time_limit_s=GENEROUS_LIMIT_S))
    assert solution["summary"]["search"]["start"] == "heuristics"
    assert solution["summary"]["search"]["stop"] == "stall"


def test_vroom_start_with_shipments_skills_and_windows_passes_the_checker() -> None:
    data = without_promises(random_problem(12, 3, seed=4))
    data["vehicles"][0]["skills"] = [7]
    data["jobs"][0]["skills"] = [7]
    data["jobs"][1]["time_windows"] = [[0, 3000], [9000, 30_000]]
    data["shipments"] = [
        {
            "amount": [1],
            "pickup": {"id": 1, "location_index": 3, "service": 300},
            "delivery": {"id": 1, "location_index": 8, "service": 300},
        }
    ]
    problem = parse_problem(data)
    planned = vroom_routes(problem, exploration_level=5, threads=2, timeout_s=5)
    assert planned is not None
    served = sorted(task for route in planned for task in route)
    assert served == sorted([("job", n) for n in range(1, 13)] + [("pickup", 1), ("delivery", 1)])
    assert all(("job", 1) not in route for route in planned[1:])  # skill 7: vehicle 1 only
    solution = checked(data, solve(problem, time_limit_s=GENEROUS_LIMIT_S))
    assert solution["summary"]["search"]["start"] == "vroom"


def test_vroom_starts_only_problems_without_our_extensions() -> None:
    plain = without_promises(random_problem(5, 2, seed=5))
    assert vroom_can_start(parse_problem(plain))
    promised = random_problem(5, 2, seed=5)
    assert not vroom_can_start(parse_problem(promised))
    assert vroom_can_start(parse_problem({**promised, "lateness_cost_per_s": 0}))
    with_steps = copy.deepcopy(plain)
    with_steps["vehicles"][0]["steps"] = [{"type": "job", "id": 1}]
    assert not vroom_can_start(parse_problem(with_steps))
    # dispatch_problem: promises, pinned steps and a car on board.
    dispatch = dispatch_problem()
    dispatch["lateness_cost_per_s"] = 0
    assert not vroom_can_start(parse_problem(dispatch))
    tow = copy.deepcopy(plain)
    tow["shipments"] = [
        {
            "amount": [1],
            "direct": True,
            "pickup": {"id": 1, "location_index": 1},
            "delivery": {"id": 1, "location_index": 2},
        }
    ]
    assert not vroom_can_start(parse_problem(tow))
    tow["shipments"][0]["direct"] = False
    assert vroom_can_start(parse_problem(tow))


def test_a_budget_of_descent_moves_runs_no_guided_search() -> None:
    data = random_problem(10, 3, seed=3)
    answer, _greedy = solve_with_greedy(
        parse_problem(data), time_limit_s=GENEROUS_LIMIT_S, descent_moves=20
    )
    checked(data, answer)
    search = answer["summary"]["search"]
    assert search == {"start": "heuristics", "stop": "no search", "solutions": 0}


def test_without_the_vroom_start_our_heuristics_start() -> None:
    data = without_promises(random_problem(10, 3, seed=3))
    problem = parse_problem(data)
    solution = checked(data, solve(problem, time_limit_s=GENEROUS_LIMIT_S, vroom_start=False))
    assert solution["summary"]["search"]["start"] == "heuristics"
    assert solution["summary"]["search"]["stop"] == "stall"


def test_a_vroom_start_that_fails_late_leaves_the_search_its_time(monkeypatch: Any) -> None:
    """VROOM used its whole share and gave nothing (an error, or a plan our model refuses):
    our heuristics start within what is left, and guided search still runs before the
    deadline instead of the starts running past it."""

    def spent_and_failed(problem: Any, *, timeout_s: float, **options: Any) -> None:
        time.sleep(timeout_s)

    monkeypatch.setattr(solver_module, "vroom_routes", spent_and_failed)
    data = read_solomon(SOLOMON / "R101.txt")  # 100 customers: the starts take their share
    solution = checked(data, solve(parse_problem(data), time_limit_s=3.0))
    assert solution["summary"]["search"]["start"] == "heuristics"
    assert solution["summary"]["search"]["stop"] in ("stall", "time limit")
