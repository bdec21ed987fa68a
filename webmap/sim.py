"""Simulation of the dispatch room: calls arrive, crews drive and work, trucks move.

Everything goes through :class:`webmap.center.DispatchCenter`, the same code path as the
dispatchers' commands: the simulated call is an ``intake``, the simulated dispatcher
confirms the proposed best truck (``dispatch``), the simulated crews ``advance`` their
jobs (en route after the preparation time, on scene at arrival, fixed after the service
time or, for a share, ``convert_to_tow``; towing, delivered at the shop, closed) and their
trucks report GPS positions (``move_trucks``) along the road geometry of their current
leg (``geo.router.route``), interpolated by time, once per tick.

Demand: calls per hour follow an hourly profile of Beijing time; the place of a call is a
road edge drawn with weight ``length x class weight x band factor`` (more traffic, more
breakdowns per km on the big roads, more still at the peaks), restricted to the network's
main strongly connected part so every call can be reached. The figures are judgement for
a demonstration (``SimConfig``), not the club's statistics.
"""

from __future__ import annotations

import logging
import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.errors import InputError
from geo.places import Geo
from geo.projection import LocalProjection
from optimizer.clock import beijing_time
from optimizer.model import Job, JobState
from webmap.center import DispatchCenter, Leg

log = logging.getLogger(__name__)

SIM_USER = "sim"

# Relative call rate by hour of Beijing time (scaled so the day's mean is calls_per_hour):
# low at night, peaks at 8 and 18.
HOURLY_PROFILE = (
    0.35, 0.25, 0.20, 0.20, 0.25, 0.40, 0.80, 1.50, 1.80, 1.30, 1.05, 1.00,
    1.00, 1.00, 1.00, 1.10, 1.30, 1.70, 1.80, 1.30, 1.00, 0.80, 0.60, 0.45,
)
# Calls per km of road by class, relative: more traffic, more breakdowns (judgement).
CLASS_WEIGHT = {
    "motorway": 3.0, "motorway_link": 1.5, "trunk": 2.5, "trunk_link": 1.2,
    "primary": 2.0, "primary_link": 1.0, "secondary": 1.5, "secondary_link": 0.8,
    "tertiary": 1.0, "tertiary_link": 0.6, "unclassified": 0.5, "residential": 0.5,
    "living_street": 0.2, "service": 0.2, "road": 0.5,
}
# Band factors per class: expressways carry the peaks; side streets are quiet at night.
BAND_CLASS_FACTOR: dict[str, dict[str, float]] = {
    "morning_peak": {"motorway": 1.5, "trunk": 1.4, "motorway_link": 1.3, "trunk_link": 1.3},
    "evening_peak": {"motorway": 1.5, "trunk": 1.4, "motorway_link": 1.3, "trunk_link": 1.3},
    "night": {"residential": 0.6, "living_street": 0.5, "service": 0.5, "unclassified": 0.7},
}
# Fault mix (relative weights); on a motorway tyres, fuel and accidents dominate.
FAULT_MIX = {
    "flat_battery": 30, "flat_tyre": 20, "out_of_fuel": 5, "locked_out": 10,
    "minor_electrical": 8, "engine_failure": 10, "gearbox_failure": 4, "accident_damage": 7,
    "drivetrain_failure": 2, "steering_failure": 2, "stuck": 1.5, "overturned": 0.5,
}
MOTORWAY_FAULT_MIX = {
    "flat_battery": 5, "flat_tyre": 30, "out_of_fuel": 15, "locked_out": 1,
    "minor_electrical": 5, "engine_failure": 17, "gearbox_failure": 4, "accident_damage": 20,
    "drivetrain_failure": 2, "steering_failure": 1, "stuck": 0.5, "overturned": 0.5,
}
SYMPTOMS = {
    "flat_battery": "打不着火，仪表盘没反应 (won't start, dashboard dead)",
    "flat_tyre": "右前轮爆胎 (front right tyre burst)",
    "out_of_fuel": "油表见底，车熄火了 (ran out of fuel)",
    "locked_out": "钥匙锁在车里 (keys locked inside)",
    "minor_electrical": "大灯和雨刷不工作 (headlights and wipers dead)",
    "engine_failure": "发动机异响后熄火 (engine knocked then stalled)",
    "gearbox_failure": "挂不上挡 (cannot engage a gear)",
    "accident_damage": "追尾，前脸损坏 (rear-end collision, front damaged)",
    "drivetrain_failure": "传动轴异响，车走不了 (drivetrain noise, car won't move)",
    "steering_failure": "方向盘打不动 (steering locked)",
    "stuck": "车陷在沟里 (car stuck in a ditch)",
    "overturned": "车辆侧翻 (car on its side)",
}
SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱")
MODELS = ("大众帕萨特", "丰田卡罗拉", "本田雅阁", "别克英朗", "日产轩逸", "奥迪A6L",
          "宝马3系", "比亚迪秦", "现代伊兰特", "吉利帝豪")
