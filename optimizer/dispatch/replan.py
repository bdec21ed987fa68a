"""Live re-planning: the open work of the dispatch board as a routing problem
(:mod:`optimizer.vrp`, built as objects, no JSON in between), solved by
:mod:`optimizer.vrp.solver`, and the plan applied back to the board.

Tasks: a service job is a VROOM job (service = on-site time, skill 1); a tow is a direct
shipment (pickup at the breakdown with loading time, then straight to the destination
with unloading time, amount 1, skill 2; flatbeds carry one car). Every task carries the
club's promise (deadline minus now) as a soft deadline. Work under way stays put: a truck
whose crew is on its way or on scene starts where and when that job is done; a car on a
towing truck is on board and delivered first; jobs a dispatcher placed by hand are
pinned to their truck. Each truck's queue is the start of the search. Times are seconds
from now; the matrix holds road travel times from :mod:`geo` for the locations needed
only, in the current time-of-day band. As in :mod:`optimizer.dispatch.workload`, a crew
needs its preparation time before it drives to each scene: it is added to the vehicle's
start and to the service of every task after which the truck heads to a scene (a job, a
delivery), so the solver's arrivals are the board's predictions (tested).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.errors import InputError
from geo.places import Geo
from geo.router import Snap
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.model import Job, JobState, Truck, TruckState
from optimizer.dispatch.words import word
from optimizer.dispatch.workload import plan_truck
from optimizer.vrp import problem as vrp
from optimizer.vrp.problem import (
    DEFAULT_PROFILE,
    Matrix,
    Problem,
    Shipment,
    ShipmentStep,
    StepKind,
    Vehicle,
    VehicleStep,
    build_problem,
)
from optimizer.vrp.solver import solve_steps, solve_with_greedy

SERVICE_SKILL, TOW_SKILL = 1, 2
HORIZON_S = 7 * 24 * 3600
PLANNABLE = (JobState.RECEIVED, JobState.ASSIGNED)
IN_HAND = (JobState.EN_ROUTE, JobState.ON_SCENE, JobState.TOWING)
"""The job a crew is working on: it stays first on its truck, whatever the plan."""
MIN_SOLVER_S = 0.3
"""The least search time a re-plan gets, whatever the matrix took (benchmarks/replan.py)."""


@dataclass
class LiveProblem:
    """A routing problem and the ids behind its integers."""

    problem: Problem
    truck_of_vehicle: dict[int, str] = field(default_factory=dict)
    job_of_task: dict[int, str] = field(default_factory=dict)
    matrix_s: float = 0.0
    """Seconds spent computing the duration matrix."""


class _Locations:
    """The places of a problem: road points, each with the estimated seconds between it and
    a scene beyond the road data (0 on the network), added to every drive there and back."""

    def __init__(self) -> None:
        self.snaps: list[Snap] = []
        self.off_network_s: list[float] = []
        self._index: dict[tuple[int, float, float], int] = {}

    def add(self, snap: Snap | None, off_network_s: float = 0.0) -> int:
        assert snap is not None, "a planned location must be on the road network"
        key = (snap.edge, round(snap.fraction, 9), round(off_network_s, 3))
        if key not in self._index:
            self._index[key] = len(self.snaps)
            self.snaps.append(snap)
            self.off_network_s.append(off_network_s)
        return self._index[key]

    def durations_s(self, geo: Geo, band: str) -> npt.NDArray[np.int64]:
        """Whole seconds between every pair, the estimated ways included."""
        road_s = geo.router.travel_time_matrix(self.snaps, band=band)
        off_s = np.asarray(self.off_network_s)
        durations = road_s + off_s[:, None] + off_s[None, :]
        np.fill_diagonal(durations, 0.0)
        return np.rint(durations).astype(np.int64)


def _skills(truck: Truck, flatbed_can_service: bool) -> frozenset[int]:
    if truck.kind == "service":
        return frozenset({SERVICE_SKILL})
    return frozenset({SERVICE_SKILL, TOW_SKILL} if flatbed_can_service else {TOW_SKILL})


def build_live_problem(board: DispatchBoard, *, now_s: float) -> LiveProblem:
    """The board's open work as a routing problem (see the module docstring)."""
    rules, band = board.rules, board.band_at(now_s)
    locations = _Locations()
    truck_of_vehicle: dict[int, str] = {}
    job_of_task: dict[int, str] = {}
    vehicles: list[Vehicle] = []
    jobs: list[vrp.Job] = []
    shipments: list[Shipment] = []
    task_ids = itertools.count(1)

    def promise(job: Job) -> int:
        return max(0, round(job.deadline_s - now_s))

    def scene(job: Job) -> int:
        off_s = 0.0 if job.placement is None else board.geo.off_network_s(job.placement, band)
        return locations.add(job.snap, off_s)

    for number, truck in enumerate(
        t for t in board.trucks.values() if t.state != TruckState.OFF_DUTY
    ):
        in_hand = [j for j in truck.queue if board.jobs[j].state in IN_HAND]
        on_board = [
            j
            for j in in_hand
            if board.jobs[j].needs_tow and board.jobs[j].state != JobState.EN_ROUTE
        ]
        busy = replace(truck, queue=[j for j in in_hand if j not in on_board])
        plan = plan_truck(
            busy,
            board.truck_snap(truck.id),
            board.jobs,
            now_s=now_s,
            band=band,
            rules=rules,
            geo=board.geo,
        )
        # The crew prepares before its next drive (after a car on board: in the delivery).
        ready_s = round(plan.free_at_s + plan.leaving_s - now_s + (0 if on_board else rules.prep_s))
        steps: list[VehicleStep] = []
        for job_id in on_board:  # a car on the flatbed: delivered first
            job = board.jobs[job_id]
            task = next(task_ids)
            job_of_task[task] = job_id
            shipments.append(
                Shipment(
                    pickup=None,
                    delivery=ShipmentStep(
                        id=task,
                        location_index=locations.add(job.destination_snap),
                        service_s=round(rules.tow_unload_s + rules.prep_s),
                    ),
                    amount=(1,),
                    skills=frozenset({TOW_SKILL}),
                )
            )
            steps.append(VehicleStep(type="delivery", id=task))
            if job.state == JobState.ON_SCENE:  # still loading
                ready_s += round(max(0.0, rules.tow_load_s - (now_s - job.state_since_s())))
        truck_of_vehicle[number] = truck.id
        vehicles.append(
            Vehicle(
                id=number,
                start_index=locations.add(plan.free_snap),
                end_index=None,
                capacity=(1 if truck.kind == "flatbed" else 0,),
                skills=_skills(truck, rules.flatbed_can_service),
                time_window=(ready_s, HORIZON_S),
                steps=tuple(steps),
            )
        )
    vehicle_of_truck = {truck_id: number for number, truck_id in truck_of_vehicle.items()}

    queued: dict[str, list[VehicleStep]] = {}
    for job in board.jobs.values():
        if job.state not in PLANNABLE:
            continue
        task = next(task_ids)
        job_of_task[task] = job.id
        kinds: tuple[StepKind, ...] = ("job",)
        if job.needs_tow:
            kinds = ("pickup", "delivery")
            shipments.append(
                Shipment(
                    pickup=ShipmentStep(
                        id=task,
                        location_index=scene(job),
                        service_s=round(rules.tow_load_s),
                        promise_s=promise(job),
                    ),
                    delivery=ShipmentStep(
                        id=task,
                        location_index=locations.add(job.destination_snap),
                        service_s=round(rules.tow_unload_s + rules.prep_s),
                    ),
                    amount=(1,),
                    skills=frozenset({TOW_SKILL}),
                    direct=True,  # loaded, the flatbed drives straight to the destination
                )
            )
        else:
            jobs.append(
                vrp.Job(
                    id=task,
                    location_index=scene(job),
                    service_s=round(rules.on_site_service_s + rules.prep_s),
                    skills=frozenset({SERVICE_SKILL}),
                    promise_s=promise(job),
                )
            )
        if job.truck_id is not None and job.truck_id in vehicle_of_truck:
            queued[job.id] = [VehicleStep(type=kind, id=task, pinned=job.pinned) for kind in kinds]
    # Each truck's queue, in its order, is the plan to start from (pinned work is kept).
    vehicles = [
        replace(
            vehicle,
            steps=vehicle.steps
            + tuple(
                step
                for job_id in board.trucks[truck_of_vehicle[vehicle.id]].queue
                for step in queued.get(job_id, ())
            ),
        )
        for vehicle in vehicles
    ]

    start = time.perf_counter()
    durations = locations.durations_s(board.geo, band)
    matrix_s = time.perf_counter() - start
    problem = build_problem(
        tuple(jobs),
        tuple(shipments),
        tuple(vehicles),
        {DEFAULT_PROFILE: Matrix(durations)},
        amount_size=1,
    )
    return LiveProblem(problem, truck_of_vehicle, job_of_task, matrix_s)


