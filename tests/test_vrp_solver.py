"""The batch re-planning solver on small hand-made problems (and the `rescue solve` command)."""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest

from optimizer.vrp.check import check
from optimizer.vrp.problem import parse_problem
from optimizer.vrp.solver import Solution, solve, solve_greedy
from rescue import solve_commands

TIME_LIMIT_S = 0.5


def line_matrix(positions_km: list[float]) -> list[list[int]]:
    """Travel times (s) between points on a straight road driven at 60 km/h."""
    return [[round(abs(a - b) * 60) for b in positions_km] for a in positions_km]


def problem_on_line(positions_km: list[float], **parts: Any) -> dict[str, Any]:
    return {**parts, "matrices": {"car": {"durations": line_matrix(positions_km)}}}


def solved(data: dict[str, Any], time_limit_s: float = TIME_LIMIT_S) -> Solution:
    """Solve and insist that the independent checker accepts the answer."""
    problem = parse_problem(data)
    solution = solve(problem, time_limit_s=time_limit_s)
    report = check(data, solution)
    assert report.feasible, report.violations
    assert solution["code"] == 0
    return solution


def tasks_of(solution: Solution) -> dict[int, list[tuple[str, int]]]:
    """Vehicle id -> its tasks (type, id) in order."""
    return {
        route["vehicle"]: [
            (step["type"], step["id"])
            for step in route["steps"]
            if step["type"] not in ("start", "end")
        ]
        for route in solution["routes"]
    }


def test_skills_are_respected() -> None:
    # Vehicle 1 sits next to both jobs, but only vehicle 2 has skill 2 (a flatbed).
    data = problem_on_line(
        [0, 1, 2, 50],
        vehicles=[
            {"id": 1, "start_index": 0, "end_index": 0, "skills": [1]},
            {"id": 2, "start_index": 3, "end_index": 3, "skills": [1, 2]},
        ],
        jobs=[
            {"id": 10, "location_index": 1, "skills": [2]},
            {"id": 11, "location_index": 2, "skills": [1]},
        ],
    )
    routes = tasks_of(solved(data))
    assert ("job", 10) in routes[2]
    assert ("job", 10) not in routes.get(1, [])


def test_shipments_pickup_before_delivery_with_capacity_one() -> None:
    # One flatbed carrying one car at a time; two breakdowns towed to one shop.
    data = problem_on_line(
        [0, 10, 12, 20],
        vehicles=[{"id": 1, "start_index": 0, "end_index": 0, "capacity": [1]}],
        shipments=[
            {
                "amount": [1],
                "pickup": {"id": 1, "location_index": 1, "service": 900},
                "delivery": {"id": 1, "location_index": 3, "service": 600},
            },
            {
                "amount": [1],
                "pickup": {"id": 2, "location_index": 2, "service": 900},
                "delivery": {"id": 2, "location_index": 3, "service": 600},
            },
        ],
    )
    solution = solved(data)
    order = tasks_of(solution)[1]
    assert len(order) == 4
    kinds = [kind for kind, _ in order]
    assert kinds == ["pickup", "delivery", "pickup", "delivery"]
    assert order[0][1] == order[1][1]
    assert max(step["load"][0] for step in solution["routes"][0]["steps"]) == 1


def promise_problem(promise_s: int | None) -> dict[str, Any]:
    # From 0, job 2 (1 km behind) then job 1 (10 km ahead) is the shortest route.
    job_1: dict[str, Any] = {"id": 1, "location_index": 1}
    if promise_s is not None:
        job_1["promise"] = promise_s
    return problem_on_line(
        [0, 10, -1],
        vehicles=[{"id": 1, "start_index": 0}],
        jobs=[job_1, {"id": 2, "location_index": 2}],
    )


def test_shortest_route_without_promise() -> None:
    solution = solved(promise_problem(None))
    assert tasks_of(solution)[1] == [("job", 2), ("job", 1)]
    assert solution["summary"]["cost"] == 12 * 60


def test_a_kept_promise_beats_a_shorter_route() -> None:
    # Job 1 is promised within 10 min: driving there first is longer (21 vs 12 min)
    # but the shorter route would arrive 2 min late.
    solution = solved(promise_problem(600))
    assert tasks_of(solution)[1] == [("job", 1), ("job", 2)]
    assert solution["summary"]["broken_promises"] == 0
    assert solution["summary"]["cost"] == 21 * 60
    steps = solution["routes"][0]["steps"]
    assert all(step.get("late_s", 0) == 0 for step in steps)


