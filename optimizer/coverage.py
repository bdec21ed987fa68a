"""Coverage for fleet planners: how much of the road network, and of the expected calls, a
set of stations reaches within the promise.

An edge counts as covered when a truck rolling from the nearest station (after
preparation) reaches its midpoint within the promise (SERVICE_RULES §1), in the chosen
time-of-day band. Road coverage weighs each edge by its km; demand coverage by its share
of the band's expected calls (:func:`optimizer.demand.expected_call_share`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from geo.places import Geo
from geo.router import Snap
from optimizer.dispatch.rules import Rules

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Unit = Literal["km", "demand"]
"""What a coverage counts: road km, or the share of the band's expected calls."""


@dataclass(frozen=True)
class Coverage:
    band: str
    budget_s: float
    unit: Unit
    covered: float
    total: float
    by_zone: dict[str, dict[str, float]]
    """Zone -> ``{"covered", "total", "share"}`` in ``unit``."""

    @property
    def share(self) -> float:
        return self.covered / self.total if self.total else 0.0

    @property
    def covered_km(self) -> float:
        """Road km covered (a road coverage's ``covered``)."""
        return self.covered

    @property
    def total_km(self) -> float:
        return self.total

    def to_json(self) -> dict[str, object]:
        """``{"share", "covered_<unit>", "total_<unit>", "by_zone": {zone: same keys}}``."""

        def keyed(covered: float, total: float, share: float) -> dict[str, float]:
            return {f"covered_{self.unit}": covered, f"total_{self.unit}": total, "share": share}

        return {
            **keyed(self.covered, self.total, self.share),
            "by_zone": {
                zone: keyed(z["covered"], z["total"], z["share"])
                for zone, z in self.by_zone.items()
            },
        }


def travel_budget_s(rules: Rules) -> float:
    """Road time a truck has to keep the promise: the promise less preparation."""
    return rules.promise_s - rules.prep_s


def edge_midpoint_times(geo: Geo, station: Snap, *, band: str, max_s: float) -> FloatArray:
    """Travel time from ``station`` to the midpoint of every edge (inf beyond ``max_s``)."""
    return nearest_edge_midpoint_times(geo, [station], band=band, max_s=max_s)


def nearest_edge_midpoint_times(
    geo: Geo, stations: Sequence[Snap], *, band: str, max_s: float
) -> FloatArray:
    """Travel time from the nearest of ``stations`` to the midpoint of every edge (inf
    beyond ``max_s``): one bounded search seeded from all the stations."""
    net = geo.network
    dist = geo.router.nearest_isochrone_node_times(stations, band=band, max_s=max_s)
    return dist[net.tail] + 0.5 * net.travel_s[net.band_index(band)]


class CoverageModel:
    """The network's edges as demand, with their zones, for one geography."""

    def __init__(self, geo: Geo) -> None:
        self.geo = geo
        net = geo.network
        mid = (net.geom_offsets[:-1] + net.geom_offsets[1:] - 1) // 2
        self.mid_lon = net.geom_lon[mid]
        self.mid_lat = net.geom_lat[mid]
        self.length_km = net.length_m / 1000.0
        self.zone = np.array(geo.zones.classify_many(self.mid_lon, self.mid_lat))
        self._zones = sorted(set(self.zone))

    def covered(self, stations: Sequence[Snap], *, band: str, budget_s: float) -> BoolArray:
        """Which edges the stations reach within ``budget_s``."""
        return nearest_edge_midpoint_times(self.geo, stations, band=band, max_s=budget_s) <= (
            budget_s
        )

    def coverage(
        self,
        stations: Sequence[Snap],
        *,
        band: str,
        budget_s: float,
        demand: FloatArray | None = None,
    ) -> Coverage:
        """Road km covered, or with ``demand`` (a weight per edge, as
        :func:`optimizer.demand.expected_call_share` gives) the demand covered."""
        covered = self.covered(stations, band=band, budget_s=budget_s)
        return self.measure(covered, band=band, budget_s=budget_s, demand=demand)

    def measure(
        self, covered: BoolArray, *, band: str, budget_s: float, demand: FloatArray | None = None
    ) -> Coverage:
        """The coverage of the ``covered`` edges, by zone (see :meth:`coverage`)."""
        weight = self.length_km if demand is None else demand
        by_zone = {}
        for zone in self._zones:
            in_zone = self.zone == zone
            total = float(weight[in_zone].sum())
            done = float(weight[in_zone & covered].sum())
            by_zone[str(zone)] = {
                "covered": done,
                "total": total,
                "share": done / total if total else 0.0,
            }
        return Coverage(
            band=band,
            budget_s=budget_s,
            unit="km" if demand is None else "demand",
            covered=float(weight[covered].sum()),
            total=float(weight.sum()),
            by_zone=by_zone,
        )
