"""The breakdown-call model: when and where calls happen, and who calls about what.

Calls per hour follow an hourly profile of Beijing time; the place of a call is a road
edge drawn with weight ``length x class weight x band factor`` (more traffic, more
breakdowns per km on the big roads, more still at the peaks), restricted to the network's
main strongly connected part so every call can be reached. The fault mix differs on
motorways. The figures are judgement for simulation, not the club's statistics. The live
room's simulation and the fleet planners' day simulation share this model.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from geo.path import RoutePath
from geo.places import Geo
from optimizer.dispatch.clock import beijing_time

# Relative call rate by hour of Beijing time (scaled so the day's mean is calls_per_hour):
# low at night, peaks at 8 and 18.
HOURLY_PROFILE = (
    0.35,
    0.25,
    0.20,
    0.20,
    0.25,
    0.40,
    0.80,
    1.50,
    1.80,
    1.30,
    1.05,
    1.00,
    1.00,
    1.00,
    1.00,
    1.10,
    1.30,
    1.70,
    1.80,
    1.30,
    1.00,
    0.80,
    0.60,
    0.45,
)
# Calls per km of road by class, relative: more traffic, more breakdowns (judgement).
CLASS_WEIGHT = {
    "motorway": 3.0,
    "motorway_link": 1.5,
    "trunk": 2.5,
    "trunk_link": 1.2,
    "primary": 2.0,
    "primary_link": 1.0,
    "secondary": 1.5,
    "secondary_link": 0.8,
    "tertiary": 1.0,
    "tertiary_link": 0.6,
    "unclassified": 0.5,
    "residential": 0.5,
    "living_street": 0.2,
    "service": 0.2,
    "road": 0.5,
}
# Band factors per class: expressways carry the peaks; side streets are quiet at night.
BAND_CLASS_FACTOR: dict[str, dict[str, float]] = {
    "morning_peak": {"motorway": 1.5, "trunk": 1.4, "motorway_link": 1.3, "trunk_link": 1.3},
    "evening_peak": {"motorway": 1.5, "trunk": 1.4, "motorway_link": 1.3, "trunk_link": 1.3},
    "night": {"residential": 0.6, "living_street": 0.5, "service": 0.5, "unclassified": 0.7},
}
# Fault mix (relative weights); on a motorway tyres, fuel and accidents dominate.
FAULT_MIX = {
    "flat_battery": 30,
    "flat_tyre": 20,
    "out_of_fuel": 5,
    "locked_out": 10,
    "minor_electrical": 8,
    "engine_failure": 10,
    "gearbox_failure": 4,
    "accident_damage": 7,
    "drivetrain_failure": 2,
    "steering_failure": 2,
    "stuck": 1.5,
    "overturned": 0.5,
}
MOTORWAY_FAULT_MIX = {
    "flat_battery": 5,
    "flat_tyre": 30,
    "out_of_fuel": 15,
    "locked_out": 1,
    "minor_electrical": 5,
    "engine_failure": 17,
    "gearbox_failure": 4,
    "accident_damage": 20,
    "drivetrain_failure": 2,
    "steering_failure": 1,
    "stuck": 0.5,
    "overturned": 0.5,
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
MODELS = (
    "大众帕萨特",
    "丰田卡罗拉",
    "本田雅阁",
    "别克英朗",
    "日产轩逸",
    "奥迪A6L",
    "宝马3系",
    "比亚迪秦",
    "现代伊兰特",
    "吉利帝豪",
)
COLOURS = ("白色", "黑色", "银色", "灰色", "红色", "蓝色")
PLATE_LETTERS = "ABCEFGHJKLMNPQ"


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


def call_weights(
    geo: Geo, edges: npt.NDArray[np.int64], edge_class: npt.NDArray[np.object_], *, band: str
) -> npt.NDArray[np.float64]:
    """Relative call rate of each of ``edges`` (of classes ``edge_class``) in ``band``:
    ``length x class weight x band factor``."""
    class_weight = np.array([CLASS_WEIGHT.get(c, 0.5) for c in edge_class])
    factors = BAND_CLASS_FACTOR.get(band, {})
    factor = np.array([factors.get(c, 1.0) for c in edge_class])
    return np.asarray(geo.network.length_m[edges] * class_weight * factor, dtype=np.float64)


def expected_call_share(
    geo: Geo, *, band: str, kind_of_fault: Mapping[str, str] | None = None, kind: str = ""
) -> npt.NDArray[np.float64]:
    """Each network edge's share of the calls in ``band`` (0 off the main component).

    With ``kind_of_fault`` (fault -> truck kind, config/rules.toml [triage]) and ``kind``,
    only the calls that need that kind of truck count: an edge's rate times the share of
    ``kind`` in its fault mix (the motorway mix on motorway classes). The shares sum to 1.
    """
    net = geo.network
    edges = main_component_edges(geo)
    edge_class = np.array([net.highway_classes[c] for c in net.highway_code[edges]], dtype=object)
    weight = call_weights(geo, edges, edge_class, band=band)
    if kind_of_fault is not None:
        if kind not in kind_of_fault.values():
            raise ValueError(
                f"kind={kind!r}: no fault needs it ({sorted(set(kind_of_fault.values()))})"
            )
        weight *= [
            _kind_share(
                MOTORWAY_FAULT_MIX if c.startswith("motorway") else FAULT_MIX, kind_of_fault, kind
            )
            for c in edge_class
        ]
    share = np.zeros(net.edge_count)
    share[edges] = weight / weight.sum()
    return share


def _kind_share(mix: dict[str, float], kind_of_fault: Mapping[str, str], kind: str) -> float:
    """The share of ``mix`` (faults known to the rules) whose faults need ``kind``."""
    known = {fault: mix.get(fault, 1.0) for fault in kind_of_fault}
    return sum(w for fault, w in known.items() if kind_of_fault[fault] == kind) / sum(
        known.values()
    )


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
            [net.highway_classes[c] for c in net.highway_code[self.edges]], dtype=object
        )
        self._cumulative = {
            band: np.cumsum(call_weights(geo, self.edges, self.edge_class, band=band))
            for band in net.bands
        }

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


MEMBER_SHARE = 0.7
"""Share of simulated callers who are members: the live room's simulation and the
planners' simulated days both draw callers with it."""


