"""PDPTW instances paired from Solomon routes (optimizer.vrp.pdptw), Li & Lim style."""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from optimizer.vrp.check import check
from optimizer.vrp.pdptw import answer_from_routes, pdptw_from_routes, routes_of
from optimizer.vrp.problem import ProblemError, parse_problem
from optimizer.vrp.solomon import parse_solomon, read_solomon
from optimizer.vrp.solver import solve

INSTANCES = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "solomon"
needs_instances = pytest.mark.skipif(
    not (INSTANCES / "C101.txt").exists(), reason="Solomon instances not available"
)

# Seven customers on a line east of the depot, wide windows: two routes, of 4 and 3.
SMALL = """SMALL

VEHICLE
NUMBER     CAPACITY
  3          30

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME
    0      0          0          0          0        1000          0
    1      1          0          5          0        1000          1
    2      2          0          6          0        1000          1
    3      3          0          7          0        1000          1
    4      4          0          8          0        1000          1
    5      0          1          3          0        1000          1
    6      0          2          4          0        1000          1
    7      0          3          2          0        1000          1
"""
SMALL_ROUTES = [[1, 2, 3, 4], [5, 6, 7]]


def _small() -> dict[str, Any]:
    return parse_solomon(SMALL)


def _tasks(problem: dict[str, Any]) -> list[tuple[str, int]]:
    tasks = [("job", job["id"]) for job in problem["jobs"]]
    for shipment in problem["shipments"]:
        tasks += [("pickup", shipment["pickup"]["id"]), ("delivery", shipment["delivery"]["id"])]
    return tasks


@pytest.mark.parametrize("seed", range(5))
def test_every_customer_in_one_shipment_or_left_as_a_job(seed: int) -> None:
    problem = pdptw_from_routes(_small(), SMALL_ROUTES, seed)
    customers = sorted(task_id for _, task_id in _tasks(problem))
    assert customers == list(range(1, 8))
    assert len(problem["shipments"]) == 3  # 2 from the route of 4, 1 from the route of 3
    [job] = problem["jobs"]  # the odd one out of the route of 3
    assert job["id"] in SMALL_ROUTES[1]


@pytest.mark.parametrize("seed", range(5))
def test_pickup_precedes_delivery_on_its_source_route(seed: int) -> None:
    problem = pdptw_from_routes(_small(), SMALL_ROUTES, seed)
    for shipment in problem["shipments"]:
        pickup, delivery = shipment["pickup"]["id"], shipment["delivery"]["id"]
        [route] = [route for route in SMALL_ROUTES if pickup in route]
        assert delivery in route
        assert route.index(pickup) < route.index(delivery)


def test_shipments_carry_the_pickup_demand_and_keep_the_customers() -> None:
    vrptw = _small()
    job_of = {job["id"]: job for job in vrptw["jobs"]}
    problem = pdptw_from_routes(vrptw, SMALL_ROUTES, 3)
    for shipment in problem["shipments"]:
        pickup = job_of[shipment["pickup"]["id"]]
        assert shipment["amount"] == pickup["delivery"]
        for half in ("pickup", "delivery"):
            customer = job_of[shipment[half]["id"]]
            for key in ("location_index", "service", "time_windows"):
                assert shipment[half][key] == customer[key]
    assert problem["vehicles"] == vrptw["vehicles"]
    assert problem["matrices"] == vrptw["matrices"]
    for job in problem["jobs"]:
        assert job == job_of[job["id"]]


def test_same_seed_same_instance_and_input_untouched() -> None:
    vrptw = _small()
    before = copy.deepcopy(vrptw)
    first = pdptw_from_routes(vrptw, SMALL_ROUTES, 7)
    assert first == pdptw_from_routes(vrptw, SMALL_ROUTES, 7)
    assert vrptw == before
    pairs = set()
    for seed in range(10):
        shipments = pdptw_from_routes(vrptw, SMALL_ROUTES, seed)["shipments"]
        pairs.add(tuple((s["pickup"]["id"], s["delivery"]["id"]) for s in shipments))
    assert len(pairs) > 1  # the seed matters


