"""Dispatch policies: which truck takes a call, and (for one of them) a periodic re-plan.

A policy reads and changes the :class:`optimizer.dispatch.board.DispatchBoard` only
through its own operations, as the dispatch room does. :data:`POLICY_NAMES` lists them;
:func:`make_policy` builds one by name.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt

from geo.places import Geo
from geo.router import Snap
from optimizer.coverage import edge_midpoint_times, travel_budget_s
from optimizer.demand import expected_call_share
from optimizer.dispatch.assign import Candidate, FleetView, rank_trucks
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.model import JobState, LonLat, Truck, TruckState
from optimizer.dispatch.replan import apply_replan, replan

REPLAN_EVERY_S = 30 * 60.0
"""The re-plan policy's period. Every call already has its nearest truck when it comes in
(as in ``nearest``); a re-plan every half hour reshuffles what is still waiting, inside
most open calls' 40-minute promise, and keeps a 1,000-call day to 48 re-plans, within
benchmarks/simulate.py's minute per policy on two cores."""
REPLAN_DESCENT_MOVES = 200
"""Each re-plan improves the one-at-a-time plan by local-search moves (OR-Tools greedy
descent) until no move helps or this many solutions were accepted: a budget of work, not
of time, so a seed gives the same day on any machine. A re-plan here sees a dozen open
calls and stops at a local optimum long before the budget; guided search, which the live
room adds on the clock, would make the day depend on the machine."""
REPLAN_TIME_CAP_S = 30.0
"""A safety cap only: the solution limit ends the search long before."""


class Policy(Protocol):
    """Names the truck for a received job, or None: the job waits for a truck to free up."""

    name: str
    tick_s: float | None
    """Period of :meth:`tick` (None: no periodic work)."""

    def choose(self, board: DispatchBoard, job_id: str, *, now_s: float) -> str | None: ...

    def tick(self, board: DispatchBoard, *, now_s: float) -> None: ...


class Nearest:
    """``nearest`` (the room's rule today): the board's proposal, the suitable truck that
    reaches the call first counting the work it has in hand and queued
    (:meth:`optimizer.dispatch.board.DispatchBoard.propose`)."""

    name = "nearest"
    tick_s: float | None = None

    def choose(self, board: DispatchBoard, job_id: str, *, now_s: float) -> str | None:
        best = board.propose(job_id, now_s=now_s).best
        return None if best is None else best.truck

    def tick(self, board: DispatchBoard, *, now_s: float) -> None:
        """No periodic work."""


class NearestIdle(Nearest):
    """``nearest_idle``: the available truck (idle, on duty, of a suitable kind) that
    reaches the call first by road travel time from where it is now (after its
    preparation); with none available the call waits and is offered again whenever a
    truck frees up, oldest call first. Never queues a job behind a busy truck."""

    name = "nearest_idle"

    def choose(self, board: DispatchBoard, job_id: str, *, now_s: float) -> str | None:
        rows = [
            (truck.id, truck.kind, now_s, board.truck_snap(truck.id))
            for truck in board.trucks.values()
            if truck.state == TruckState.IDLE and not truck.queue
        ]
        if not rows:
            return None
        job = board.jobs[job_id]
        best = rank_trucks(
            job.snap,
            job.required_kind,
            deadline_s=job.deadline_s,
            view=FleetView.build(rows),
            now_s=now_s,
            band=board.band_at(now_s),
            rules=board.rules,
            geo=board.geo,
            estimate_s=board.estimate_s(job, now_s=now_s),
        ).best
        return None if best is None else best.truck


class Replan(Nearest):
    """``replan``: ``nearest`` when a call comes in, and every :data:`REPLAN_EVERY_S` a
    joint OR-Tools re-plan of all open work not yet under way
    (:func:`optimizer.dispatch.replan.replan`),
    applied when it beats the board's plan. The search is at most
    :data:`REPLAN_DESCENT_MOVES` greedy-descent moves, not a time, so the same seed gives
    the same day."""

    name = "replan"
    tick_s: float | None = REPLAN_EVERY_S

    def __init__(self, descent_moves: int = REPLAN_DESCENT_MOVES) -> None:
        self.descent_moves = descent_moves

    def tick(self, board: DispatchBoard, *, now_s: float) -> None:
        """Re-plan when some job waits for a truck or for its crew to leave."""
        if not any(j.state in (JobState.RECEIVED, JobState.ASSIGNED) for j in board.jobs.values()):
            return
        result = replan(
            board,
            now_s=now_s,
            time_limit_s=REPLAN_TIME_CAP_S,
            descent_moves=self.descent_moves,
        )
        if result.improved:
            apply_replan(board, result.queues, now_s=now_s)


