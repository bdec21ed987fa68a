"""Independent feasibility check of a VROOM-format solution.

:func:`check` replays every route of a solution (ours or VROOM's) on the problem's
matrices without any solver code: each route departs at its ``start`` step's
``arrival`` (else the vehicle's window start), waits for time windows, and the checker
compares what it recomputes with what the solution reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from optimizer.vrp.problem import Problem, TimeWindow, Vehicle

_TASK_TYPES = ("job", "pickup", "delivery")


@dataclass
class CheckReport:
    """What :func:`check` found; ``feasible`` iff ``violations`` is empty."""

    violations: list[str] = field(default_factory=list)
    travel_cost: int = 0
    """Recomputed total travel time (the VROOM cost)."""
    broken_promises: int = 0
    lateness_s: int = 0
    served: int = 0
    unassigned: int = 0

    @property
    def feasible(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class _TaskInfo:
    location_index: int
    service_s: int
    time_windows: tuple[TimeWindow, ...]
    promise_s: int | None
    skills: frozenset[int]
    change: tuple[int, ...]
    """Load change when served."""
    start_load: tuple[int, ...]
    """Load carried from the start when the task is on the route."""
    pickup_of: tuple[str, int] | None = None
    """For a shipment delivery: its pickup's key."""


def check(problem: Problem, solution: Mapping[str, Any]) -> CheckReport:
    """Check ``solution`` against ``problem``; see :class:`CheckReport`."""
    report = CheckReport()
    if solution.get("code") != 0:
        report.violations.append(f"solution code is {solution.get('code')!r}, not 0")
        return report
    replay = _Replay(problem, report)
    vehicles = {vehicle.id: vehicle for vehicle in problem.vehicles}
    served_by: dict[tuple[str, int], int] = {}
    used: set[int] = set()
    for route in solution.get("routes", []):
        vehicle = vehicles.get(route.get("vehicle"))
        if vehicle is None:
            report.violations.append(f"route of unknown vehicle {route.get('vehicle')!r}")
            continue
        if vehicle.id in used:
            report.violations.append(f"vehicle {vehicle.id} has two routes")
        used.add(vehicle.id)
        keys = _route_keys(route, report)
        for key in keys:
            if key in served_by:
                report.violations.append(f"{key[0]} {key[1]} served twice")
            served_by[key] = vehicle.id
        travel = replay.route(vehicle, route, keys)
        report.travel_cost += travel
        if route.get("cost", travel) != travel:
            report.violations.append(
                f"route of vehicle {vehicle.id}: reported cost {route['cost']}, "
                f"recomputed travel {travel}"
            )
    _check_coverage(solution, replay.tasks, served_by, report)
    _check_pinned(problem, solution, report)
    summary_cost = solution.get("summary", {}).get("cost")
    if summary_cost is not None and summary_cost != report.travel_cost:
        report.violations.append(
            f"summary cost {summary_cost} differs from the recomputed travel {report.travel_cost}"
        )
    return report


def _tasks(problem: Problem) -> dict[tuple[str, int], _TaskInfo]:
    zero = (0,) * problem.amount_size
    tasks = {}
    for job in problem.jobs:
        tasks["job", job.id] = _TaskInfo(
            location_index=job.location_index,
            service_s=job.service_s,
            time_windows=job.time_windows,
            promise_s=job.promise_s,
            skills=job.skills,
            change=tuple(p - d for p, d in zip(job.pickup, job.delivery, strict=True)),
            start_load=job.delivery,
        )
    for shipment in problem.shipments:
        pickup = shipment.pickup
        if pickup is not None:
            tasks["pickup", pickup.id] = _TaskInfo(
                location_index=pickup.location_index,
                service_s=pickup.service_s,
                time_windows=pickup.time_windows,
                promise_s=pickup.promise_s,
                skills=shipment.skills,
                change=shipment.amount,
                start_load=zero,
            )
        delivery = shipment.delivery
        tasks["delivery", delivery.id] = _TaskInfo(
            location_index=delivery.location_index,
            service_s=delivery.service_s,
            time_windows=delivery.time_windows,
            promise_s=None,
            skills=shipment.skills,
            change=tuple(-a for a in shipment.amount),
            start_load=zero,
            pickup_of=None if pickup is None else ("pickup", pickup.id),
        )
    return tasks