def test_broken_promise_is_reported() -> None:
    solution = solved(promise_problem(300))  # 10 min away, promised in 5
    assert solution["summary"]["broken_promises"] == 1
    assert solution["summary"]["lateness_s"] == 300
    job_1 = next(s for s in solution["routes"][0]["steps"] if s.get("id") == 1)
    assert job_1["late_s"] == 300


def test_jobs_are_not_dropped_to_save_lateness() -> None:
    data = problem_on_line(
        [0, 10, -10],
        vehicles=[{"id": 1, "start_index": 0}],
        jobs=[
            {"id": 1, "location_index": 1, "promise": 600},
            {"id": 2, "location_index": 2, "promise": 600},
        ],
    )
    solution = solved(data)
    assert solution["summary"]["unassigned"] == 0
    assert solution["summary"]["broken_promises"] == 1


def test_pinned_step_stays_on_its_vehicle() -> None:
    # Job 1 is next to vehicle 2 but vehicle 1's crew is already on its way.
    vehicles = [
        {"id": 1, "start_index": 0, "steps": [{"type": "job", "id": 1, "pinned": True}]},
        {"id": 2, "start_index": 2},
    ]
    data = problem_on_line([0, 99, 100], vehicles=vehicles, jobs=[{"id": 1, "location_index": 1}])
    assert tasks_of(solved(data)) == {1: [("job", 1)]}
    vehicles[0]["steps"][0]["pinned"] = False  # a mere hint: the search moves it
    assert tasks_of(solved(data)) == {2: [("job", 1)]}


def test_pinned_steps_keep_their_order() -> None:
    data = problem_on_line(
        [0, 1, 2],
        vehicles=[
            {
                "id": 1,
                "start_index": 0,
                "steps": [
                    {"type": "job", "id": 2, "pinned": True},
                    {"type": "job", "id": 1, "pinned": True},
                ],
            }
        ],
        jobs=[{"id": 1, "location_index": 1}, {"id": 2, "location_index": 2}],
    )
    assert tasks_of(solved(data))[1] == [("job", 2), ("job", 1)]


def test_a_car_on_board_is_delivered_first() -> None:
    # The flatbed carries a car to the shop 50 km away; a repair job is 1 km away.
    data = problem_on_line(
        [0, 1, 50],
        vehicles=[
            {
                "id": 1,
                "start_index": 0,
                "capacity": [1],
                "steps": [{"type": "delivery", "id": 7}],
            }
        ],
        jobs=[{"id": 3, "location_index": 1}],
        shipments=[{"amount": [1], "delivery": {"id": 7, "location_index": 2, "service": 600}}],
    )
    solution = solved(data)
    assert tasks_of(solution)[1] == [("delivery", 7), ("job", 3)]
    start = solution["routes"][0]["steps"][0]
    assert start["type"] == "start"
    assert start["load"] == [1]


def test_job_deliveries_are_on_board_from_the_start() -> None:
    # VROOM semantics: job 1's delivery is loaded at the start, so with capacity 1 the
    # nearer pickup (job 2) can only come after it.
    data = problem_on_line(
        [0, 10, 1],
        vehicles=[{"id": 1, "start_index": 0, "end_index": 0, "capacity": [1]}],
        jobs=[
            {"id": 1, "location_index": 1, "delivery": [1]},
            {"id": 2, "location_index": 2, "pickup": [1]},
        ],
    )
    assert tasks_of(solved(data))[1] == [("job", 1), ("job", 2)]


def test_several_time_windows_and_waiting() -> None:
    data = problem_on_line(
        [0, 1, 5],
        vehicles=[{"id": 1, "start_index": 0, "time_window": [0, 10_000]}],
        jobs=[
            {"id": 1, "location_index": 1},
            {"id": 2, "location_index": 2, "time_windows": [[0, 100], [1000, 2000]]},
        ],
    )
    start, first, second = solved(data)["routes"][0]["steps"]
    assert (start["arrival"], first["arrival"], first["waiting_time"]) == (0, 60, 0)
    assert (second["arrival"], second["waiting_time"]) == (300, 700)  # second window


