"""Independent feasibility check of a VROOM-format solution.

:func:`check` reads the raw problem JSON itself, not through the solver's parser
(:mod:`optimizer.vrp.problem`), so that a bug there cannot hide a violation; this module
imports nothing from the project. It replays every route of a solution (ours or VROOM's)
on the problem's matrices without any solver code: each route departs at its ``start``
step's ``arrival`` (else the vehicle's window start), waits for time windows, and the
checker compares what it recomputes with what the solution reports.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

_TASK_TYPES = ("job", "pickup", "delivery")
_DEFAULT_PROFILE = "car"

TimeWindow = tuple[int, int]
Amount = tuple[int, ...]
Key = tuple[str, int]
"""A task: (``"job"`` | ``"pickup"`` | ``"delivery"``, its id)."""


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
    change: Amount
    """Load change when served."""
    start_load: Amount
    """Load carried from the start when the task is on the route."""
    pickup_of: Key | None = None
    """For a shipment delivery: its pickup's key."""
    direct_to: Key | None = None
    """For a pickup of a ``direct`` shipment: the delivery that must come next."""


@dataclass(frozen=True)
class _Vehicle:
    id: int
    start_index: int | None
    end_index: int | None
    durations: Sequence[Sequence[int]]
    """``matrices.{profile}.durations`` of the vehicle's profile."""
    capacity: Amount
    skills: frozenset[int]
    time_window: TimeWindow | None
    max_tasks: int | None
    pinned: tuple[Key, ...]
    """The tasks of its ``steps`` marked ``pinned``, in order."""
    on_board: tuple[tuple[Key, Amount], ...]
    """The deliveries (key, amount) it carries from the start."""


@dataclass(frozen=True)
class _Problem:
    tasks: dict[Key, _TaskInfo]
    vehicles: dict[int, _Vehicle]
    amount_size: int


def check(data: Mapping[str, Any], solution: Mapping[str, Any]) -> CheckReport:
    """Check ``solution`` against the problem ``data``; see :class:`CheckReport`.

    Parameters
    ----------
    data
        The VROOM-format problem as loaded from JSON, assumed valid (the solver's
        parser refuses invalid ones).
    solution
        A VROOM-format answer; whatever is missing or wrong in it is a violation.
    """
    report = CheckReport()
    if solution.get("code") != 0:
        report.violations.append(f"solution code is {solution.get('code')!r}, not 0")
        return report
    problem = _read_problem(data)
    replay = _Replay(problem, report)
    served_by: dict[Key, int] = {}
    used: set[int] = set()
    for route in solution.get("routes") or []:
        vehicle = problem.vehicles.get(route.get("vehicle"))
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
    _check_coverage(solution, problem.tasks, served_by, report)
    _check_pinned(problem, solution, report)
    summary_cost = (solution.get("summary") or {}).get("cost")
    if summary_cost is not None and summary_cost != report.travel_cost:
        report.violations.append(
            f"summary cost {summary_cost} differs from the recomputed travel {report.travel_cost}"
        )
    return report


def _read_problem(data: Mapping[str, Any]) -> _Problem:
    """What the checker needs of a raw VROOM-format problem (assumed valid).

    Missing amounts and capacities are zero in every dimension. A shipment is on board
    from the start when it has no ``pickup``, or, as in VROOM, when a vehicle's
    ``steps`` list its delivery but not its pickup (the pickup is done: no longer a task).
    """
    jobs, shipments = data.get("jobs") or [], data.get("shipments") or []
    vehicles = data["vehicles"]
    amounts = [job.get(key) for job in jobs for key in ("delivery", "pickup")]
    amounts += [s.get("amount") for s in shipments] + [v.get("capacity") for v in vehicles]
    size = max((len(amount) for amount in amounts if amount), default=0)
    zero = (0,) * size
    tasks: dict[Key, _TaskInfo] = {}
    for job in jobs:
        unloads, loads = _amount(job.get("delivery"), size), _amount(job.get("pickup"), size)
        change = tuple(p - d for p, d in zip(loads, unloads, strict=True))
        tasks["job", job["id"]] = _task(job, job.get("skills"), change, unloads)
    listed = {(step["type"], step.get("id")) for v in vehicles for step in v.get("steps", [])}
    carried: dict[int, Amount] = {}
    for shipment in shipments:
        amount = _amount(shipment.get("amount"), size)
        pickup, delivery = shipment.get("pickup"), shipment["delivery"]
        done = pickup is not None and ("pickup", pickup["id"]) not in listed
        if done and ("delivery", delivery["id"]) in listed:
            pickup = None  # the pickup is done: the load is on board
        pickup_of: Key | None = None
        if pickup is None:
            carried[delivery["id"]] = amount
        else:
            pickup_of = ("pickup", pickup["id"])
            tasks[pickup_of] = _task(pickup, shipment.get("skills"), amount, zero)
        if pickup_of is not None and shipment.get("direct"):
            tasks[pickup_of] = replace(tasks[pickup_of], direct_to=("delivery", delivery["id"]))
        unload = tuple(-a for a in amount)
        tasks["delivery", delivery["id"]] = _task(
            delivery, shipment.get("skills"), unload, zero, pickup_of
        )
    return _Problem(
        tasks=tasks,
        vehicles={v["id"]: _vehicle(v, data["matrices"], size, carried) for v in vehicles},
        amount_size=size,
    )


