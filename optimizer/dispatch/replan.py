"""Live re-planning: the open work of the dispatch board as a routing problem
(:mod:`optimizer.vrp`, built as objects, no JSON in between), solved by
:mod:`optimizer.vrp.solver`, and the plan applied back to the board.

Tasks: a service job is a VROOM job (service = on-site time, skill 1); a tow is a shipment
(pickup at the breakdown with loading time, delivery at the destination with unloading
time, amount 1, skill 2; flatbeds carry one car). Every task carries the club's promise
(deadline minus now) as a soft deadline. Work under way stays put: a truck on scene starts
when that work is done; a car on a towing truck is on board and delivered first; jobs
whose crew is en route and jobs a dispatcher placed by hand are pinned to their truck.
Times are seconds from now; the matrix holds road travel times from :mod:`geo` for the
locations needed only, in the current time-of-day band. As in :mod:`optimizer.dispatch.assign`, a
crew needs its preparation time before it drives to each scene: it is added to the
vehicle's start and to the service of every task after which the truck heads to a scene
(a job, a delivery), so the solver's arrivals are the board's predictions.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from geo.errors import InputError
from geo.router import Snap
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.model import Job, JobState, Truck, TruckState
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
from optimizer.vrp.solver import solve

SERVICE_SKILL, TOW_SKILL = 1, 2
HORIZON_S = 7 * 24 * 3600
PLANNABLE = (JobState.RECEIVED, JobState.ASSIGNED, JobState.EN_ROUTE)


@dataclass
class LiveProblem:
    """A routing problem and the ids behind its integers."""

    problem: Problem
    truck_of_vehicle: dict[int, str] = field(default_factory=dict)
    job_of_task: dict[int, str] = field(default_factory=dict)
    matrix_s: float = 0.0
    """Seconds spent computing the duration matrix."""


class _Locations:
    def __init__(self) -> None:
        self.snaps: list[Snap] = []
        self._index: dict[tuple[int, float], int] = {}

    def add(self, snap: Snap | None) -> int:
        assert snap is not None, "a planned location must be on the road network"
        key = (snap.edge, round(snap.fraction, 9))
        if key not in self._index:
            self._index[key] = len(self.snaps)
            self.snaps.append(snap)
        return self._index[key]


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

    for number, truck in enumerate(
        t for t in board.trucks.values() if t.state != TruckState.OFF_DUTY
    ):
        in_hand = [
            j for j in truck.queue if board.jobs[j].state in (JobState.ON_SCENE, JobState.TOWING)
        ]
        on_board = [j for j in in_hand if board.jobs[j].needs_tow]
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
        ready_s = round(plan.free_at_s - now_s + (0 if on_board else rules.prep_s))
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

    pinned: dict[int, list[VehicleStep]] = {}
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
                        location_index=locations.add(job.snap),
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
                )
            )
        else:
            jobs.append(
                vrp.Job(
                    id=task,
                    location_index=locations.add(job.snap),
                    service_s=round(rules.on_site_service_s + rules.prep_s),
                    skills=frozenset({SERVICE_SKILL}),
                    promise_s=promise(job),
                )
            )
        if job.truck_id is not None and (job.pinned or job.state == JobState.EN_ROUTE):
            number = vehicle_of_truck[job.truck_id]
            pinned.setdefault(number, []).extend(
                VehicleStep(type=kind, id=task, pinned=True) for kind in kinds
            )
    vehicles = [
        replace(vehicle, steps=vehicle.steps + tuple(pinned.get(vehicle.id, ())))
        for vehicle in vehicles
    ]

    start = time.perf_counter()
    durations = np.vstack(
        [
            board.geo.router.travel_times_from(snap, locations.snaps, band=band)
            for snap in locations.snaps
        ]
    )
    matrix_s = time.perf_counter() - start
    problem = build_problem(
        tuple(jobs),
        tuple(shipments),
        tuple(vehicles),
        {DEFAULT_PROFILE: Matrix(np.rint(durations).astype(np.int64))},
        amount_size=1,
    )
    return LiveProblem(problem, truck_of_vehicle, job_of_task, matrix_s)


@dataclass(frozen=True)
class ReplanResult:
    solution: dict[str, Any]
    queues: dict[str, list[str]]
    """Planned order of the jobs waiting on each truck."""
    unassigned: list[str]
    broken_promises: int
    matrix_s: float
    total_s: float


def replan(board: DispatchBoard, *, now_s: float, time_limit_s: float) -> ReplanResult:
    """Plan all open work jointly (OR-Tools; the greedy plan if it finds nothing in time)."""
    started = time.perf_counter()
    live = build_live_problem(board, now_s=now_s)
    solution = solve(live.problem, time_limit_s=max(0.1, time_limit_s - live.matrix_s))
    queues: dict[str, list[str]] = {truck_id: [] for truck_id in live.truck_of_vehicle.values()}
    for route in solution["routes"]:
        truck_id = live.truck_of_vehicle[route["vehicle"]]
        for step in route["steps"]:
            if step["type"] in ("job", "pickup"):
                job_id = live.job_of_task[step["id"]]
                if board.jobs[job_id].state in PLANNABLE:
                    queues[truck_id].append(job_id)
    return ReplanResult(
        solution=solution,
        queues=queues,
        unassigned=[live.job_of_task[u["id"]] for u in solution["unassigned"]],
        broken_promises=int(solution["summary"].get("broken_promises", 0)),
        matrix_s=live.matrix_s,
        total_s=time.perf_counter() - started,
    )


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
                    "queues", job_id, f"job {job_id} is {board.jobs[job_id].state.value}"
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