def test_departure_just_in_time_for_the_first_task() -> None:
    data = problem_on_line(
        [0, 5],
        vehicles=[{"id": 1, "start_index": 0, "time_window": [0, 10_000]}],
        jobs=[{"id": 1, "location_index": 1, "time_windows": [[1000, 2000]]}],
    )
    start, job = solved(data)["routes"][0]["steps"]
    assert (start["arrival"], job["arrival"], job["waiting_time"]) == (700, 1000, 0)


def test_open_routes() -> None:
    # Vehicle 1 has no start (it begins at its first task), vehicle 2 no end.
    data = problem_on_line(
        [0, 10, 20, 30],
        vehicles=[
            {"id": 1, "end_index": 0, "time_window": [0, 10_000], "skills": [1]},
            {"id": 2, "start_index": 3, "skills": [2]},
        ],
        jobs=[
            {"id": 1, "location_index": 1, "time_windows": [[3000, 4000]], "skills": [1]},
            {"id": 2, "location_index": 2, "time_windows": [[3000, 4000]], "skills": [2]},
        ],
    )
    solution = solved(data)
    kinds = {r["vehicle"]: [s["type"] for s in r["steps"]] for r in solution["routes"]}
    assert kinds == {1: ["job", "end"], 2: ["start", "job"]}
    first = solution["routes"][0]["steps"][0]
    assert (first["arrival"], first["waiting_time"]) == (3000, 0)  # leaves just in time


def test_unassigned_when_infeasible() -> None:
    data = problem_on_line(
        [0, 100, 1],
        vehicles=[{"id": 1, "start_index": 0, "time_window": [0, 36_000], "skills": [1]}],
        jobs=[
            {"id": 1, "location_index": 1, "time_windows": [[0, 10]]},  # 100 min away
            {"id": 2, "location_index": 2, "skills": [9]},  # nobody has skill 9
            {"id": 3, "location_index": 2},
            {"id": 4, "location_index": 2, "time_windows": [[50_000, 60_000]]},  # after shift
        ],
    )
    solution = solved(data)
    assert solution["summary"]["unassigned"] == 3
    assert sorted(u["id"] for u in solution["unassigned"]) == [1, 2, 4]
    assert {"id": 1, "type": "job", "location_index": 1} in solution["unassigned"]
    assert tasks_of(solution)[1] == [("job", 3)]


def test_max_tasks_and_multi_dimensional_capacity() -> None:
    data = problem_on_line(
        [0, 1, 2, 3],
        vehicles=[
            {"id": 1, "start_index": 0, "capacity": [2, 10], "max_tasks": 1},
            {"id": 2, "start_index": 0, "capacity": [2, 10]},
        ],
        jobs=[
            {"id": 1, "location_index": 1, "delivery": [1, 6]},
            {"id": 2, "location_index": 2, "delivery": [1, 6]},
            {"id": 3, "location_index": 3, "delivery": [1, 1]},
        ],
    )
    solution = solved(data)
    assert solution["summary"]["unassigned"] == 0
    assert len(tasks_of(solution)[1]) == 1