def _amount(value: Sequence[int] | None, size: int) -> Amount:
    return tuple(int(a) for a in value) if value else (0,) * size


def _task(
    raw: Mapping[str, Any],
    skills: Sequence[int] | None,
    change: Amount,
    start_load: Amount,
    pickup_of: Key | None = None,
) -> _TaskInfo:
    """A job or shipment pickup / delivery ``raw``; ``skills`` are its own or its
    shipment's."""
    return _TaskInfo(
        location_index=raw["location_index"],
        service_s=raw.get("service") or 0,
        time_windows=tuple((start, end) for start, end in raw.get("time_windows") or ()),
        promise_s=raw.get("promise"),
        skills=frozenset(skills or ()),
        change=change,
        start_load=start_load,
        pickup_of=pickup_of,
    )


def _vehicle(
    raw: Mapping[str, Any], matrices: Mapping[str, Any], size: int, carried: Mapping[int, Amount]
) -> _Vehicle:
    """One vehicle; ``carried`` maps the deliveries on board to their amounts."""
    window = raw.get("time_window")
    steps = [(s["type"], s.get("id"), s.get("pinned", False)) for s in raw.get("steps", [])]
    return _Vehicle(
        id=raw["id"],
        start_index=raw.get("start_index"),
        end_index=raw.get("end_index"),
        durations=matrices[raw.get("profile", _DEFAULT_PROFILE)]["durations"],
        capacity=_amount(raw.get("capacity"), size),
        skills=frozenset(raw.get("skills") or ()),
        time_window=None if window is None else (window[0], window[1]),
        max_tasks=raw.get("max_tasks"),
        pinned=tuple((kind, i) for kind, i, pinned in steps if pinned and i is not None),
        on_board=tuple(
            (("delivery", i), carried[i])
            for kind, i, _ in steps
            if kind == "delivery" and i in carried
        ),
    )


def _route_keys(route: Mapping[str, Any], report: CheckReport) -> list[Key]:
    keys = []
    for step in route.get("steps") or []:
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

    def __init__(self, problem: _Problem, report: CheckReport) -> None:
        self.problem = problem
        self.report = report
        self.tasks = problem.tasks

    @staticmethod
    def leg(vehicle: _Vehicle, origin: int | None, target: int | None) -> int:
        if origin is None or target is None:
            return 0
        return int(vehicle.durations[origin][target])

    def route(self, vehicle: _Vehicle, route: Mapping[str, Any], keys: list[Key]) -> int:
        """Walk one route (times, windows, loads, skills, precedence); return its travel."""
        violations = self.report.violations
        name = f"vehicle {vehicle.id}"
        unknown = [key for key in keys if key not in self.tasks]
        for key in unknown:
            violations.append(f"{name} serves unknown {key[0]} {key[1]}")
        if unknown:
            return 0
        carried = vehicle.on_board
        load = [0] * self.problem.amount_size
        for amount in [amount for _, amount in carried] + [self.tasks[k].start_load for k in keys]:
            load = [a + b for a, b in zip(load, amount, strict=True)]
        _check_load(load, vehicle, f"{name} at start", self.report)
        steps = route.get("steps") or []
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
        vehicle: _Vehicle,
        key: Key,
        step: Mapping[str, Any],
        arrival_s: int,
        before: list[Key],
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
        last = self.tasks[before[-1]] if before and before[-1] in self.tasks else None
        if last is not None and last.direct_to is not None and last.direct_to != key:
            violations.append(f"{what} between {before[-1][0]} {before[-1][1]} and its delivery")


def _departure(
    steps: list[Mapping[str, Any]], vehicle: _Vehicle, name: str, report: CheckReport
) -> int:
    """When the route leaves: its start step's arrival; for a route without a start
    place, its first task's arrival; else the start of the vehicle's window (or 0)."""
    window = vehicle.time_window
    low = 0 if window is None else window[0]
    first = next((step for step in steps if step.get("type") != "end"), None)
    if first is None or first.get("arrival") is None:
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


def _check_load(load: list[int], vehicle: _Vehicle, where: str, report: CheckReport) -> None:
    if any(a < 0 for a in load) or any(a > c for a, c in zip(load, vehicle.capacity, strict=True)):
        report.violations.append(
            f"load {load} at {where} exceeds capacity {list(vehicle.capacity)}"
        )


def _check_coverage(
    solution: Mapping[str, Any],
    tasks: dict[Key, _TaskInfo],
    served_by: dict[Key, int],
    report: CheckReport,
) -> None:
    unassigned = [(u.get("type"), u.get("id")) for u in solution.get("unassigned") or []]
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
    summary = solution.get("summary") or {}
    if "unassigned" in summary and summary["unassigned"] != len(unassigned):
        report.violations.append("summary.unassigned differs from the unassigned list")


def _check_pinned(problem: _Problem, solution: Mapping[str, Any], report: CheckReport) -> None:
    """Pinned tasks stay on their vehicle, in their order."""
    routes = {
        route.get("vehicle"): [
            (s.get("type"), s.get("id"))
            for s in route.get("steps") or []
            if s.get("type") in _TASK_TYPES
        ]
        for route in solution.get("routes") or []
    }
    for vehicle in problem.vehicles.values():
        pinned = vehicle.pinned
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