def test_even_routes_leave_no_job() -> None:
    problem = pdptw_from_routes(_small(), [[1, 2, 3, 4], [5, 6], [7]], 0)
    assert [job["id"] for job in problem["jobs"]] == [7]
    assert len(problem["shipments"]) == 3


def test_source_routes_are_feasible_and_the_solver_agrees() -> None:
    problem = pdptw_from_routes(_small(), SMALL_ROUTES, 1)
    report = check(problem, answer_from_routes(problem, SMALL_ROUTES))
    assert report.feasible, report.violations
    assert report.served == 7 and report.unassigned == 0
    answer = solve(parse_problem(problem), time_limit_s=1.0)
    ours = check(problem, answer)
    assert ours.feasible, ours.violations
    assert ours.unassigned == 0


def test_reversed_route_breaks_precedence() -> None:
    problem = pdptw_from_routes(_small(), SMALL_ROUTES, 1)
    reversed_routes = [list(reversed(route)) for route in SMALL_ROUTES]
    report = check(problem, answer_from_routes(problem, reversed_routes))
    assert any("before its pickup" in violation for violation in report.violations)


@pytest.mark.parametrize(
    "routes",
    [
        [[1, 2, 3, 4], [5, 6]],  # 7 missing
        [[1, 2, 3, 4], [5, 6, 7, 7]],  # 7 twice
        [[1, 2, 3, 4, 99], [5, 6, 7]],  # no such job
    ],
)
def test_bad_routes_are_refused(routes: list[list[int]]) -> None:
    with pytest.raises(ProblemError, match="routes must list every job exactly once"):
        pdptw_from_routes(_small(), routes, 0)


def test_more_routes_than_vehicles_are_refused() -> None:
    problem = pdptw_from_routes(_small(), [[1], [2], [3], [4, 5, 6, 7]], 0)
    with pytest.raises(ProblemError, match="more routes"):
        answer_from_routes(problem, [[1], [2], [3], [4, 5, 6, 7]])


@needs_instances
@pytest.mark.parametrize("name", ["C101", "R201", "RC105"])
def test_solomon_instance_from_solver_routes_is_feasible(name: str) -> None:
    vrptw = read_solomon(INSTANCES / f"{name}.txt")
    answer = solve(parse_problem(vrptw), time_limit_s=1.0)
    assert check(vrptw, answer).feasible and not answer["unassigned"]
    routes = routes_of(answer)
    problem = pdptw_from_routes(vrptw, routes, 2001)
    assert sorted(task_id for _, task_id in _tasks(problem)) == list(range(1, 101))
    assert len(problem["jobs"]) == sum(len(route) % 2 for route in routes)
    report = check(problem, answer_from_routes(problem, routes))
    assert report.feasible, report.violations
    assert report.travel_cost == check(vrptw, answer).travel_cost


@needs_instances
def test_benchmark_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("vroom")
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "pdptw.py"
    spec = importlib.util.spec_from_file_location("pdptw_benchmark", path)
    assert spec is not None and spec.loader is not None
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    output = tmp_path / "pdptw.json"
    arguments = ["--only", "c101", "--time-limit", "0.5", "--exploration", "1"]
    assert benchmark.main([*arguments, "--threads", "1", "--json", str(output)]) == 0
    results = json.loads(output.read_text())
    [row] = results["instances"]
    assert row["instance"] == "C101"
    assert row["shipments"] * 2 + row["jobs"] == 100
    for side in ("source", "ours", "vroom"):
        assert row[side]["feasible"], row[side]["violations"]
    for key in ("mean_cost_ratio_vs_vroom", "mean_time_s", "vroom_mean_time_s"):
        assert isinstance(results[key], float)
    assert results["all_feasible"] and results["all_served"]
    assert "mean cost ratio" in capsys.readouterr().out