def _on_board(problem: Problem) -> dict[int, list[tuple[tuple[str, int], tuple[int, ...]]]]:
    """Vehicle id -> the deliveries (key, amount) it carries from the start."""
    without_pickup = {s.delivery.id: s.amount for s in problem.shipments if s.pickup is None}
    carried: dict[int, list[tuple[tuple[str, int], tuple[int, ...]]]] = {}
    for vehicle in problem.vehicles:
        for step in vehicle.steps:
            if step.type == "delivery" and step.id in without_pickup:
                carried.setdefault(vehicle.id, []).append(
                    (("delivery", step.id), without_pickup[step.id])
                )
    return carried


def _route_keys(route: Mapping[str, Any], report: CheckReport) -> list[tuple[str, int]]:
    keys = []
    for step in route.get("steps", []):
        kind = step.get("type")
        if kind in _TASK_TYPES:
            keys.append((kind, step.get("id")))
        elif kind not in ("start", "end"):
            report.violations.append(
                f"route of vehicle {route.get('vehicle')}: unknown step type {kind!r}"
            )
    return keys


class _Replay:
    """Replays routes on the problem's matrices, adding what it finds to a report."""

    def __init__(self, problem: Problem, report: CheckReport) -> None:
        self.problem = problem
        self.report = report
        self.tasks = _tasks(problem)
        self.on_board = _on_board(problem)

    def leg(self, vehicle: Vehicle, origin: int | None, target: int | None) -> int:
        if origin is None or target is None:
            return 0
        return int(self.problem.matrix_of(vehicle).durations_s[origin, target])

    def route(self, vehicle: Vehicle, route: Mapping[str, Any], keys: list[tuple[str, int]]) -> int:
        """Walk one route (times, windows, loads, skills, precedence); return its travel."""
        violations = self.report.violations
        name = f"vehicle {vehicle.id}"
        unknown = [key for key in keys if key not in self.tasks]
        for key in unknown:
            violations.append(f"{name} serves unknown {key[0]} {key[1]}")
        if unknown:
            return 0
        carried = self.on_board.get(vehicle.id, [])
        load = [0] * self.problem.amount_size
        for amount in [amount for _, amount in carried] + [self.tasks[k].start_load for k in keys]:
            load = [a + b for a, b in zip(load, amount, strict=True)]
        _check_load(load, vehicle, f"{name} at start", self.report)
        steps = route.get("steps", [])
        now = _departure(steps, vehicle, name, self.report)
        location = vehicle.start_index
        travel_s = 0
        task_steps = [step for step in steps if step.get("type") in _TASK_TYPES]
        for position, (key, step) in enumerate(zip(keys, task_steps, strict=True)):
            task = self.tasks[key]
            leg = self.leg(vehicle, location, task.location_index)
            travel_s += leg
            now += leg
            self._visit(vehicle, key, step, now, keys[:position])
            load = [a + b for a, b in zip(load, task.change, strict=True)]
            _check_load(load, vehicle, f"{name} after {key[0]} {key[1]}", self.report)
            begin = _earliest_in_windows(task.time_windows, now)
            now = (now if begin is None else begin) + task.service_s
            location = task.location_index
        if keys:
            leg = self.leg(vehicle, location, vehicle.end_index)
            travel_s += leg
            now += leg
        window = vehicle.time_window
        if window is not None and now > window[1]:
            violations.append(f"{name} ends at {now}, after its time window {list(window)}")
        if vehicle.max_tasks is not None and len(keys) > vehicle.max_tasks:
            violations.append(f"{name} serves {len(keys)} tasks, max_tasks {vehicle.max_tasks}")
        for delivery, _ in carried:
            if delivery in keys and keys.index(delivery) >= len(carried):
                violations.append(
                    f"{name} serves other tasks before its on-board delivery {delivery[1]}"
                )
        return travel_s

    def _visit(
        self,
        vehicle: Vehicle,
        key: tuple[str, int],
        step: Mapping[str, Any],
        arrival_s: int,
        before: list[tuple[str, int]],
    ) -> None:
        """Checks at one task reached at ``arrival_s`` after the tasks ``before``."""
        task = self.tasks[key]
        violations = self.report.violations
        what = f"{key[0]} {key[1]}"
        if step.get("location_index", task.location_index) != task.location_index:
            violations.append(f"{what}: reported location_index differs from the problem")
        if step.get("arrival", arrival_s) != arrival_s:
            violations.append(f"{what}: reported arrival {step['arrival']}, recomputed {arrival_s}")
        if task.promise_s is not None and arrival_s > task.promise_s:
            self.report.broken_promises += 1
            self.report.lateness_s += arrival_s - task.promise_s
        if _earliest_in_windows(task.time_windows, arrival_s) is None:
            violations.append(f"{what}: arrival {arrival_s} after its time windows")
        if not task.skills <= vehicle.skills:
            violations.append(
                f"{what} needs skills {sorted(task.skills - vehicle.skills)} "
                f"vehicle {vehicle.id} lacks"
            )
        if task.pickup_of is not None and task.pickup_of not in before:
            violations.append(f"{what} before its pickup on vehicle {vehicle.id}")


