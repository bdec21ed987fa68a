"""Legs: the drives of a truck's work.

- :class:`Leg` is a predicted drive to one queued job's scene (:mod:`.workload` walks a
  truck's queue into them): when the truck is free for it, from where, its preparation
  and its road travel time.
- :class:`Drive` is the drive a truck is making (or about to make) now: to the scene of
  its first job, or towing to the destination, with the road route's geometry and times;
  :func:`home_drive` is an idle truck's drive back to its home base.
  :class:`DriveBook` keeps one per busy truck, computed once when the truck's work
  changes; the dispatch room and the simulator only read them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from geo.errors import InputError
from geo.path import RoutePath
from geo.router import Route, Snap
from optimizer.dispatch.model import JobState, TruckState

if TYPE_CHECKING:  # the board plans with legs; legs read the board
    from optimizer.dispatch.board import DispatchBoard

log = logging.getLogger(__name__)

Purpose = Literal["to_scene", "to_destination", "to_base"]
DriveKey = tuple[str, Purpose, bool]
"""What a drive is for: ``(job_id, purpose, moving)``; a new key means a new drive."""


@dataclass(frozen=True)
class Leg:
    """The drive to one queued job's scene: the truck is free for it at ``ready_s`` at
    ``origin``, then prepares (if the crew has not left yet) and drives ``travel_s``."""

    ready_s: float
    origin: Snap
    prep_s: float
    travel_s: float

    @property
    def arrival_s(self) -> float:
        return self.ready_s + self.prep_s + self.travel_s


@dataclass(frozen=True)
class Drive:
    """A truck's current drive; ``depart_s`` is None while the crew has not left."""

    truck_id: str
    job_id: str
    purpose: Purpose
    route: Route
    depart_s: float | None
    key: DriveKey = field(repr=False)

    @property
    def arrive_s(self) -> float | None:
        return None if self.depart_s is None else self.depart_s + self.route.travel_s

    @cached_property
    def path(self) -> RoutePath:
        return RoutePath(self.route.geometry["coordinates"])

    def position_at(self, now_s: float) -> tuple[float, float]:
        """Where the truck is at ``now_s`` (the start before departure, the end after)."""
        if self.depart_s is None or self.route.travel_s <= 0:
            return self.path.point_at(0.0 if self.depart_s is None else 1.0)
        return self.path.point_at((now_s - self.depart_s) / self.route.travel_s)

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "purpose": self.purpose,
            "moving": self.depart_s is not None,
            "depart_s": self.depart_s,
            "arrive_s": self.arrive_s,
            "travel_s": round(self.route.travel_s, 1),
            "length_m": round(self.route.length_m, 1),
            "geometry": self.route.geometry,
        }


def drive_key(board: DispatchBoard, truck_id: str) -> DriveKey | None:
    """The drive the truck's first job calls for now, if any."""
    truck = board.trucks[truck_id]
    if not truck.queue or truck.state == TruckState.OFF_DUTY:
        return None
    job = board.jobs[truck.queue[0]]
    if job.state in (JobState.ASSIGNED, JobState.EN_ROUTE):
        return (job.id, "to_scene", job.state == JobState.EN_ROUTE)
    if job.state == JobState.TOWING:
        return (job.id, "to_destination", True)
    return None


def home_drive(board: DispatchBoard, truck_id: str, *, now_s: float) -> Drive | None:
    """An idle truck's drive back to its home base, leaving now (None: busy, off duty,
    already at its base, or no road back). Its ``job_id`` is empty."""
    truck = board.trucks[truck_id]
    if truck.queue or truck.state == TruckState.OFF_DUTY or truck.position == truck.home_base:
        return None
    try:
        home = board.geo.router.snap(*truck.home_base, field=f"truck {truck_id} home_base")
        route = board.geo.router.route(board.truck_snap(truck_id), home, band=board.band_at(now_s))
    except InputError as error:
        log.warning("no route home for truck %s: %s", truck_id, error)
        return None
    return Drive(truck_id, "", "to_base", route, now_s, ("", "to_base", True))


class DriveBook:
    """The current :class:`Drive` of every busy truck of one board."""

    def __init__(self) -> None:
        self._drives: dict[str, Drive] = {}

    def get(self, truck_id: str) -> Drive | None:
        return self._drives.get(truck_id)

    def all(self) -> dict[str, Drive]:
        return dict(self._drives)

    def clear(self) -> None:
        self._drives.clear()

    def refresh(self, board: DispatchBoard, truck_id: str, *, now_s: float) -> None:
        """Route the truck's drive again if what it is for changed (a departure starts
        the clock of a planned drive; a new first job or a tow makes a new one)."""
        key = drive_key(board, truck_id)
        if key is None:
            self._drives.pop(truck_id, None)
            return
        old = self._drives.get(truck_id)
        if old is not None and old.key == key:
            return
        job_id, purpose, moving = key
        job = board.jobs[job_id]
        band = board.band_at(now_s)
        if job.placement is None or (purpose == "to_destination" and job.destination_snap is None):
            self._drives.pop(truck_id, None)
            return
        try:
            if purpose == "to_scene":
                route = board.geo.route_to(board.truck_snap(truck_id), job.placement, band=band)
            else:
                assert job.destination_snap is not None
                route = board.geo.route_from(job.placement, job.destination_snap, band=band)
        except InputError as error:
            log.warning("no route for truck %s to job %s: %s", truck_id, job_id, error)
            self._drives.pop(truck_id, None)
            return
        self._drives[truck_id] = Drive(
            truck_id, job_id, purpose, route, now_s if moving else None, key
        )
