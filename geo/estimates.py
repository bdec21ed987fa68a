"""Estimated travel beyond the road data.

The extract covers Beijing to about the 5th ring, but the club serves the whole city. A
place farther than ``max_snap_distance_m`` from every road is reached by the road route to
the network point nearest it plus the rest by straight line times a detour factor (the
median route/straight-line ratio measured on the network, ``[estimates] detour_factor``),
at the band's mean speed of the network's main roads outside the 5th ring (the roads a long
trip to the suburbs takes). Every answer built on it says ``estimated``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geo.network import RoadNetwork
from geo.zones import RingZones


@dataclass(frozen=True)
class OffNetworkModel:
    """Straight-line remainder -> road metres and seconds, per time-of-day band."""

    detour_factor: float
    speed_mps: dict[str, float]
    """Mean speed by band of the main roads outside the 5th ring (length / travel time)."""

    @classmethod
    def measure(
        cls,
        network: RoadNetwork,
        zones: RingZones,
        *,
        detour_factor: float,
        road_classes: frozenset[str],
    ) -> OffNetworkModel:
        mid = network.geom_offsets[:-1] + np.diff(network.geom_offsets) // 2
        zone = np.array(zones.classify_many(network.geom_lon[mid], network.geom_lat[mid]))
        codes = [i for i, name in enumerate(network.highway_classes) if name in road_classes]
        outer = (zone != "inside_5th_ring") & np.isin(network.highway_code, codes)
        length_m = float(network.length_m[outer].sum())
        speed_mps = {
            band: length_m / float(network.travel_s[b][outer].sum())
            for b, band in enumerate(network.bands)
        }
        return cls(detour_factor, speed_mps)

    def road_m(self, straight_m: float) -> float:
        """Road metres estimated for a straight-line distance."""
        return straight_m * self.detour_factor

    def travel_s(self, straight_m: float, band: str) -> float:
        """Seconds estimated to drive a straight-line distance in ``band``."""
        return self.road_m(straight_m) / self.speed_mps[band]
