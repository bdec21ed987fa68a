"""VROOM (pyvroom) as a first-solution provider for the OR-Tools search.

VROOM's local search finds good VRPTW plans fast; OR-Tools then improves the plan it
returns under our own objective and constraints. Only problems that VROOM expresses
exactly get a VROOM start (:func:`vroom_can_start`): none of the project's extensions
(promises, pinned or current steps, loads on board, direct shipments), so the plan
VROOM returns is feasible for OR-Tools as it stands. The promise, pinning and on-board
work stay OR-Tools' own.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import vroom

from optimizer.vrp.problem import Problem, TaskKind
from optimizer.vrp.writer import problem_to_json

StartRoutes = list[list[tuple[TaskKind, int]]]
"""Per vehicle, in the problem's vehicle order: its tasks as (kind, id) in route order."""


def vroom_can_start(problem: Problem) -> bool:
    """Whether VROOM expresses ``problem`` exactly: no promise (when lateness costs),
    no vehicle steps, no load on board, no direct shipment."""
    if problem.lateness_cost_per_s > 0:
        promised = [job.promise_s for job in problem.jobs] + [
            shipment.pickup.promise_s
            for shipment in problem.shipments
            if shipment.pickup is not None
        ]
        if any(promise is not None for promise in promised):
            return False
    if any(vehicle.steps for vehicle in problem.vehicles):
        return False
    return not any(s.pickup is None or s.direct for s in problem.shipments)


def vroom_answer(
    data: dict[str, Any], *, exploration_level: int, threads: int, timeout_s: float
) -> dict[str, Any]:
    """VROOM's answer (its JSON output as a dict) to the VROOM input ``data``.

    Raises :class:`RuntimeError` when VROOM refuses the input (pyvroom's C++ errors)."""
    vroom_input = vroom.Input()
    vroom_input._from_json(json.dumps(data), False)  # pyvroom's JSON loader, from a string
    answer: dict[str, Any] = vroom_input.solve(
        exploration_level=exploration_level,
        nb_threads=threads,
        timeout=timedelta(seconds=max(timeout_s, 0.001)),
    ).to_dict()
    return answer


def vroom_routes(
    problem: Problem, *, exploration_level: int, threads: int, timeout_s: float
) -> StartRoutes | None:
    """VROOM's plan for ``problem`` (which :func:`vroom_can_start` accepts), or None
    when VROOM reports an error.

    Parameters
    ----------
    problem
        The problem; its JSON (:func:`~optimizer.vrp.writer.problem_to_json`) without
        the project's top-level keys is VROOM's input.
    exploration_level
        VROOM's exploration level, 1 to 5.
    threads
        Threads VROOM may use.
    timeout_s
        VROOM's own time limit.
    """
    data = problem_to_json(problem)
    for key in ("lateness_cost_per_s", "unassigned_penalty"):
        data.pop(key, None)
    try:
        answer = vroom_answer(
            data, exploration_level=exploration_level, threads=threads, timeout_s=timeout_s
        )
    except RuntimeError:  # pyvroom raises its C++ exceptions as RuntimeError
        return None
    position_of = {vehicle.id: position for position, vehicle in enumerate(problem.vehicles)}
    routes: StartRoutes = [[] for _ in problem.vehicles]
    for route in answer.get("routes", []):
        routes[position_of[route["vehicle"]]] = [
            (step["type"], step["id"])
            for step in route["steps"]
            if step["type"] in ("job", "pickup", "delivery")
        ]
    return routes