class CallMaker:
    """Invented callers, cars and faults for simulated calls (intake JSON, §2)."""

    def __init__(
        self,
        demand: DemandModel,
        *,
        fault_kinds: dict[str, str],
        insurers: tuple[str, ...],
        member_share: float,
        rng: random.Random,
    ) -> None:
        self.demand = demand
        self.rng = rng
        self.member_share = member_share
        self.insurers = insurers
        self.fault_kinds = fault_kinds
        self.faults = tuple(fault_kinds)
        self.mix = [FAULT_MIX.get(f, 1.0) for f in self.faults]
        self.motorway_mix = [MOTORWAY_FAULT_MIX.get(f, 1.0) for f in self.faults]

    def make(self, now_s: float) -> dict[str, Any]:
        """A call at a place drawn from the demand model at ``now_s``."""
        lon, lat, edge = self.demand.sample_place(now_s)
        net = self.demand.geo.network
        return self.make_at((lon, lat), road=net.edge_name[edge], highway=net.edge_highway(edge))

    def make_at(
        self,
        place: tuple[float, float],
        *,
        road: str = "",
        highway: str = "",
        fault: str | None = None,
    ) -> dict[str, Any]:
        """A call at ``place`` (``[lon, lat]``), on a road of class ``highway`` if known,
        about ``fault`` (default: drawn from the fault mix)."""
        rng = self.rng
        lon, lat = place
        on_motorway = highway.startswith("motorway")
        mix = self.motorway_mix if on_motorway else self.mix
        drawn = rng.choices(self.faults, weights=mix)[0]
        fault = drawn if fault is None else fault
        male = rng.random() < 0.6
        member = rng.random() < self.member_share
        accident = fault == "accident_damage"
        call: dict[str, Any] = {
            "caller": {
                "name": rng.choice(SURNAMES) + ("先生" if male else "女士"),
                "phone": "1" + rng.choice("3589") + "".join(rng.choices("0123456789", k=9)),
                "gender": "male" if male else "female",
            },
            "vehicle": {
                "plate": "京"
                + rng.choice(PLATE_LETTERS)
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
            if self.fault_kinds[fault] == "service"
            else "拖到维修店 (tow to a repair shop)",
            "accident": accident,
        }
        if member:
            call["member_card"] = "BJ" + "".join(rng.choices("0123456789", k=8))
        else:
            call["customer_details"] = "非会员，已登记姓名电话车牌 (non-member: details taken)"
        if accident and self.insurers:
            call["insurer"] = rng.choice(self.insurers)
        return call