COLOURS = ("白色", "黑色", "银色", "灰色", "红色", "蓝色")
PLATE_LETTERS = "ABCEFGHJKLMNPQ"


@dataclass(frozen=True)
class SimConfig:
    calls_per_hour: float = 30.0
    """Mean calls per hour over the day (the hourly profile shapes it)."""
    tow_share: float = 0.15
    """Share of on-site jobs the crew finds it cannot fix (they convert to tows)."""
    member_share: float = 0.7
    first_call_after_s: float = 5.0
    service_spread: float = 0.3
    """On-site time varies by up to this share around the rules' figure."""
    close_after_s: float = 120.0
    """Paperwork after a fix (the owner's sign-off) before the job is closed."""
    redispatch_every_s: float = 60.0
    """How often a waiting simulated job is offered again to the best truck."""
    max_calls_per_step: int = 5
    seed: int | None = None


class RoutePath:
    """A LineString with its length along the way, for positions by fraction travelled."""

    def __init__(self, coordinates: list[list[float]]) -> None:
        coords = np.asarray(coordinates, dtype=np.float64)
        self.lon, self.lat = coords[:, 0], coords[:, 1]
        projection = LocalProjection(float(self.lon[0]), float(self.lat.mean()))
        step = projection.segment_lengths_m(self.lon, self.lat)
        self.along_m = np.concatenate(([0.0], np.cumsum(step)))

    @property
    def length_m(self) -> float:
        return float(self.along_m[-1])

    def point_at(self, fraction: float) -> tuple[float, float]:
        if self.length_m <= 0:
            return float(self.lon[0]), float(self.lat[0])
        at = min(max(fraction, 0.0), 1.0) * self.length_m
        lon = np.interp(at, self.along_m, self.lon)
        lat = np.interp(at, self.along_m, self.lat)
        return float(lon), float(lat)


def position_on_leg(path: RoutePath, leg: Leg, now_s: float) -> tuple[float, float]:
    """Where a truck driving ``leg`` is at ``now_s`` (start before departure, end after)."""
    if leg.depart_s is None or leg.route.travel_s <= 0:
        return path.point_at(0.0 if leg.depart_s is None else 1.0)
    return path.point_at((now_s - leg.depart_s) / leg.route.travel_s)


def main_component_edges(geo: Geo) -> npt.NDArray[np.int64]:
    """Edges whose ends are reachable from and to the network's central node."""
    net = geo.network
    lon0, lat0 = float(np.median(net.node_lon)), float(np.median(net.node_lat))
    start = int(np.argmin(np.hypot(net.node_lon - lon0, net.node_lat - lat0)))
    band = net.bands[0]
    forward = geo.router.node_travel_times(start, band=band)
    backward = geo.router.node_travel_times(start, band=band, backward=True)
    ok = np.isfinite(forward) & np.isfinite(backward)
    return np.flatnonzero(ok[net.tail] & ok[net.head]).astype(np.int64)


