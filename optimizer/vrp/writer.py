"""A :class:`~optimizer.vrp.problem.Problem` back to its VROOM-format JSON (extensions
included): what a problem built in process looks like to ``rescue solve``, to VROOM and
to the independent checker, which read JSON only."""

from __future__ import annotations

from typing import Any

from optimizer.vrp.problem import Job, Problem, Shipment, ShipmentStep, Vehicle


def problem_to_json(problem: Problem) -> dict[str, Any]:
    """The JSON that :func:`~optimizer.vrp.problem.parse_problem` reads back as ``problem``."""
    data: dict[str, Any] = {
        "vehicles": [_vehicle(vehicle) for vehicle in problem.vehicles],
        "jobs": [_job(job) for job in problem.jobs],
        "shipments": [_shipment(shipment) for shipment in problem.shipments],
        "matrices": {
            profile: _without_none(
                {
                    "durations": matrix.durations_s.tolist(),
                    "distances": None
                    if matrix.distances_m is None
                    else matrix.distances_m.tolist(),
                }
            )
            for profile, matrix in problem.matrices.items()
        },
        "lateness_cost_per_s": problem.lateness_cost_per_s,
    }
    if problem.unassigned_penalty is not None:
        data["unassigned_penalty"] = problem.unassigned_penalty
    return data


def _windows(windows: tuple[tuple[int, int], ...]) -> list[list[int]] | None:
    return [list(w) for w in windows] if windows else None


def _job(job: Job) -> dict[str, Any]:
    return _without_none(
        {
            "id": job.id,
            "location_index": job.location_index,
            "service": job.service_s,
            "delivery": list(job.delivery),
            "pickup": list(job.pickup),
            "skills": sorted(job.skills),
            "priority": job.priority,
            "time_windows": _windows(job.time_windows),
            "promise": job.promise_s,
        }
    )


def _step(step: ShipmentStep) -> dict[str, Any]:
    return _without_none(
        {
            "id": step.id,
            "location_index": step.location_index,
            "service": step.service_s,
            "time_windows": _windows(step.time_windows),
            "promise": step.promise_s,
        }
    )


def _shipment(shipment: Shipment) -> dict[str, Any]:
    return _without_none(
        {
            "amount": list(shipment.amount),
            "skills": sorted(shipment.skills),
            "priority": shipment.priority,
            "direct": shipment.direct or None,
            "pickup": None if shipment.pickup is None else _step(shipment.pickup),
            "delivery": _step(shipment.delivery),
        }
    )


def _vehicle(vehicle: Vehicle) -> dict[str, Any]:
    return _without_none(
        {
            "id": vehicle.id,
            "profile": vehicle.profile,
            "start_index": vehicle.start_index,
            "end_index": vehicle.end_index,
            "capacity": list(vehicle.capacity),
            "skills": sorted(vehicle.skills),
            "time_window": None if vehicle.time_window is None else list(vehicle.time_window),
            "max_tasks": vehicle.max_tasks,
            "steps": [
                _without_none({"type": step.type, "id": step.id, "pinned": step.pinned or None})
                for step in vehicle.steps
            ],
        }
    )


def _without_none(fields: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}