def _departure(
    steps: list[Mapping[str, Any]], vehicle: Vehicle, name: str, report: CheckReport
) -> int:
    """When the route leaves: its start step's arrival; for a route without a start
    place, its first task's arrival; else the start of the vehicle's window (or 0)."""
    window = vehicle.time_window
    low = 0 if window is None else window[0]
    first = next((step for step in steps if step.get("type") != "end"), None)
    if first is None or "arrival" not in first:
        return low
    if first.get("type") != "start" and vehicle.start_index is not None:
        return low
    departure = int(first["arrival"])
    if departure < low or (window is not None and departure > window[1]):
        report.violations.append(f"{name} departs at {departure}, outside its time window")
    return departure


def _earliest_in_windows(windows: tuple[TimeWindow, ...], arrival_s: int) -> int | None:
    if not windows:
        return arrival_s
    for start, end in sorted(windows):
        if arrival_s <= end:
            return max(arrival_s, start)
    return None


def _check_load(load: list[int], vehicle: Vehicle, where: str, report: CheckReport) -> None:
    if any(a < 0 for a in load) or any(a > c for a, c in zip(load, vehicle.capacity, strict=True)):
        report.violations.append(
            f"load {load} at {where} exceeds capacity {list(vehicle.capacity)}"
        )


def _check_coverage(
    solution: Mapping[str, Any],
    tasks: dict[tuple[str, int], _TaskInfo],
    served_by: dict[tuple[str, int], int],
    report: CheckReport,
) -> None:
    unassigned = [(u.get("type"), u.get("id")) for u in solution.get("unassigned", [])]
    report.served = len(served_by)
    report.unassigned = len(unassigned)
    for key in unassigned:
        if key not in tasks:
            report.violations.append(f"unknown unassigned task {key[0]} {key[1]}")
        elif key in served_by:
            report.violations.append(f"{key[0]} {key[1]} both served and unassigned")
    if len(set(unassigned)) != len(unassigned):
        report.violations.append("a task is listed twice as unassigned")
    listed = set(unassigned) | set(served_by)
    for key, task in tasks.items():
        if key not in listed:
            report.violations.append(f"{key[0]} {key[1]} neither served nor unassigned")
        if task.pickup_of is not None and task.pickup_of in tasks:
            pickup_vehicle = served_by.get(task.pickup_of)
            if pickup_vehicle != served_by.get(key):
                report.violations.append(
                    f"pickup {task.pickup_of[1]} and delivery {key[1]} not on the same vehicle"
                )
    summary = solution.get("summary", {})
    if "unassigned" in summary and summary["unassigned"] != len(unassigned):
        report.violations.append("summary.unassigned differs from the unassigned list")


def _check_pinned(problem: Problem, solution: Mapping[str, Any], report: CheckReport) -> None:
    """Pinned tasks stay on their vehicle, in their order."""
    routes = {
        route.get("vehicle"): [
            (s.get("type"), s.get("id"))
            for s in route.get("steps", [])
            if s.get("type") in _TASK_TYPES
        ]
        for route in solution.get("routes", [])
    }
    for vehicle in problem.vehicles:
        pinned = [(s.type, s.id) for s in vehicle.steps if s.pinned and s.id is not None]
        served = routes.get(vehicle.id, [])
        for key in pinned:
            for other, keys in routes.items():
                if other != vehicle.id and key in keys:
                    report.violations.append(
                        f"pinned {key[0]} {key[1]} of vehicle {vehicle.id} is on vehicle {other}"
                    )
        kept = [key for key in pinned if key in served]
        if kept != [key for key in served if key in set(kept)]:
            report.violations.append(f"pinned steps of vehicle {vehicle.id} out of order")