class DemandModel:
    """Where and when breakdown calls happen (see the module docstring)."""

    def __init__(self, geo: Geo, *, calls_per_hour: float, rng: np.random.Generator) -> None:
        if not (math.isfinite(calls_per_hour) and calls_per_hour > 0):
            raise ValueError(f"calls_per_hour={calls_per_hour!r}: must be a positive number")
        self.geo = geo
        self.calls_per_hour = calls_per_hour
        self.rng = rng
        net = geo.network
        self.edges = main_component_edges(geo)
        self.edge_class = np.array(
            [net.highway_classes[c] for c in net.highway_code[self.edges]], dtype=object)
        class_weight = np.array([CLASS_WEIGHT.get(c, 0.5) for c in self.edge_class])
        base = net.length_m[self.edges] * class_weight
        self._cumulative: dict[str, npt.NDArray[np.float64]] = {}
        for band in net.bands:
            factors = BAND_CLASS_FACTOR.get(band, {})
            factor = np.array([factors.get(c, 1.0) for c in self.edge_class])
            self._cumulative[band] = np.cumsum(base * factor)

    def rate_per_hour(self, now_s: float) -> float:
        hour = beijing_time(now_s).hour
        return self.calls_per_hour * HOURLY_PROFILE[hour] / float(np.mean(HOURLY_PROFILE))

    def gap_s(self, now_s: float) -> float:
        """Time to the next call (exponential at the current hour's rate)."""
        return float(self.rng.exponential(3600.0 / self.rate_per_hour(now_s)))

    def sample_edge(self, now_s: float) -> int:
        cumulative = self._cumulative[self.geo.band_at(beijing_time(now_s))]
        i = int(np.searchsorted(cumulative, self.rng.uniform(0.0, float(cumulative[-1]))))
        return int(self.edges[min(i, len(self.edges) - 1)])

    def sample_place(self, now_s: float) -> tuple[float, float, int]:
        """A breakdown place ``(lon, lat, edge)`` on a road drawn from the demand model."""
        edge = self.sample_edge(now_s)
        path = RoutePath(self.geo.network.edge_coords(edge))
        lon, lat = path.point_at(float(self.rng.uniform(0.05, 0.95)))
        return lon, lat, edge


class CallMaker:
    """Invented callers, cars and faults for simulated calls (intake JSON, §2)."""

    def __init__(self, demand: DemandModel, *, fault_kinds: dict[str, str],
                 insurers: tuple[str, ...], member_share: float, rng: random.Random) -> None:
        self.demand = demand
        self.rng = rng
        self.member_share = member_share
        self.insurers = insurers
        self.fault_kinds = fault_kinds
        self.faults = tuple(fault_kinds)
        self.mix = [FAULT_MIX.get(f, 1.0) for f in self.faults]
        self.motorway_mix = [MOTORWAY_FAULT_MIX.get(f, 1.0) for f in self.faults]

    def make(self, now_s: float) -> dict[str, Any]:
        rng, net = self.rng, self.demand.geo.network
        lon, lat, edge = self.demand.sample_place(now_s)
        highway = net.edge_highway(edge)
        on_motorway = highway.startswith("motorway")
        fault = rng.choices(self.faults, weights=self.motorway_mix if on_motorway else self.mix)[0]
        male = rng.random() < 0.6
        member = rng.random() < self.member_share
        accident = fault == "accident_damage"
        road = net.edge_name[edge]
        call: dict[str, Any] = {
            "caller": {
                "name": rng.choice(SURNAMES) + ("先生" if male else "女士"),
                "phone": "1" + rng.choice("3589") + "".join(rng.choices("0123456789", k=9)),
                "gender": "male" if male else "female",
            },
            "vehicle": {
                "plate": "京" + rng.choice(PLATE_LETTERS)
                + "".join(rng.choices("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", k=5)),
                "model": rng.choice(MODELS),
                "colour": rng.choice(COLOURS),
            },
            "member": member,
            "location": [round(lon, 6), round(lat, 6)],
            "landmarks": f"{road}附近" if road else "",
            "on_highway": on_motorway,
            "fault_symptoms": SYMPTOMS.get(fault, fault),
            "fault_category": fault,
            "customer_need": "现场修复 (fix on the spot)"
            if self.fault_kinds[fault] == "service" else "拖到维修店 (tow to a repair shop)",
            "accident": accident,
        }
        if member:
            call["member_card"] = "BJ" + "".join(rng.choices("0123456789", k=8))
        else:
            call["customer_details"] = "非会员，已登记姓名电话车牌 (non-member: details taken)"
        if accident and self.insurers:
            call["insurer"] = rng.choice(self.insurers)
        return call


