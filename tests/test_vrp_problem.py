"""Parsing of VROOM-format problems: fields, defaults, and input errors naming the object."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from optimizer.vrp.problem import (
    DEFAULT_LATENESS_COST_PER_S,
    ProblemError,
    VehicleStep,
    parse_problem,
)

Mutation = Callable[[dict[str, Any]], None]


def base_problem() -> dict[str, Any]:
    """Three locations, one vehicle, two jobs, one shipment."""
    return {
        "vehicles": [
            {"id": 1, "start_index": 0, "end_index": 0, "capacity": [4], "skills": [1, 2]}
        ],
        "jobs": [
            {"id": 1, "location_index": 1, "service": 60, "delivery": [1], "skills": [1]},
            {"id": 2, "location_index": 2, "time_windows": [[500, 900], [0, 100]]},
        ],
        "shipments": [
            {
                "amount": [1],
                "pickup": {"id": 4, "location_index": 1, "promise": 1200},
                "delivery": {"id": 5, "location_index": 2},
            }
        ],
        "matrices": {"car": {"durations": [[0, 10, 20], [10, 0, 15], [20, 15, 0]]}},
    }


def test_parse_fields_and_defaults() -> None:
    problem = parse_problem(base_problem())
    assert problem.num_locations == 3
    assert problem.amount_size == 1
    assert problem.lateness_cost_per_s == DEFAULT_LATENESS_COST_PER_S
    assert problem.unassigned_penalty is None
    first, second = problem.jobs
    assert (first.id, first.location_index, first.service_s) == (1, 1, 60)
    assert first.delivery == (1,)
    assert first.pickup == (0,)  # padded to the amount size
    assert first.skills == frozenset({1})
    assert second.time_windows == ((0, 100), (500, 900))  # sorted
    shipment = problem.shipments[0]
    assert shipment.pickup is not None
    assert shipment.pickup.promise_s == 1200
    assert not shipment.on_board
    vehicle = problem.vehicles[0]
    assert vehicle.profile == "car"
    assert vehicle.capacity == (4,)
    assert vehicle.time_window is None
    assert problem.matrix_of(vehicle).durations_s.dtype == np.int64


def test_parse_steps_extensions_and_open_routes() -> None:
    data = base_problem()
    data["vehicles"][0].pop("end_index")
    data["shipments"].append({"amount": [2], "delivery": {"id": 6, "location_index": 2}})
    data["vehicles"][0]["steps"] = [
        {"type": "start"},
        {"type": "delivery", "id": 6},
        {"type": "job", "id": 2, "pinned": True},
        {"type": "end"},
    ]
    data["lateness_cost_per_s"] = 7
    data["unassigned_penalty"] = 10**6
    problem = parse_problem(data)
    vehicle = problem.vehicles[0]
    assert vehicle.end_index is None
    assert vehicle.steps[1] == VehicleStep(type="delivery", id=6)
    assert vehicle.steps[2].pinned
    assert problem.shipments[1].on_board
    assert problem.lateness_cost_per_s == 7
    assert problem.unassigned_penalty == 10**6


def test_a_delivery_step_without_its_pickup_step_is_on_board() -> None:
    data = base_problem()
    data["vehicles"][0]["steps"] = [{"type": "delivery", "id": 5}]
    shipment = parse_problem(data).shipments[0]
    assert shipment.on_board
    assert shipment.delivery.id == 5
    data["vehicles"][0]["steps"].insert(0, {"type": "pickup", "id": 4})
    assert not parse_problem(data).shipments[0].on_board


def test_overlapping_time_windows_are_merged() -> None:
    data = base_problem()
    data["jobs"][1]["time_windows"] = [[0, 100], [50, 200], [400, 500]]
    assert parse_problem(data).jobs[1].time_windows == ((0, 200), (400, 500))


def _set(path: tuple[Any, ...], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return mutate


def _drop_matrices_use_coordinates(data: dict[str, Any]) -> None:
    del data["matrices"]
    data["jobs"][0]["location"] = [116.4, 39.9]


def _coordinates_only_job(data: dict[str, Any]) -> None:
    del data["jobs"][0]["location_index"]
    data["jobs"][0]["location"] = [116.4, 39.9]


def _on_board_not_placed(data: dict[str, Any]) -> None:
    del data["shipments"][0]["pickup"]


def _on_board_over_capacity(data: dict[str, Any]) -> None:
    del data["shipments"][0]["pickup"]
    data["shipments"][0]["amount"] = [5]
    data["vehicles"][0]["steps"] = [{"type": "delivery", "id": 5}]


def _two_vehicles_same_step(data: dict[str, Any]) -> None:
    second = copy.deepcopy(data["vehicles"][0])
    second["id"] = 2
    data["vehicles"].append(second)
    for vehicle in data["vehicles"]:
        vehicle["steps"] = [{"type": "job", "id": 2}]


ERRORS: list[tuple[str, Mutation, str]] = [
    (
        "location_index out of range",
        _set(("jobs", 0, "location_index"), 57),
        "invalid location_index 57 for job 1: the matrix has 3 locations",
    ),
    (
        "shipment location out of range",
        _set(("shipments", 0, "pickup", "location_index"), 9),
        "invalid location_index 9 for pickup 4",
    ),
    (
        "vehicle start out of range",
        _set(("vehicles", 0, "start_index"), 3),
        "invalid start_index 3 for vehicle 1",
    ),
    ("coordinates without any matrix", _drop_matrices_use_coordinates, "a matrix is needed: job 1"),
    ("coordinates instead of an index", _coordinates_only_job, "job 1 has coordinates"),
    ("duplicate job id", _set(("jobs", 1, "id"), 1), "duplicate id for job 1"),
    ("job without id", _set(("jobs", 1, "id"), "two"), "job at position 1 has no integer id"),
    (
        "amount size",
        _set(("jobs", 1, "pickup"), [1, 1]),
        "inconsistent pickup length for job 2: 2 instead of 1",
    ),
    ("negative service", _set(("jobs", 0, "service"), -5), "service of job 1"),
    (
        "reversed time window",
        _set(("jobs", 1, "time_windows"), [[900, 500]]),
        "time window of job 2",
    ),
    ("priority", _set(("jobs", 0, "priority"), 101), "priority of job 1"),
    ("skills", _set(("jobs", 0, "skills"), ["a"]), "skills of job 1"),
    ("promise on a delivery", _set(("shipments", 0, "delivery", "promise"), 5), "not delivery 5"),
    ("unsupported setup", _set(("jobs", 0, "setup"), 5), "unsupported key 'setup' on job 1"),
    ("unknown profile", _set(("vehicles", 0, "profile"), "truck"), "vehicle 1 uses profile"),
    (
        "unsupported breaks",
        _set(("vehicles", 0, "breaks"), []),
        "unsupported key 'breaks' on vehicle 1",
    ),
    ("vehicle time window", _set(("vehicles", 0, "time_window"), [5]), "time_window of vehicle 1"),
    ("max_tasks", _set(("vehicles", 0, "max_tasks"), -1), "max_tasks of vehicle 1"),
    (
        "unknown step",
        _set(("vehicles", 0, "steps"), [{"type": "job", "id": 99}]),
        "step 0 of vehicle 1 refers to unknown job 99",
    ),
    (
        "break step",
        _set(("vehicles", 0, "steps"), [{"type": "break", "id": 1}]),
        "step 0 of vehicle 1 has type 'break'",
    ),
    (
        "pinned not boolean",
        _set(("vehicles", 0, "steps"), [{"type": "job", "id": 1, "pinned": "yes"}]),
        "'pinned' of step 0 of vehicle 1",
    ),
    ("task twice in steps", _two_vehicles_same_step, "job 2 appears twice in steps"),
    (
        "delivery before pickup in steps",
        _set(
            ("vehicles", 0, "steps"),
            [{"type": "delivery", "id": 5}, {"type": "pickup", "id": 4}],
        ),
        "delivery 5 comes before its pickup in the steps of vehicle 1",
    ),
    ("on-board load nowhere", _on_board_not_placed, "delivery 5 has no pickup"),
    ("on-board over capacity", _on_board_over_capacity, "vehicle 1 carries [5] on board"),
    (
        "matrix not square",
        _set(("matrices", "car", "durations"), [[0, 1], [1, 0, 2]]),
        "matrices.car.durations must be square",
    ),
    (
        "negative duration",
        _set(("matrices", "car", "durations"), [[0, -1, 0], [0, 0, 0], [0, 0, 0]]),
        "matrices.car.durations must hold non-negative integers",
    ),
    (
        "distances shape",
        _set(("matrices", "car", "distances"), [[0]]),
        "matrices.car.distances is 1x1 but matrices.car.durations is 3x3",
    ),
    ("no vehicles", _set(("vehicles",), []), "the problem has no vehicles"),
    ("jobs not a list", _set(("jobs",), {}), "'jobs' must be an array"),
    ("penalty", _set(("unassigned_penalty",), 0), "unassigned_penalty of the problem"),
]


@pytest.mark.parametrize(
    ("mutate", "message"), [(m, e) for _, m, e in ERRORS], ids=[name for name, _, _ in ERRORS]
)
def test_input_errors_name_the_object(mutate: Mutation, message: str) -> None:
    data = base_problem()
    mutate(data)
    with pytest.raises(ProblemError) as raised:
        parse_problem(data)
    assert message in str(raised.value)


def test_vehicle_without_start_and_end() -> None:
    data = base_problem()
    del data["vehicles"][0]["start_index"]
    del data["vehicles"][0]["end_index"]
    with pytest.raises(ProblemError, match="vehicle 1 needs a start_index or an end_index"):
        parse_problem(data)


def test_pinned_step_needs_the_skills() -> None:
    data = base_problem()
    data["vehicles"][0]["skills"] = [2]
    data["vehicles"][0]["steps"] = [{"type": "job", "id": 1, "pinned": True}]
    with pytest.raises(ProblemError, match=r"vehicle 1 lacks skills \[1\] of job 1"):
        parse_problem(data)


def test_not_an_object() -> None:
    with pytest.raises(ProblemError, match="JSON object"):
        parse_problem([1, 2])


def test_problem_error_is_a_value_error() -> None:
    assert issubclass(ProblemError, ValueError)