class KeepCoverage(Nearest):
    """``coverage`` ("keep coverage"): among the suitable trucks the board proposes that
    can still keep the promise for this call, the one whose departure leaves the least
    expected demand uncovered; when none can keep it, ``nearest``.

    This is the compliance-table idea of dynamic ambulance relocation (Gendreau, Laporte
    and Semet 2001, "A dynamic model and parallel tabu search heuristic for real-time
    ambulance relocation") scored with the expected coverage of MEXCLP (Daskin 1983, "A
    maximum expected covering location model"): a road edge is covered by a station when
    a truck rolling from it reaches the edge's midpoint within the promise
    (:func:`optimizer.coverage.travel_budget_s`) in the current band; with ``k`` idle trucks
    at stations covering it and each busy with probability ``q`` (the fleet's busy share
    now), the edge's demand (its share of the band's calls in the demand model,
    :func:`optimizer.demand.expected_call_share`) is covered with
    probability ``1 - q**k``. A truck leaving its station loses ``sum d * (1 - q) *
    q**(k - 1)`` over the edges its station covers. A truck away from its station (busy,
    driving home) covers nothing in this score, so it loses nothing by taking the call.
    """

    name = "coverage"

    def __init__(self, geo: Geo, bases: list[LonLat]) -> None:
        self.geo = geo
        self.bases = sorted(set(bases))
        self._stations: list[Snap] = [
            geo.router.snap(*base, field="home_base") for base in self.bases
        ]
        self._covers: dict[str, npt.NDArray[np.float64]] = {}
        self._demand: dict[str, npt.NDArray[np.float64]] = {}

    def covers(self, band: str, budget_s: float) -> npt.NDArray[np.float64]:
        """Station x edge: 1 where the station reaches the edge within ``budget_s`` in
        ``band``, else 0."""
        if band not in self._covers:
            self._covers[band] = np.array(
                [
                    edge_midpoint_times(self.geo, s, band=band, max_s=budget_s) <= budget_s
                    for s in self._stations
                ],
                dtype=np.float64,
            )
        return self._covers[band]

    def losses(
        self, board: DispatchBoard, candidates: list[Candidate], *, now_s: float
    ) -> list[float]:
        """Share of the band's expected calls left uncovered by each candidate's departure."""
        band = board.band_at(now_s)
        covers = self.covers(band, travel_budget_s(board.rules))
        on_duty = [t for t in board.trucks.values() if t.state != TruckState.OFF_DUTY]
        q = sum(1 for t in on_duty if t.queue) / max(1, len(on_duty))
        station_of = {base: i for i, base in enumerate(self.bases)}
        at_station = np.zeros(len(self.bases))
        for truck in on_duty:
            if _at_station(truck):
                at_station[station_of[truck.home_base]] += 1
        k = at_station @ covers
        if band not in self._demand:
            self._demand[band] = expected_call_share(self.geo, band=band)
        demand = self._demand[band]
        marginal = demand * (1.0 - q) * np.power(q, np.maximum(k - 1.0, 0.0))
        losses = []
        for candidate in candidates:
            truck = board.trucks[candidate.truck]
            covered = covers[station_of[truck.home_base]]
            losses.append(float(covered @ marginal) if _at_station(truck) else 0.0)
        return losses

    def choose(self, board: DispatchBoard, job_id: str, *, now_s: float) -> str | None:
        proposal = board.propose(job_id, now_s=now_s)
        keeping = [c for c in proposal.candidates if c.status != "late"]
        if not keeping:
            return None if proposal.best is None else proposal.best.truck
        losses = self.losses(board, keeping, now_s=now_s)
        best = min(range(len(keeping)), key=lambda i: (losses[i], keeping[i].eta_s))
        return keeping[best].truck


def _at_station(truck: Truck) -> bool:
    """Idle at its home base (a truck driving home is not there yet)."""
    return not truck.queue and truck.position == truck.home_base


POLICY_NAMES = ("nearest_idle", "nearest", "replan", "coverage")


def make_policy(name: str, board: DispatchBoard) -> Policy:
    """The policy called ``name`` (one of :data:`POLICY_NAMES`) for ``board``'s fleet."""
    if name == "nearest_idle":
        return NearestIdle()
    if name == "nearest":
        return Nearest()
    if name == "replan":
        return Replan()
    if name == "coverage":
        return KeepCoverage(board.geo, [t.home_base for t in board.trucks.values()])
    raise ValueError(f"policy={name!r}: one of {', '.join(POLICY_NAMES)}")