class Simulation:
    """Calls and crews over a :class:`DispatchCenter`; call :meth:`step` once per tick."""

    def __init__(self, center: DispatchCenter, config: SimConfig | None = None) -> None:
        self.center = center
        self.config = config or SimConfig()
        self.rng = random.Random(self.config.seed)
        self.demand = DemandModel(center.geo, calls_per_hour=self.config.calls_per_hour,
                                  rng=np.random.default_rng(self.config.seed))
        self.calls = CallMaker(
            self.demand, fault_kinds=dict(center.rules.fault_kinds),
            insurers=tuple(center.rules.insurers), member_share=self.config.member_share,
            rng=self.rng,
        )
        self.stats: Counter[str] = Counter()
        self._next_call_s: float | None = None
        self._paths: dict[str, tuple[Leg, RoutePath]] = {}
        self._sent: dict[str, tuple[float, float]] = {}
        self._outcome: dict[str, tuple[float, bool]] = {}
        self._offered: dict[str, float] = {}

    # ------------------------------------------------------------------ one tick
    def step(self) -> None:
        now_s = self.center.now()
        self.move_trucks(now_s)
        self.crews(now_s)
        self.new_calls(now_s)

    def move_trucks(self, now_s: float) -> None:
        """GPS of every truck driving a leg, one batch."""
        positions = {}
        for truck_id, leg in self.center.legs().items():
            if leg.depart_s is None:
                continue
            cached = self._paths.get(truck_id)
            if cached is None or cached[0] is not leg:
                cached = (leg, RoutePath(leg.route.geometry["coordinates"]))
                self._paths[truck_id] = cached
            point = position_on_leg(cached[1], leg, now_s)
            if self._sent.get(truck_id) != point:
                positions[truck_id] = point
        if positions:
            self.center.move_trucks(positions)
            self._sent.update(positions)

    def _service_s(self, job_id: str, planned_s: float) -> tuple[float, bool]:
        """On-site time of a job and whether the crew will find it needs a tow."""
        if job_id not in self._outcome:
            spread = self.config.service_spread
            self._outcome[job_id] = (
                planned_s * self.rng.uniform(1.0 - spread, 1.0 + spread),
                self.rng.random() < self.config.tow_share,
            )
        return self._outcome[job_id]

    def _crew_actions(self, now_s: float) -> list[tuple[str, str, int, Any]]:
        """What the crews do now: ``(command, job_id, version, argument)`` per job."""
        center = self.center
        actions = []
        with center.lock:
            legs = center.legs()
            for job_id in center.active_job_ids():
                job = center.board.jobs[job_id]
                action = self._next_action(job, legs.get(job.truck_id or ""), now_s)
                if action is not None:
                    actions.append((action[0], job_id, center.version(job_id), action[1]))
        return actions

    def _next_action(self, job: Job, leg: Leg | None, now_s: float) -> tuple[str, Any] | None:
        """The crew's (or the simulated dispatcher's) next move on one job, if it is due."""
        rules, config = self.center.rules, self.config
        since = job.state_since_s()
        arrived = leg is None or (
            leg.job_id == job.id and leg.arrive_s is not None and now_s >= leg.arrive_s)
        due: dict[JobState, tuple[bool, tuple[str, Any]]] = {
            JobState.EN_ROUTE: (arrived, ("advance", "on_scene")),
            JobState.TOWING: (arrived, ("advance", "delivered")),
            JobState.FIXED: (now_s >= since + config.close_after_s, ("advance", "closed")),
            JobState.DELIVERED: (now_s >= since + rules.tow_unload_s, ("advance", "closed")),
        }
        if job.state in due:
            ready, action = due[job.state]
            return action if ready else None
        if job.state == JobState.ASSIGNED:
            queue = self.center.board.trucks[job.truck_id or ""].queue
            first = bool(queue) and queue[0] == job.id
            return ("advance", "en_route") if first and now_s >= since + rules.prep_s else None
        if job.state == JobState.ON_SCENE and job.needs_tow:
            return ("advance", "towing") if now_s >= since + rules.tow_load_s else None
        if job.state == JobState.ON_SCENE:
            service_s, tow = self._service_s(job.id, rules.on_site_service_s)
            if now_s < since + service_s:
                return None
            return ("convert_to_tow", None) if tow else ("advance", "fixed")
        offered_s = self._offered.get(job.id, -math.inf)
        # A received job the simulation left waiting (its own call, or a tow it converted;
        # also after a restart). A dispatcher's received jobs wait for the dispatcher.
        ours = self.center.last_change(job.id)[0] == SIM_USER
        waiting = job.state == JobState.RECEIVED and ours
        if waiting and now_s >= offered_s + config.redispatch_every_s:
            return ("dispatch", None)  # a received job of the simulation, still waiting
        return None

    def crews(self, now_s: float) -> None:
        for command, job_id, version, argument in self._crew_actions(now_s):
            try:
                if command == "advance":
                    self.center.advance(job_id, argument, version=version, user=SIM_USER)
                elif command == "convert_to_tow":
                    self.center.convert_to_tow(job_id, version=version, user=SIM_USER)
                    self.stats["converted_to_tow"] += 1
                else:
                    self._dispatch_best(job_id, version, now_s)
                    continue
                self.stats[f"advanced_{argument or command}"] += 1
            except InputError as error:
                # A dispatcher changed the job first (stale version) or the move is not
                # allowed any more: look again on the next tick.
                self.stats["refused"] += 1
                log.debug("sim %s %s refused: %s", command, job_id, error)

    def _dispatch_best(self, job_id: str, version: int, now_s: float) -> None:
        self._offered[job_id] = now_s
        best = self.center.propose(job_id)["best"]
        if best is None:
            self.stats["no_truck"] += 1
            return
        self.center.dispatch(job_id, best["truck"], version=version, user=SIM_USER)
        self.stats["dispatched"] += 1

    def new_calls(self, now_s: float) -> None:
        if self._next_call_s is None:
            self._next_call_s = now_s + self.config.first_call_after_s
        made = 0
        while now_s >= self._next_call_s and made < self.config.max_calls_per_step:
            made += 1
            self._next_call_s += self.demand.gap_s(self._next_call_s)
            self.call(now_s)
        if now_s >= self._next_call_s:  # after a pause: don't flood the room
            self._next_call_s = now_s + self.demand.gap_s(now_s)

    def call(self, now_s: float) -> str | None:
        """One simulated call: intake, then the best truck confirmed. Returns the job id."""
        try:
            answer = self.center.intake(self.calls.make(now_s), user=SIM_USER)
        except InputError as error:
            self.stats["call_refused"] += 1
            log.info("simulated call refused: %s", error)
            return None
        job = answer["job"]
        self.stats["calls"] += 1
        self._offered[job["id"]] = now_s
        best = answer["proposal"]["best"]
        if best is None:
            self.stats["no_truck"] += 1
            return job["id"]
        try:
            self.center.dispatch(job["id"], best["truck"], version=job["version"], user=SIM_USER)
            self.stats["dispatched"] += 1
        except InputError as error:
            self.stats["refused"] += 1
            log.debug("sim dispatch of %s refused: %s", job["id"], error)
        return job["id"]
