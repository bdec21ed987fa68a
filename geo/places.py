"""One entry point to the geography: load network, router and zones together, and place a
point on the road network with its zone and highway flag.

The zone (and the distance to the 5th ring) is the caller's own point's, tested against the
ring polygons: the snapped road point serves routing only. A place just outside the 5th
ring whose nearest road runs inside it is still outside (SERVICE_RULES §5 prices the
call-out by where the car is).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from geo.config import load_rules
from geo.coords import check_crs, to_wgs84
from geo.errors import InputError
from geo.estimates import OffNetworkModel
from geo.network import RoadNetwork, default_cache_dir, load_network
from geo.router import Route, Router, Snap
from geo.speeds import SpeedModel
from geo.zones import RingZones, Zone


@dataclass(frozen=True)
class Placement:
    """A place put on the network: the reported point, where it snapped, its zone, and
    whether it is on a toll highway (motorway class: tolls are the customer's, SERVICE_RULES
    §5).

    ``zone`` and ``distance_to_5th_ring_m`` are those of ``point``, the caller's point in
    WGS-84 (converted from GCJ-02 when reported so); ``snap`` and the road fields are the
    road point used for routing.
    """

    snap: Snap
    zone: Zone
    on_highway: bool
    distance_to_5th_ring_m: float
    road_name: str
    highway: str
    point: tuple[float, float]
    """The reported place, WGS-84 ``(lon, lat)``."""
    off_network_m: float = 0.0
    """For a place beyond the road data: the straight metres from the road point to it
    (travel over them is estimated, :mod:`geo.estimates`); 0 on the network."""

    @property
    def estimated(self) -> bool:
        return self.off_network_m > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "on_highway": self.on_highway,
            "distance_to_5th_ring_m": round(self.distance_to_5th_ring_m, 1),
            "snapped": [round(self.snap.lon, 7), round(self.snap.lat, 7)],
            "snap_distance_m": round(self.snap.distance_m, 1),
            "road_name": self.road_name,
            "highway": self.highway,
            "point": [round(self.point[0], 7), round(self.point[1], 7)],
            "estimated": self.estimated,
            "off_network_m": round(self.off_network_m, 1),
        }


@dataclass(frozen=True, eq=False)
class Geo:
    """The network, its router, the ring zones and the speed model, loaded once."""

    network: RoadNetwork
    router: Router
    zones: RingZones
    speeds: SpeedModel
    toll_highways: frozenset[str]
    estimates: dict[str, Any]
    """The ``[estimates]`` rules: ``detour_factor``, ``road_classes``."""

    @cached_property
    def off_network(self) -> OffNetworkModel:
        """Estimates beyond the road data (measured on first use)."""
        return OffNetworkModel.measure(
            self.network,
            self.zones,
            detour_factor=float(self.estimates["detour_factor"]),
            road_classes=frozenset(self.estimates["road_classes"]),
        )

    def locate(
        self, lon: Any, lat: Any, *, crs: str = "wgs84", field: str = "location"
    ) -> Placement:
        """Place the reported point ``lon, lat`` (in ``crs``): snapped for routing, zoned
        where it is. A point in the service area but beyond the road data snaps to the
        nearest road point, with the rest of the way estimated (``off_network_m``).

        Raises :class:`geo.errors.InputError` for a bad point or one outside the service
        area.
        """
        lon_f, lat_f = self.router.check_lonlat(lon, lat, field=field)
        check_crs(crs)
        point = to_wgs84(lon_f, lat_f, crs)
        if not self.zones.in_service_area(*point):
            raise InputError(
                field,
                (lon, lat),
                "outside the service area is the 6th Ring Road and {km:g} km beyond it",
                km=self.zones.service_area_beyond_6th_ring_m / 1000.0,
            )
        snap = self.router.snap(lon_f, lat_f, crs=crs, field=field, max_snap_m=math.inf)
        placement = self.placement(snap, point)
        if snap.distance_m > self.router.max_snap_m:
            return replace(placement, off_network_m=snap.distance_m)
        return placement

    def off_network_s(self, placement: Placement, band: str) -> float:
        """Seconds to add to a road route that ends (or starts) at ``placement.snap``."""
        if not placement.estimated:
            return 0.0
        return self.off_network.travel_s(placement.off_network_m, band)

    def route_to(self, origin: Snap, dest: Placement, *, band: str) -> Route:
        """The road route to ``dest``'s road point, then (beyond the road data) the
        estimated rest of the way, drawn as a straight line to the reported point."""
        route = self.router.route(origin, dest.snap, band=band)
        return self._with_remainder(route, dest, band=band, at_end=True)

    def route_from(self, origin: Placement, dest: Snap, *, band: str) -> Route:
        """Like :meth:`route_to`, leaving a place that may lie beyond the road data."""
        route = self.router.route(origin.snap, dest, band=band)
        return self._with_remainder(route, origin, band=band, at_end=False)

    def _with_remainder(self, route: Route, place: Placement, *, band: str, at_end: bool) -> Route:
        if not place.estimated:
            return route
        line = list(route.geometry["coordinates"])
        point = [round(place.point[0], 7), round(place.point[1], 7)]
        coordinates = [*line, point] if at_end else [point, *line]
        return replace(
            route,
            travel_s=route.travel_s + self.off_network_s(place, band),
            length_m=route.length_m + self.off_network.road_m(place.off_network_m),
            geometry={"type": "LineString", "coordinates": coordinates},
        )

    def placement(self, snap: Snap, point: tuple[float, float] | None = None) -> Placement:
        """The placement of WGS-84 ``point`` snapped at ``snap``.

        Without ``point`` the snapped point stands for the place (only right for a place
        known to be on the road, e.g. a node): prefer :meth:`locate` for a reported place.
        """
        lon, lat = (snap.lon, snap.lat) if point is None else point
        highway = self.network.edge_highway(snap.edge)
        return Placement(
            snap=snap,
            zone=self.zones.classify(lon, lat),
            on_highway=highway in self.toll_highways,
            distance_to_5th_ring_m=self.zones.distance_to_5th_ring_m(lon, lat),
            road_name=self.network.edge_name[snap.edge],
            highway=highway,
            point=(float(lon), float(lat)),
        )

    def band_at(self, when: str | dt.time | dt.datetime) -> str:
        return self.speeds.band_at(when)


def load_geo(
    osm_path: Path | None = None, *, rules: dict[str, Any] | None = None, data: Path | None = None
) -> Geo:
    """Load (or compile and cache) everything geographic; see :func:`geo.network.load_network`."""
    rules = rules or load_rules()
    network = load_network(osm_path, rules=rules)
    dispatch = rules["dispatch"]
    router = Router(
        network,
        max_snap_m=float(dispatch["max_snap_distance_m"]),
        snap_margin_m=float(dispatch["snap_margin_m"]),
        snap_walk_mps=float(dispatch["snap_walk_mps"]),
        snap_on_road_m=float(dispatch["snap_on_road_m"]),
        hierarchy_dir=default_cache_dir(),
    )
    router.hierarchies.prepare()  # loaded now (built once by `make data`), not mid-call
    return Geo(
        network=network,
        router=router,
        zones=RingZones.from_rules(rules, data=data),
        speeds=SpeedModel.from_rules(rules),
        toll_highways=frozenset(rules["network"]["toll_highways"]),
        estimates=dict(rules["estimates"]),
    )