@dataclass(frozen=True)
class PlanScore:
    """A plan's standing, compared in this order: calls left unserved, broken promises,
    seconds late in all, driving seconds."""

    unserved: int
    broken_promises: int
    lateness_s: int
    driving_s: int

    @classmethod
    def of(cls, solution: Mapping[str, Any]) -> PlanScore:
        """The score of a live problem's solution (a tow's two halves share one id)."""
        summary = solution["summary"]
        return cls(
            len({u["id"] for u in solution["unassigned"]}),
            int(summary["broken_promises"]),
            int(summary["lateness_s"]),
            int(summary["cost"]),
        )

    def key(self) -> tuple[int, int, int, int]:
        return (self.unserved, self.broken_promises, self.lateness_s, self.driving_s)


@dataclass(frozen=True)
class ReplanResult:
    solution: dict[str, Any]
    """The plan offered (the board's own when nothing better was found)."""
    queues: dict[str, list[str]]
    """Planned order of the jobs waiting on each truck."""
    unassigned: list[str]
    arrivals_s: dict[str, float]
    """Seconds from now to the planned arrival at the scene of each job the plan serves."""
    improved: bool
    """False: no plan beat the board's, and ``queues`` are the board's own."""
    score: PlanScore
    board_score: PlanScore
    """The board as it stands (calls not yet dispatched count as unserved)."""
    one_at_a_time_score: PlanScore
    """Each undispatched call, the most urgent first, to the truck that reaches it first."""
    matrix_s: float
    solver_limit_s: float
    total_s: float

    @property
    def broken_promises(self) -> int:
        return self.score.broken_promises


