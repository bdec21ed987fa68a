"""Batch re-planning: solve a VROOM-format problem with OR-Tools routing.

:func:`solve` builds one routing node per task (job, shipment pickup, shipment
delivery) plus a start and an end node per vehicle. The objective is, in this order of
magnitude:

1. tasks left unassigned (``unassigned_penalty`` each, times ``1 + priority``);
2. lateness past promises (``lateness_cost_per_s`` per second late);
3. travel time (the VROOM ``cost``; the whole objective when there are no promises,
   as in the Solomon benchmark).

Hard constraints: time windows (several per task), vehicle time windows, capacities in
every amount dimension (VROOM semantics: job deliveries are on board from the start),
skills, ``max_tasks``, pickup before delivery on the same vehicle, pinned steps on
their vehicle in their order, loads already on board delivered first.

Search, within a wall-clock budget that includes building the model: when VROOM
expresses the problem exactly (none of our extensions, :mod:`optimizer.vrp.vroom_start`),
VROOM's plan is the start; otherwise the vehicles' current routes (their ``steps``) and
six first-solution heuristics are each taken to a local optimum (at most a quarter of
the budget, usually far less). Guided local search then improves the start until it
stalls (no better plan in many solutions and for a while, :class:`_StallStop`) or the
budget runs out. When no solution is found in time, a greedy plan is returned instead
(``summary.fallback == "greedy"``). ``summary.search`` tells where the search started
(``vroom``, ``heuristics``), why it stopped (``stall``, ``time limit``, ``no search``)
and how many solutions guided local search went through.

The answer follows VROOM's output format, with the extensions ``late_s`` per task step
and ``broken_promises`` / ``lateness_s`` in the summary and per route.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from optimizer.vrp.problem import (
    MAX_PRIORITY,
    Problem,
    TaskKind,
    TimeWindow,
    Vehicle,
)
from optimizer.vrp.vroom_start import StartRoutes, vroom_can_start, vroom_routes

Solution = dict[str, Any]
"""A VROOM-format answer: ``code``, ``summary``, ``unassigned``, ``routes``."""

# Part of the budget kept for building the answer once the search stops.
_ANSWER_RESERVE_FRACTION = 0.03
_ANSWER_RESERVE_S = 0.02
# First-solution heuristics tried (each followed by a descent to a local optimum), and
# the share of the search time they may take in all; they usually need far less.
_FIRST_SOLUTION_STRATEGIES = (
    "PARALLEL_CHEAPEST_INSERTION",
    "LOCAL_CHEAPEST_INSERTION",
    "SEQUENTIAL_CHEAPEST_INSERTION",
    "SAVINGS",
    "PARALLEL_SAVINGS",
    "PATH_CHEAPEST_ARC",
)
_STARTS_SHARE = 0.25
# VROOM as the start where it expresses the problem: as a user runs it on this 2-core
# machine (exploration 5 of 5, 2 threads), within this share of the budget; guided local
# search then polishes its plan (tuned on half of the Solomon instances).
_VROOM_EXPLORATION = 5
_VROOM_THREADS = 2
_VROOM_SHARE = 0.9
# Guided local search stops when its best plan has not improved for this many
# solutions and for at least this fraction of the time the whole solve took to find
# that plan (tuned on half of the Solomon instances: later gains are rare and small).
_STALL_SOLUTIONS = 10
_STALL_TIME_RATIO = 0.5
# OptionalBoolean.BOOL_FALSE of OR-Tools' search parameters.
_BOOL_FALSE = 2
# Cap on the unassigned penalty so that sums over all tasks stay far from int64 limits.
_MAX_PENALTY = 10**14


@dataclass(frozen=True)
class _Task:
    """One routing node: a job or one half of a shipment."""

    kind: TaskKind
    id: int
    location_index: int
    service_s: int
    time_windows: tuple[TimeWindow, ...]
    promise_s: int | None
    delta: tuple[int, ...]
    """Load change when the task is served."""
    initial: tuple[int, ...]
    """Load on board from the start when the task is on the route (job deliveries)."""
    skills: frozenset[int]
    priority: int
    partner: int | None = None
    """Task index of the other half of a shipment."""
    on_board_of: int | None = None
    """Position of the vehicle carrying this delivery from the start."""
    direct: bool = False
    """A pickup whose delivery must come next."""


@dataclass
class _Instance:
    """The problem flattened into tasks, with everything the searches share."""

    problem: Problem
    tasks: list[_Task]
    allowed: list[list[int]]
    """Vehicle positions that may serve each task."""
    pinned: dict[int, int]
    """Task -> vehicle position, for pinned and on-board tasks."""
    ordered: list[list[int]]
    """Per vehicle: on-board deliveries then pinned tasks, in the order to keep."""
    hints: list[list[int]]
    """Per vehicle: the current route from its steps (pickups and deliveries paired)."""
    on_board_load: list[tuple[int, ...]]
    penalties: list[int]

    @property
    def vehicles(self) -> tuple[Vehicle, ...]:
        return self.problem.vehicles


@dataclass
class _Visit:
    task: int
    arrival_s: int
    waiting_s: int
    travel_s: int
    """Cumulated travel upon arrival."""
    distance_m: int
    load: tuple[int, ...]


@dataclass
class _Schedule:
    """The earliest schedule of a route, leaving just in time for its first task."""

    start_s: int
    start_load: tuple[int, ...]
    visits: list[_Visit]
    end_s: int
    travel_s: int
    distance_m: int
    feasible: bool = True
    reasons: list[str] = field(default_factory=list)


def solve(problem: Problem, *, time_limit_s: float, vroom_start: bool = True) -> Solution:
    """Plan all vehicles; the whole call takes at most about ``time_limit_s``.

    Parameters
    ----------
    problem
        A problem from :func:`optimizer.vrp.problem.parse_problem`.
    time_limit_s
        Wall-clock budget, model building included.
    vroom_start
        Start from VROOM's plan where VROOM expresses the problem (off: OR-Tools alone,
        as every problem with promises or current work is solved).

    Returns
    -------
    Solution
        VROOM-format answer with ``code`` 0.
    """
    return _solve(problem, time_limit_s=time_limit_s, with_greedy=False, vroom_start=vroom_start)[0]


def solve_with_greedy(
    problem: Problem, *, time_limit_s: float, descent_moves: int | None = None
) -> tuple[Solution, Solution]:
    """:func:`solve`'s answer and the greedy plan (:func:`solve_greedy`) it started from,
    the greedy plan computed once for both."""
    answer, greedy = _solve(
        problem, time_limit_s=time_limit_s, with_greedy=True, descent_moves=descent_moves
    )
    assert greedy is not None
    return answer, greedy


@dataclass
class _SearchReport:
    """How the search went: reported as ``summary.search``."""

    start: str = "heuristics"
    """``vroom`` or ``heuristics`` (the greedy plan and first-solution heuristics)."""
    stop: str = "no search"
    """``stall``, ``time limit`` or ``no search`` (guided local search did not run)."""
    solutions: int = 0
    """Solutions guided local search went through, its start included."""


def _solve(
    problem: Problem,
    *,
    time_limit_s: float,
    with_greedy: bool,
    descent_moves: int | None = None,
    vroom_start: bool = True,
) -> tuple[Solution, Solution | None]:
    if time_limit_s <= 0:
        raise ValueError(f"time_limit_s must be positive, got {time_limit_s}")
    started = time.monotonic()
    deadline = started + time_limit_s * (1 - _ANSWER_RESERVE_FRACTION) - _ANSWER_RESERVE_S
    instance = _instance(problem)
    # With current routes to respect, the search starts from the greedy plan and never
    # answers worse than it; without, the greedy plan is only the fallback.
    greedy = _greedy_routes(instance) if with_greedy or any(instance.hints) else None
    report = _SearchReport()
    routes, loading_s = _search(
        instance, greedy, deadline, started, report, descent_moves, vroom_start=vroom_start
    )
    fallback = None
    if routes is None:
        routes, fallback = greedy or _greedy_routes(instance), "greedy"
    elif greedy is not None and _objective(instance, greedy) < _objective(instance, routes):
        routes, fallback = greedy, "greedy"
    answer = _answer(instance, routes, fallback)
    answer["summary"]["computing_times"] = {
        "loading": round(loading_s * 1000),
        "solving": round((time.monotonic() - started - loading_s) * 1000),
        "routing": 0,
    }
    answer["summary"]["search"] = dataclasses.asdict(report)
    greedy_answer = None if greedy is None else _answer(instance, greedy, "greedy")
    return answer, greedy_answer


def solve_greedy(problem: Problem) -> Solution:
    """The instant greedy plan that :func:`solve` starts from and falls back to
    (``fallback: greedy``): the vehicles' current routes (their ``steps``, as far as they
    are feasible), then every other task, the most urgent first, appended to the vehicle
    that reaches it earliest."""
    started = time.monotonic()
    instance = _instance(problem)
    answer = _answer(instance, _greedy_routes(instance), "greedy")
    answer["summary"]["computing_times"] = {
        "loading": 0,
        "solving": round((time.monotonic() - started) * 1000),
        "routing": 0,
    }
    return answer


def solve_steps(problem: Problem) -> Solution:
    """The vehicles' current routes as they stand (their ``steps``, as far as they are
    feasible); every other task unassigned. What doing nothing amounts to."""
    instance = _instance(problem)
    routes = [_current_route(instance, position) for position in range(len(problem.vehicles))]
    answer = _answer(instance, routes, None)
    answer["summary"]["computing_times"] = {"loading": 0, "solving": 0, "routing": 0}
    return answer


# ------------------------------------------------------------------------ instance


def _instance(problem: Problem) -> _Instance:
    size = problem.amount_size
    zero = (0,) * size
    tasks: list[_Task] = []
    key_to_task: dict[tuple[str, int], int] = {}
    for job in problem.jobs:
        key_to_task["job", job.id] = len(tasks)
        tasks.append(
            _Task(
                kind="job",
                id=job.id,
                location_index=job.location_index,
                service_s=job.service_s,
                time_windows=job.time_windows,
                promise_s=job.promise_s,
                delta=tuple(p - d for p, d in zip(job.pickup, job.delivery, strict=True)),
                initial=job.delivery,
                skills=job.skills,
                priority=job.priority,
            )
        )
    for shipment in problem.shipments:
        pickup_task = None
        if shipment.pickup is not None:
            pickup_task = len(tasks)
            key_to_task["pickup", shipment.pickup.id] = pickup_task
            tasks.append(
                _Task(
                    kind="pickup",
                    id=shipment.pickup.id,
                    location_index=shipment.pickup.location_index,
                    service_s=shipment.pickup.service_s,
                    time_windows=shipment.pickup.time_windows,
                    promise_s=shipment.pickup.promise_s,
                    delta=shipment.amount,
                    initial=zero,
                    skills=shipment.skills,
                    priority=shipment.priority,
                    partner=pickup_task + 1,
                    direct=shipment.direct,
                )
            )
        key_to_task["delivery", shipment.delivery.id] = len(tasks)
        tasks.append(
            _Task(
                kind="delivery",
                id=shipment.delivery.id,
                location_index=shipment.delivery.location_index,
                service_s=shipment.delivery.service_s,
                time_windows=shipment.delivery.time_windows,
                promise_s=None,
                delta=tuple(-a for a in shipment.amount),
                initial=zero,
                skills=shipment.skills,
                priority=shipment.priority,
                partner=pickup_task,
            )
        )

    vehicles = problem.vehicles
    pinned: dict[int, int] = {}
    ordered: list[list[int]] = [[] for _ in vehicles]
    hints: list[list[int]] = [[] for _ in vehicles]
    on_board_load = [zero] * len(vehicles)
    for position, vehicle in enumerate(vehicles):
        on_board: list[int] = []
        kept: list[int] = []
        for step in vehicle.steps:
            if step.id is None:
                continue
            task_index = key_to_task[step.type, step.id]
            task = tasks[task_index]
            if task.kind == "delivery" and task.partner is None:
                tasks[task_index] = dataclasses.replace(task, on_board_of=position)
                on_board.append(task_index)
                on_board_load[position] = tuple(
                    a - d for a, d in zip(on_board_load[position], task.delta, strict=True)
                )
            else:
                kept.append(task_index)
                if step.pinned:
                    pinned[task_index] = position
        for task_index in on_board:
            pinned[task_index] = position
        ordered[position] = on_board + [t for t in kept if t in pinned]
        hints[position] = on_board + _paired(kept, tasks)

    allowed = []
    for task_index, task in enumerate(tasks):
        if task_index in pinned:
            allowed.append([pinned[task_index]])
        else:
            allowed.append(
                [v for v, vehicle in enumerate(vehicles) if task.skills <= vehicle.skills]
            )
    # A shipment's halves share one vehicle: a pin on either half binds both.
    for task_index, task in enumerate(tasks):
        if task.partner is not None and task_index in pinned:
            allowed[task.partner] = allowed[task_index]

    penalties = _penalties(problem, tasks, pinned)
    return _Instance(
        problem=problem,
        tasks=tasks,
        allowed=allowed,
        pinned=pinned,
        ordered=ordered,
        hints=hints,
        on_board_load=on_board_load,
        penalties=penalties,
    )


def _paired(route: list[int], tasks: list[_Task]) -> list[int]:
    """Complete a route so that each shipment half listed has its partner on it."""
    on_route = set(route)
    result: list[int] = []
    for task_index in route:
        partner = tasks[task_index].partner
        missing = partner is not None and partner not in on_route
        if partner is not None and missing and tasks[task_index].kind == "delivery":
            result.append(partner)
        result.append(task_index)
        if partner is not None and missing and tasks[task_index].kind == "pickup":
            result.append(partner)
    return result


def _penalties(problem: Problem, tasks: list[_Task], pinned: dict[int, int]) -> list[int]:
    """Cost of leaving each task out: above any lateness or travel saving by default."""
    base = problem.unassigned_penalty
    if base is None:
        route_bound = _route_bound_s(problem, tasks)
        promised = sum(task.promise_s is not None for task in tasks)
        base = route_bound + 1 + problem.lateness_cost_per_s * promised * _span_s(problem, tasks)
        base = min(base, _MAX_PENALTY // (MAX_PRIORITY + 2))
    return [
        base * (MAX_PRIORITY + 2) if index in pinned else base * (1 + task.priority)
        for index, task in enumerate(tasks)
    ]


def _route_bound_s(problem: Problem, tasks: list[_Task]) -> int:
    """An upper bound on the duration of any route: every service and longest leg."""
    longest = max(int(matrix.durations_s.max()) for matrix in problem.matrices.values())
    return sum(task.service_s for task in tasks) + longest * (len(tasks) + 1)


def _time_origin_s(problem: Problem) -> int:
    """Earliest departure: 0 unless every vehicle has a time window."""
    starts = [v.time_window[0] for v in problem.vehicles if v.time_window is not None]
    return min(starts) if len(starts) == len(problem.vehicles) else 0


def _span_s(problem: Problem, tasks: list[_Task]) -> int:
    return _horizon_s(problem, tasks) - _time_origin_s(problem)


def _horizon_s(problem: Problem, tasks: list[_Task]) -> int:
    """Latest time any cumul may take."""
    latest = [v.time_window[1] for v in problem.vehicles if v.time_window is not None]
    if len(latest) == len(problem.vehicles):
        return max(latest)
    latest.extend(w[1] for task in tasks for w in task.time_windows)
    latest.extend(task.promise_s for task in tasks if task.promise_s is not None)
    return max(latest, default=0) + _route_bound_s(problem, tasks)


# ------------------------------------------------------------------------ OR-Tools


def _search(
    instance: _Instance,
    greedy: list[list[int]] | None,
    deadline: float,
    started: float,
    report: _SearchReport,
    descent_moves: int | None = None,
    *,
    vroom_start: bool = True,
) -> tuple[list[list[int]] | None, float]:
    """OR-Tools routes per vehicle (task indices), or None; and the model building time.

    VROOM's plan where it expresses the problem, else the best local optimum reached
    from the greedy plan (if given) and from several first-solution heuristics, is
    improved by guided local search until it stalls or the deadline (``report`` says
    which). With
    ``descent_moves``, the greedy plan (else each heuristic's) is improved by greedy descent
    until OR-Tools has accepted that many solutions (its ``solution_limit``, the start
    included) and guided search is skipped: no clock decides the answer,
    so the same problem always gets the same plan (the simulator's re-plans must be
    reproducible), the deadline only a safety cap.
    """
    if not instance.tasks:
        return [[] for _ in instance.vehicles], time.monotonic() - started
    model = _Model(instance)
    loading_s = time.monotonic() - started
    if descent_moves is not None:
        return model.best_start(deadline, greedy, descent_moves=descent_moves), loading_s
    remaining_s = deadline - time.monotonic()
    start = None
    if vroom_start and vroom_can_start(instance.problem):
        planned = vroom_routes(
            instance.problem,
            exploration_level=_VROOM_EXPLORATION,
            threads=_VROOM_THREADS,
            timeout_s=remaining_s * _VROOM_SHARE,
        )
        start = None if planned is None else model.feasible_routes(planned)
        report.start = "vroom" if start is not None else report.start
    if start is None:  # no VROOM start: our heuristics get a share of what is left
        now = time.monotonic()
        start = model.best_start(now + max(deadline - now, 0.0) * _STARTS_SHARE, greedy)
    routes = model.search(deadline - time.monotonic(), start, report, started)
    return routes or start, loading_s


class _Model:
    """The OR-Tools routing model of an instance."""

    def __init__(self, instance: _Instance) -> None:
        self.instance = instance
        tasks = instance.tasks
        vehicles = instance.vehicles
        self.num_tasks = num_tasks = len(tasks)
        num_vehicles = len(vehicles)
        starts = [num_tasks + v for v in range(num_vehicles)]
        ends = [num_tasks + num_vehicles + v for v in range(num_vehicles)]
        self.manager = pywrapcp.RoutingIndexManager(
            num_tasks + 2 * num_vehicles, num_vehicles, starts, ends
        )
        self.routing = routing = pywrapcp.RoutingModel(self.manager)
        self._arc_costs_and_time()
        self._capacities()
        if any(vehicle.max_tasks is not None for vehicle in vehicles):
            counts = [1] * num_tasks + [0] * (2 * num_vehicles)
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(counts),
                0,
                [num_tasks if v.max_tasks is None else v.max_tasks for v in vehicles],
                True,
                "tasks",
            )
        solver = routing.solver()
        for task_index, task in enumerate(tasks):
            index = self.manager.NodeToIndex(task_index)
            routing.AddDisjunction([index], instance.penalties[task_index])
            allowed = instance.allowed[task_index]
            if not allowed:
                routing.ActiveVar(index).SetValue(0)
            elif len(allowed) < num_vehicles:
                # SetAllowedVehiclesForIndex's Python binding rejects lists in OR-Tools 9.15;
                # restricting the vehicle variable is equivalent (-1: left unperformed).
                routing.VehicleVar(index).SetValues([-1, *allowed])
            if task.kind == "pickup" and task.partner is not None:
                delivery = self.manager.NodeToIndex(task.partner)
                routing.AddPickupAndDelivery(index, delivery)
                solver.Add(routing.VehicleVar(index) == routing.VehicleVar(delivery))
                solver.Add(self.time.CumulVar(index) <= self.time.CumulVar(delivery))
                if task.direct:
                    solver.Add(routing.NextVar(index) == delivery)
        self._pinned_order()

    def _arc_costs_and_time(self) -> None:
        instance, routing = self.instance, self.routing
        problem, tasks, vehicles = instance.problem, instance.tasks, instance.vehicles
        locations = np.array(
            [task.location_index for task in tasks]
            + [-1 if v.start_index is None else v.start_index for v in vehicles]
            + [-1 if v.end_index is None else v.end_index for v in vehicles]
        )
        service = np.array([t.service_s for t in tasks] + [0] * (2 * len(vehicles)))
        arc_callbacks: dict[str, int] = {}
        time_callbacks: dict[str, int] = {}
        size = problem.num_locations
        for profile in {vehicle.profile for vehicle in vehicles}:
            padded = np.zeros((size + 1, size + 1), dtype=np.int64)
            padded[:size, :size] = problem.matrices[profile].durations_s
            travel = padded[np.ix_(locations, locations)]  # -1 -> the zero row / column
            arc_callbacks[profile] = routing.RegisterTransitMatrix(travel.tolist())
            time_callbacks[profile] = routing.RegisterTransitMatrix(
                (travel + service[:, None]).tolist()
            )
        for position, vehicle in enumerate(vehicles):
            routing.SetArcCostEvaluatorOfVehicle(arc_callbacks[vehicle.profile], position)
        horizon = _horizon_s(problem, tasks)
        routing.AddDimensionWithVehicleTransitAndCapacity(
            [time_callbacks[v.profile] for v in vehicles],
            horizon,
            [horizon] * len(vehicles),
            False,
            "time",
        )
        self.time = time_dimension = routing.GetDimensionOrDie("time")
        for position, vehicle in enumerate(vehicles):
            if vehicle.time_window is not None:
                low, high = vehicle.time_window
                time_dimension.CumulVar(routing.Start(position)).SetRange(low, high)
                time_dimension.CumulVar(routing.End(position)).SetRange(low, high)
        for task_index, task in enumerate(tasks):
            index = self.manager.NodeToIndex(task_index)
            cumul = time_dimension.CumulVar(index)
            windows = [(start, min(end, horizon)) for start, end in task.time_windows]
            windows = [(start, end) for start, end in windows if start <= end]
            if task.time_windows and not windows:  # all after every vehicle's shift
                routing.ActiveVar(index).SetValue(0)
            elif windows:
                cumul.SetRange(windows[0][0], windows[-1][1])
                for (_, end), (next_start, _) in itertools.pairwise(windows):
                    cumul.RemoveInterval(end + 1, next_start - 1)
            if task.promise_s is not None and problem.lateness_cost_per_s > 0:
                time_dimension.SetCumulVarSoftUpperBound(
                    index, task.promise_s, problem.lateness_cost_per_s
                )

    def _capacities(self) -> None:
        """One dimension per amount component (two when job deliveries mix with pickups)."""
        instance, routing = self.instance, self.routing
        tasks, vehicles = instance.tasks, instance.vehicles
        padding = [0] * (2 * len(vehicles))
        solver = routing.solver()
        for component in range(instance.problem.amount_size):
            deltas = [task.delta[component] for task in tasks]
            initials = [task.initial[component] for task in tasks]
            on_board = [load[component] for load in instance.on_board_load]
            capacities = [vehicle.capacity[component] for vehicle in vehicles]
            if not any(deltas) and not any(initials) and not any(on_board):
                continue
            name = f"load{component}"
            if not any(on_board) and all(d == -i for d, i in zip(deltas, initials, strict=True)):
                # Deliveries only: the load falls from its start value, the sum served.
                routing.AddDimensionWithVehicleCapacity(
                    routing.RegisterUnaryTransitVector(initials + padding),
                    0,
                    capacities,
                    True,
                    name,
                )
                continue
            routing.AddDimensionWithVehicleCapacity(
                routing.RegisterUnaryTransitVector(deltas + padding), 0, capacities, False, name
            )
            load = routing.GetDimensionOrDie(name)
            if not any(initials):
                for position in range(len(vehicles)):
                    load.CumulVar(routing.Start(position)).SetValue(on_board[position])
                continue
            # Start load = on-board loads + job deliveries of the route, which a second
            # dimension counts down to zero at the end.
            total = sum(initials)
            routing.AddDimension(
                routing.RegisterUnaryTransitVector([-i for i in initials] + padding),
                0,
                total,
                False,
                f"{name}_initial",
            )
            initial = routing.GetDimensionOrDie(f"{name}_initial")
            for position in range(len(vehicles)):
                initial.CumulVar(routing.End(position)).SetValue(0)
                solver.Add(
                    load.CumulVar(routing.Start(position))
                    == initial.CumulVar(routing.Start(position)) + on_board[position]
                )

    def _pinned_order(self) -> None:
        """On-board deliveries come first; pinned tasks keep their order."""
        instance, routing = self.instance, self.routing
        if not any(len(order) > 1 or _has_on_board(instance, order) for order in instance.ordered):
            return
        routing.AddConstantDimension(1, self.num_tasks + 1, True, "rank")
        rank = routing.GetDimensionOrDie("rank")
        solver = routing.solver()
        for order in instance.ordered:
            for position, task_index in enumerate(order):
                index = self.manager.NodeToIndex(task_index)
                if instance.tasks[task_index].on_board_of is not None:
                    solver.Add(rank.CumulVar(index) == position + 1)
                elif position > 0:
                    previous = self.manager.NodeToIndex(order[position - 1])
                    solver.Add(rank.CumulVar(previous) < rank.CumulVar(index))

    def best_start(
        self,
        deadline: float,
        greedy: list[list[int]] | None,
        *,
        descent_moves: int | None = None,
    ) -> list[list[int]] | None:
        """The best local optimum reached from the greedy plan (if given) and from each
        first-solution heuristic; None if none was found before ``deadline``. Without a
        ``descent_moves`` the time left is shared out between the starts; with them, each
        start may use all of it and stops after that many moves, and a greedy plan is the
        only start when there is one."""
        best: tuple[int, list[list[int]]] | None = None
        starts: list[str | None] = list(_FIRST_SOLUTION_STRATEGIES)
        if greedy is not None:
            # None: the greedy plan; on a budget of solutions, the only start.
            starts = [None] if descent_moves is not None else [None, *starts]
        for position, strategy in enumerate(starts):
            share = 1 if descent_moves is not None else len(starts) - position
            time_limit_s = (deadline - time.monotonic()) / share
            if time_limit_s <= 0:
                break
            parameters = _search_parameters(time_limit_s, descent_moves)
            parameters.local_search_metaheuristic = (
                routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
            )
            if strategy is None:
                assert greedy is not None
                initial = self._assignment(greedy)
                if initial is None:
                    continue
                assignment = self.routing.SolveFromAssignmentWithParameters(initial, parameters)
            else:
                parameters.first_solution_strategy = getattr(
                    routing_enums_pb2.FirstSolutionStrategy, strategy
                )
                assignment = self.routing.SolveWithParameters(parameters)
            routes = self._routes(assignment)
            if routes is not None and (best is None or assignment.ObjectiveValue() < best[0]):
                best = (assignment.ObjectiveValue(), routes)
        return None if best is None else best[1]

    def search(
        self,
        time_limit_s: float,
        start: list[list[int]] | None,
        report: _SearchReport,
        started: float,
    ) -> list[list[int]] | None:
        """Guided local search from ``start`` (else from a first solution) until it
        stalls or the time limit (``report`` says which); None if no solution was found.
        ``started`` is when the solve began, the stall clock's origin."""
        if time_limit_s <= 0:
            return None
        parameters = _search_parameters(time_limit_s)
        stall = _StallStop(self.routing, started)
        self.routing.AddAtSolutionCallback(stall)
        initial = None if start is None else self._assignment(start)
        if initial is None:
            assignment = self.routing.SolveWithParameters(parameters)
        else:
            assignment = self.routing.SolveFromAssignmentWithParameters(initial, parameters)
        report.stop = "stall" if stall.stalled else "time limit"
        report.solutions = stall.solutions
        return self._routes(assignment)

    def feasible_routes(self, planned: StartRoutes) -> list[list[int]] | None:
        """``planned`` (tasks as kind and id) as task indices, if OR-Tools accepts it."""
        index_of = {(task.kind, task.id): index for index, task in enumerate(self.instance.tasks)}
        routes = [[index_of[key] for key in route] for route in planned]
        return routes if self._assignment(routes) is not None else None

    def _assignment(self, routes: list[list[int]]) -> Any:
        """The solution made of ``routes`` (task indices), or None if it is infeasible."""
        return self.routing.ReadAssignmentFromRoutes(
            [[self.manager.NodeToIndex(t) for t in route] for route in routes], True
        )

    def _routes(self, assignment: Any) -> list[list[int]] | None:
        if assignment is None:
            return None
        routing = self.routing
        routes = []
        for position in range(len(self.instance.vehicles)):
            route = []
            index = assignment.Value(routing.NextVar(routing.Start(position)))
            while not routing.IsEnd(index):
                route.append(self.manager.IndexToNode(index))
                index = assignment.Value(routing.NextVar(index))
            routes.append(route)
        return routes


class _StallStop:
    """At-solution callback that ends the search once it stalls: no better plan for
    :data:`_STALL_SOLUTIONS` solutions and for :data:`_STALL_TIME_RATIO` of the time the
    best plan took to find since ``started``."""

    def __init__(self, routing: Any, started: float) -> None:
        self.routing = routing
        self.started = started
        self.best: int | None = None
        self.best_at = self.started
        self.since_best = 0
        self.solutions = 0
        self.stalled = False

    def __call__(self) -> None:
        self.solutions += 1
        cost = self.routing.CostVar().Value()
        now = time.monotonic()
        if self.best is None or cost < self.best:
            self.best, self.best_at, self.since_best = cost, now, 0
            return
        self.since_best += 1
        waited_s = now - self.best_at
        if (
            self.since_best >= _STALL_SOLUTIONS
            and waited_s >= _STALL_TIME_RATIO * (self.best_at - self.started)
            and not self.stalled
        ):
            self.stalled = True
            self.routing.solver().FinishCurrentSearch()


def _search_parameters(time_limit_s: float, solution_limit: int | None = None) -> Any:
    """Guided local search with cheap moves only (from cheapest insertion if no start).

    Tuned on the Solomon instances (``benchmarks/solomon.py``): dropping a task costs
    more than any saving, so the operators that make tasks inactive cannot improve a
    plan; the insertion-based LNS operators are off because within seconds the time
    they take is better spent on more guided local search iterations.
    """
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = (
        routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    )
    parameters.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    operators = parameters.local_search_operators
    for name in (
        "use_make_inactive",
        "use_make_chain_inactive",
        "use_relocate_path_global_cheapest_insertion_insert_unperformed",
        "use_global_cheapest_insertion_path_lns",
        "use_local_cheapest_insertion_path_lns",
        "use_global_cheapest_insertion_visit_types_lns",
        "use_local_cheapest_insertion_visit_types_lns",
    ):
        setattr(operators, name, _BOOL_FALSE)
    parameters.time_limit.FromMilliseconds(max(1, int(time_limit_s * 1000)))
    if solution_limit is not None:
        parameters.solution_limit = solution_limit
    return parameters


def _has_on_board(instance: _Instance, order: Sequence[int]) -> bool:
    return any(instance.tasks[t].on_board_of is not None for t in order)


# ------------------------------------------------------------------------ schedules


def _schedule(instance: _Instance, position: int, route: Sequence[int]) -> _Schedule:
    """Earliest schedule of ``route`` on vehicle ``position``, and why it is infeasible."""
    problem, tasks = instance.problem, instance.tasks
    vehicle = instance.vehicles[position]
    matrix = problem.matrix_of(vehicle)
    reasons: list[str] = []
    load = list(instance.on_board_load[position])
    for task_index in route:
        load = [a + b for a, b in zip(load, tasks[task_index].initial, strict=True)]
    start_load = tuple(load)
    if any(a > c for a, c in zip(load, vehicle.capacity, strict=True)):
        reasons.append("capacity exceeded at start")
    window = vehicle.time_window
    start_s = now = _departure_s(instance, position, route)
    previous = vehicle.start_index
    travel_s = distance_m = 0
    visits: list[_Visit] = []
    seen: set[int] = set()
    for task_index in route:
        task = tasks[task_index]
        location = task.location_index
        if previous is not None:
            travel_s += int(matrix.durations_s[previous, location])
            if matrix.distances_m is not None:
                distance_m += int(matrix.distances_m[previous, location])
            now += int(matrix.durations_s[previous, location])
        begin = _service_start(task.time_windows, now)
        if begin is None:
            reasons.append(f"{task.kind} {task.id} after its time windows")
            begin = now
        load = [a + d for a, d in zip(load, task.delta, strict=True)]
        if any(a > c or a < 0 for a, c in zip(load, vehicle.capacity, strict=True)):
            reasons.append(f"capacity exceeded at {task.kind} {task.id}")
        if position not in instance.allowed[task_index]:
            reasons.append(f"{task.kind} {task.id} not allowed on this vehicle")
        if task.kind == "delivery" and task.partner is not None and task.partner not in seen:
            reasons.append(f"delivery {task.id} before its pickup")
        seen.add(task_index)
        visits.append(_Visit(task_index, now, begin - now, travel_s, distance_m, tuple(load)))
        now = begin + task.service_s
        previous = location
    if vehicle.end_index is not None and previous is not None:
        travel_s += int(matrix.durations_s[previous, vehicle.end_index])
        if matrix.distances_m is not None:
            distance_m += int(matrix.distances_m[previous, vehicle.end_index])
        now += int(matrix.durations_s[previous, vehicle.end_index])
    if window is not None and now > window[1]:
        reasons.append("vehicle back after its time window")
    if vehicle.max_tasks is not None and len(route) > vehicle.max_tasks:
        reasons.append("more tasks than max_tasks")
    reasons.extend(_order_reasons(instance, position, route))
    return _Schedule(
        start_s=start_s,
        start_load=start_load,
        visits=visits,
        end_s=now,
        travel_s=travel_s,
        distance_m=distance_m,
        feasible=not reasons,
        reasons=reasons,
    )


def _order_reasons(instance: _Instance, position: int, route: Sequence[int]) -> list[str]:
    """Pinned tasks out of order, on-board loads not delivered first, a direct
    shipment's delivery not right after its pickup."""
    on_route = set(route)
    order = [t for t in instance.ordered[position] if t in on_route]
    reasons = []
    pinned = set(order)
    if order != [t for t in route if t in pinned]:
        reasons.append("pinned order broken")
    on_board = [t for t in order if instance.tasks[t].on_board_of is not None]
    if list(route[: len(on_board)]) != on_board:
        reasons.append("on-board loads not delivered first")
    for here, after in itertools.pairwise(route):
        task = instance.tasks[here]
        if task.direct and task.partner != after:
            reasons.append(f"pickup {task.id}: its delivery does not come next")
    return reasons


def _departure_s(instance: _Instance, position: int, route: Sequence[int]) -> int:
    """Departure just in time for the first task: no waiting there, never before the
    vehicle's window (or 0)."""
    vehicle = instance.vehicles[position]
    earliest = 0 if vehicle.time_window is None else vehicle.time_window[0]
    if not route:
        return earliest
    first = instance.tasks[route[0]]
    travel_s = 0
    if vehicle.start_index is not None:
        matrix = instance.problem.matrix_of(vehicle)
        travel_s = int(matrix.durations_s[vehicle.start_index, first.location_index])
    begin = _service_start(first.time_windows, earliest + travel_s)
    return earliest if begin is None else begin - travel_s


def _service_start(windows: tuple[TimeWindow, ...], arrival_s: int) -> int | None:
    """Earliest service start at or after ``arrival_s`` in a window; None if too late."""
    if not windows:
        return arrival_s
    for start, end in windows:
        if arrival_s <= end:
            return max(start, arrival_s)
    return None


# ------------------------------------------------------------------------ greedy


def _greedy_routes(instance: _Instance) -> list[list[int]]:
    """Each vehicle's current route (pinned work first, then its other steps) as far as
    it stays feasible; then the other tasks, the earliest promise first (input order
    among equals and for tasks without one), each appended to the vehicle that reaches
    it earliest while keeping every constraint."""
    tasks = instance.tasks
    routes = [_current_route(instance, position) for position in range(len(instance.vehicles))]
    placed = {task_index for route in routes for task_index in route}
    placed.update(t for order in instance.ordered for t in order)  # pinned: there or nowhere
    urgency = sorted(
        range(len(tasks)),
        key=lambda t: (tasks[t].promise_s is None, tasks[t].promise_s or 0, t),
    )
    for task_index in urgency:
        task = tasks[task_index]
        if task_index in placed or (task.kind == "delivery" and task.partner is not None):
            continue
        group = [task_index] if task.partner is None else [task_index, task.partner]
        best: tuple[int, int, int] | None = None
        for position in instance.allowed[task_index]:
            schedule = _schedule(instance, position, routes[position] + group)
            if schedule.feasible:
                key = (schedule.visits[-len(group)].arrival_s, schedule.travel_s, position)
                best = key if best is None or key < best else best
        if best is not None:
            routes[best[2]].extend(group)
        placed.update(group)
    return routes


def _current_route(instance: _Instance, position: int) -> list[int]:
    """The vehicle's current steps in their order, each kept while the route stays
    feasible (and a pickup only with its delivery)."""
    route: list[int] = []
    for task_index in instance.hints[position]:
        if _schedule(instance, position, [*route, task_index]).feasible:
            route.append(task_index)
    return _repaired(instance, position, route)


def _objective(instance: _Instance, routes: list[list[int]]) -> int:
    """What OR-Tools minimises: penalties of tasks left out, lateness cost, travel."""
    lateness_cost = instance.problem.lateness_cost_per_s
    served = {t for route in routes for t in route}
    total = sum(p for t, p in enumerate(instance.penalties) if t not in served)
    for position, route in enumerate(routes):
        schedule = _schedule(instance, position, route)
        total += schedule.travel_s
        for visit in schedule.visits:
            promise_s = instance.tasks[visit.task].promise_s
            if promise_s is not None:
                total += lateness_cost * max(0, visit.arrival_s - promise_s)
    return total


def _repaired(instance: _Instance, position: int, route: list[int]) -> list[int]:
    """``route`` without pickups whose delivery could not follow, then cut back until
    feasible (a pinned delivery that fits nowhere after its pinned pickup)."""
    tasks = instance.tasks
    while True:
        on_route = set(route)
        kept = [t for t in route if tasks[t].kind != "pickup" or tasks[t].partner in on_route]
        if kept != route:
            route = kept
        elif not route or _schedule(instance, position, route).feasible:
            return route
        else:
            route = route[:-1]


# ------------------------------------------------------------------------ answer


def _answer(instance: _Instance, routes: list[list[int]], fallback: str | None) -> Solution:
    problem, tasks = instance.problem, instance.tasks
    size = problem.amount_size
    has_distances = all(m.distances_m is not None for m in problem.matrices.values())
    served: set[int] = set()
    answer_routes = []
    for position, route in enumerate(routes):
        if not route:
            continue
        served.update(route)
        answer_routes.append(_route_answer(instance, position, route, has_distances))
    unassigned = [
        {"id": task.id, "type": task.kind, "location_index": task.location_index}
        for index, task in enumerate(tasks)
        if index not in served
    ]
    summary: dict[str, Any] = {
        "cost": sum(r["cost"] for r in answer_routes),
        "routes": len(answer_routes),
        "unassigned": len(unassigned),
        "delivery": _sum_amounts([r["delivery"] for r in answer_routes], size),
        "pickup": _sum_amounts([r["pickup"] for r in answer_routes], size),
        "setup": 0,
        "service": sum(r["service"] for r in answer_routes),
        "duration": sum(r["duration"] for r in answer_routes),
        "waiting_time": sum(r["waiting_time"] for r in answer_routes),
        "priority": sum(r["priority"] for r in answer_routes),
        "violations": [],
        "broken_promises": sum(r["broken_promises"] for r in answer_routes),
        "lateness_s": sum(r["lateness_s"] for r in answer_routes),
    }
    if has_distances:
        summary["distance"] = sum(r["distance"] for r in answer_routes)
    if fallback is not None:
        summary["fallback"] = fallback
    return {"code": 0, "summary": summary, "unassigned": unassigned, "routes": answer_routes}


def _route_answer(
    instance: _Instance, position: int, route: list[int], has_distances: bool
) -> dict[str, Any]:
    tasks = instance.tasks
    vehicle = instance.vehicles[position]
    schedule = _schedule(instance, position, route)
    size = instance.problem.amount_size
    steps: list[dict[str, Any]] = []
    if vehicle.start_index is not None:
        steps.append(
            _step(
                kind="start",
                task_id=None,
                location_index=vehicle.start_index,
                arrival_s=schedule.start_s,
                travel_s=0,
                service_s=0,
                waiting_s=0,
                load=schedule.start_load,
                distance_m=0 if has_distances else None,
            )
        )
    late_total = broken = 0
    for visit in schedule.visits:
        task = tasks[visit.task]
        late_s = 0
        if task.promise_s is not None:
            late_s = max(0, visit.arrival_s - task.promise_s)
            broken += late_s > 0
            late_total += late_s
        step = _step(
            kind=task.kind,
            task_id=task.id,
            location_index=task.location_index,
            arrival_s=visit.arrival_s,
            travel_s=visit.travel_s,
            service_s=task.service_s,
            waiting_s=visit.waiting_s,
            load=visit.load,
            distance_m=visit.distance_m if has_distances else None,
        )
        step["late_s"] = late_s
        steps.append(step)
    if vehicle.end_index is not None:
        steps.append(
            _step(
                kind="end",
                task_id=None,
                location_index=vehicle.end_index,
                arrival_s=schedule.end_s,
                travel_s=schedule.travel_s,
                service_s=0,
                waiting_s=0,
                load=schedule.visits[-1].load,
                distance_m=schedule.distance_m if has_distances else None,
            )
        )
    delivered = [_delivered(tasks[t]) for t in route]
    picked = [_picked(tasks[t]) for t in route]
    answer: dict[str, Any] = {
        "vehicle": vehicle.id,
        "cost": schedule.travel_s,
        "delivery": _sum_amounts(delivered, size),
        "pickup": _sum_amounts(picked, size),
        "setup": 0,
        "service": sum(tasks[t].service_s for t in route),
        "duration": schedule.travel_s,
        "waiting_time": sum(v.waiting_s for v in schedule.visits),
        "priority": sum(tasks[t].priority for t in route),
        "steps": steps,
        "violations": [],
        "broken_promises": broken,
        "lateness_s": late_total,
    }
    if has_distances:
        answer["distance"] = schedule.distance_m
    return answer


def _step(
    *,
    kind: str,
    task_id: int | None,
    location_index: int,
    arrival_s: int,
    travel_s: int,
    service_s: int,
    waiting_s: int,
    load: tuple[int, ...],
    distance_m: int | None,
) -> dict[str, Any]:
    step: dict[str, Any] = {"type": kind, "location_index": location_index}
    if task_id is not None:
        step["id"] = task_id
    step.update(
        setup=0,
        service=service_s,
        waiting_time=waiting_s,
        load=list(load),
        arrival=arrival_s,
        duration=travel_s,
        violations=[],
    )
    if distance_m is not None:
        step["distance"] = distance_m
    return step


def _delivered(task: _Task) -> tuple[int, ...]:
    if task.kind == "delivery":
        return tuple(-d for d in task.delta)
    return task.initial


def _picked(task: _Task) -> tuple[int, ...]:
    if task.kind == "pickup":
        return task.delta
    if task.kind == "job":
        return tuple(d + i for d, i in zip(task.delta, task.initial, strict=True))
    return (0,) * len(task.delta)


def _sum_amounts(amounts: Sequence[Sequence[int]], size: int) -> list[int]:
    return [sum(amount[c] for amount in amounts) for c in range(size)]