def random_problem(num_jobs: int, num_vehicles: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    points = [(rng.uniform(0, 30), rng.uniform(0, 30)) for _ in range(num_jobs + 1)]
    durations = [
        [round(((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 * 90) for bx, by in points]
        for ax, ay in points
    ]
    jobs = []
    for number in range(1, num_jobs + 1):
        start = rng.randrange(0, 20_000)
        jobs.append(
            {
                "id": number,
                "location_index": number,
                "service": 600,
                "delivery": [1],
                "time_windows": [[start, start + 7200]],
                "promise": start + 2400,
            }
        )
    vehicles = [
        {"id": v, "start_index": 0, "end_index": 0, "capacity": [8], "time_window": [0, 40_000]}
        for v in range(1, num_vehicles + 1)
    ]
    return {"vehicles": vehicles, "jobs": jobs, "matrices": {"car": {"durations": durations}}}


def dispatch_problem() -> dict[str, Any]:
    """Three trucks: one towing a car to the shop, one with a pinned repair job."""
    return problem_on_line(
        [0, 10, 15, 20, 5, 25, -5, -10],
        vehicles=[
            {
                "id": 1,
                "start_index": 0,
                "capacity": [1],
                "skills": [1, 2],
                "time_window": [0, 36_000],
                "steps": [{"type": "delivery", "id": 50}, {"type": "job", "id": 2}],
            },
            {
                "id": 2,
                "start_index": 5,
                "capacity": [1],
                "skills": [1],
                "time_window": [0, 36_000],
                "steps": [{"type": "job", "id": 3, "pinned": True}],
            },
            {"id": 3, "start_index": 6, "capacity": [1], "skills": [1, 2]},
        ],
        jobs=[
            {"id": n, "location_index": n, "service": 1200, "skills": [1], "promise": 1800}
            for n in (1, 2, 3)
        ],
        shipments=[
            {
                "amount": [1],
                "skills": [2],
                "pickup": {"id": 10, "location_index": 4, "service": 900, "promise": 2400},
                "delivery": {"id": 10, "location_index": 7, "service": 600},
            },
            {"amount": [1], "skills": [2], "delivery": {"id": 50, "location_index": 7}},
        ],
    )


def test_dispatch_problem_keeps_work_in_progress() -> None:
    solution = solved(dispatch_problem())
    routes = tasks_of(solution)
    assert routes[1][0] == ("delivery", 50)
    assert ("job", 3) in routes[2]
    assert solution["summary"]["unassigned"] == 0


def test_infeasible_current_routes_are_only_a_hint() -> None:
    data = dispatch_problem()
    data["jobs"][1]["time_windows"] = [[0, 60]]  # job 2 can no longer be reached in time
    solution = solved(data)
    assert [u["id"] for u in solution["unassigned"]] == [2]


def test_greedy_fallback_is_feasible_and_marked() -> None:
    dispatch_data = dispatch_problem()
    dispatch = parse_problem(dispatch_data)
    greedy = solve_greedy(dispatch)
    assert check(dispatch_data, greedy).feasible
    assert tasks_of(greedy)[1][0] == ("delivery", 50)
    assert ("job", 3) in tasks_of(greedy)[2]

    data = random_problem(40, 5, seed=1)
    problem = parse_problem(data)
    for solution in (solve_greedy(problem), solve(problem, time_limit_s=0.001)):
        assert solution["summary"]["fallback"] == "greedy"
        report = check(data, solution)
        assert report.feasible, report.violations
        assert report.served > 0


@pytest.mark.parametrize("time_limit_s", [0.3, 1.5])
def test_time_limit_is_honoured(time_limit_s: float) -> None:
    data = random_problem(80, 8, seed=2)
    problem = parse_problem(data)
    started = time.monotonic()
    solution = solve(problem, time_limit_s=time_limit_s)
    assert time.monotonic() - started <= time_limit_s * 1.1
    assert "fallback" not in solution["summary"]
    assert check(data, solution).feasible


def test_non_positive_time_limit_is_refused() -> None:
    with pytest.raises(ValueError, match="time_limit_s"):
        solve(parse_problem(promise_problem(None)), time_limit_s=0)


# ------------------------------------------------------------------ rescue solve


def run_command(argv: list[str]) -> Any:
    parser = argparse.ArgumentParser()
    solve_commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    args.lang = "zh"  # rescue.cli.main sets the language of the messages
    return args.handler(args)


def test_solve_command(tmp_path: Path) -> None:
    path = tmp_path / "problem.json"
    path.write_text(json.dumps(promise_problem(600)), encoding="utf-8")
    answer = run_command(["solve", str(path), "--time-limit", "0.2"])
    assert answer["code"] == 0
    output = tmp_path / "answer.json"
    assert run_command(["solve", str(path), "--time-limit", "0.2", "--output", str(output)]) is None
    assert json.loads(output.read_text(encoding="utf-8"))["summary"]["broken_promises"] == 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "is not valid JSON"),
        (json.dumps({"vehicles": []}), "the problem has no vehicles"),
    ],
)
def test_solve_command_input_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, message: str
) -> None:
    path = tmp_path / "problem.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as raised:
        run_command(["solve", str(path)])
    assert raised.value.code == 2
    answer = json.loads(capsys.readouterr().out)
    assert answer["code"] == 2
    assert message in answer["error"]
    assert str(path) in answer["error"]