def replan(
    board: DispatchBoard,
    *,
    now_s: float,
    time_limit_s: float,
    min_solver_s: float = MIN_SOLVER_S,
    descent_moves: int | None = None,
) -> ReplanResult:
    """Plan all open work jointly, never worse than the board's plan.

    The search starts from the board's queues with the undispatched calls added one at a
    time; the best of the OR-Tools plan and that start is offered only if it beats the
    board as it stands (:class:`PlanScore`), else the board's queues come back unchanged.
    ``time_limit_s`` covers everything; the solver gets what the matrix leaves of it, and
    never less than ``min_solver_s``. With ``descent_moves`` the search is that many
    greedy-descent moves from the one-at-a-time plan, no clock involved (``time_limit_s``
    then only caps it), so the same board always gets the same plan.
    """
    started = time.perf_counter()
    live = build_live_problem(board, now_s=now_s)
    current = solve_steps(live.problem)
    solver_limit_s = max(min_solver_s, time_limit_s - (time.perf_counter() - started))
    solved, one_at_a_time = solve_with_greedy(
        live.problem, time_limit_s=solver_limit_s, descent_moves=descent_moves
    )
    best = min(solved, one_at_a_time, key=lambda s: PlanScore.of(s).key())
    improved = PlanScore.of(best).key() < PlanScore.of(current).key()
    offered = best if improved else current
    return ReplanResult(
        solution=offered,
        queues=_queues(board, live, offered),
        unassigned=[live.job_of_task[u["id"]] for u in offered["unassigned"]],
        arrivals_s={
            live.job_of_task[step["id"]]: float(step["arrival"])
            for route in offered["routes"]
            for step in route["steps"]
            if step["type"] in ("job", "pickup")
        },
        improved=improved,
        score=PlanScore.of(offered),
        board_score=PlanScore.of(current),
        one_at_a_time_score=PlanScore.of(one_at_a_time),
        matrix_s=live.matrix_s,
        solver_limit_s=solver_limit_s,
        total_s=time.perf_counter() - started,
    )


def _queues(
    board: DispatchBoard, live: LiveProblem, solution: Mapping[str, Any]
) -> dict[str, list[str]]:
    queues: dict[str, list[str]] = {truck_id: [] for truck_id in live.truck_of_vehicle.values()}
    for route in solution["routes"]:
        truck_id = live.truck_of_vehicle[route["vehicle"]]
        for step in route["steps"]:
            if step["type"] in ("job", "pickup"):
                job_id = live.job_of_task[step["id"]]
                if board.jobs[job_id].state in PLANNABLE:
                    queues[truck_id].append(job_id)
    return queues


def apply_replan(
    board: DispatchBoard, queues: Mapping[str, list[str]], *, now_s: float
) -> list[str]:
    """Move jobs to their planned trucks (``ReplanResult.queues``) and order the queues;
    returns the jobs moved. Jobs the plan leaves unassigned keep their current truck.
    """
    for truck_id, job_ids in queues.items():
        board.truck(truck_id)
        for job_id in job_ids:
            if board.job(job_id).state not in PLANNABLE:
                raise InputError(
                    "queues",
                    job_id,
                    "job {job} is {state}",
                    job=job_id,
                    state=word(board.jobs[job_id].state),
                )
    moved = []
    for truck_id, job_ids in queues.items():
        for job_id in job_ids:
            job = board.jobs[job_id]
            if job.truck_id == truck_id:
                continue
            if job.state == JobState.RECEIVED:
                board.assign(job_id, truck_id, now_s=now_s)
            else:
                board.reassign(job_id, truck_id, now_s=now_s, pin=False)
            moved.append(job_id)
    for truck_id, job_ids in queues.items():
        waiting = [j for j in job_ids if board.jobs[j].state == JobState.ASSIGNED]
        kept = [
            j
            for j in board.trucks[truck_id].queue
            if board.jobs[j].state == JobState.ASSIGNED and j not in waiting
        ]
        board.set_queue(truck_id, waiting + kept)
    return moved
