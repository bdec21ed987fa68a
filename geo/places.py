"""One entry point to the geography: load network, router and zones together, and place a
point on the road network with its zone and highway flag."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.config import load_rules
from geo.network import RoadNetwork, load_network
from geo.router import Router, Snap
from geo.speeds import SpeedModel
from geo.zones import RingZones, Zone


@dataclass(frozen=True)
class Placement:
    """A place put on the network: where it snapped, its zone, and whether it is on a
    toll highway (motorway class: tolls are the customer's, SERVICE_RULES §5)."""

    snap: Snap
    zone: Zone
    on_highway: bool
    distance_to_5th_ring_m: float
    road_name: str
    highway: str

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "on_highway": self.on_highway,
            "distance_to_5th_ring_m": round(self.distance_to_5th_ring_m, 1),
            "snapped": [round(self.snap.lon, 7), round(self.snap.lat, 7)],
            "snap_distance_m": round(self.snap.distance_m, 1),
            "road_name": self.road_name,
            "highway": self.highway,
        }


@dataclass(frozen=True, eq=False)
class Geo:
    """The network, its router, the ring zones and the speed model, loaded once."""

    network: RoadNetwork
    router: Router
    zones: RingZones
    speeds: SpeedModel
    toll_highways: frozenset[str]

    def locate(
        self, lon: Any, lat: Any, *, crs: str = "wgs84", field: str = "location"
    ) -> Placement:
        snap = self.router.snap(lon, lat, crs=crs, field=field)
        return self.placement(snap)

    def placement(self, snap: Snap) -> Placement:
        highway = self.network.edge_highway(snap.edge)
        return Placement(
            snap=snap,
            zone=self.zones.classify(snap.lon, snap.lat),
            on_highway=highway in self.toll_highways,
            distance_to_5th_ring_m=self.zones.distance_to_5th_ring_m(snap.lon, snap.lat),
            road_name=self.network.edge_name[snap.edge],
            highway=highway,
        )

    def band_at(self, when: str | dt.time | dt.datetime) -> str:
        return self.speeds.band_at(when)


def load_geo(
    osm_path: Path | None = None, *, rules: dict[str, Any] | None = None, data: Path | None = None
) -> Geo:
    """Load (or compile and cache) everything geographic; see :func:`geo.network.load_network`."""
    rules = rules or load_rules()
    network = load_network(osm_path, rules=rules)
    return Geo(
        network=network,
        router=Router(network, max_snap_m=float(rules["dispatch"]["max_snap_distance_m"])),
        zones=RingZones.from_rules(rules, data=data),
        speeds=SpeedModel.from_rules(rules),
        toll_highways=frozenset(rules["network"]["toll_highways"]),
    )
