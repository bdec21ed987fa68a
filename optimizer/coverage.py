"""Coverage for fleet planners: how much of the road network a set of stations reaches
within the promise, and where to put stations to reach the most (maximal covering,
OR-Tools CP-SAT).

Demand is road length: an edge counts as covered when a truck rolling from a station
(after preparation) reaches its midpoint within the promise (SERVICE_RULES §1), in the
chosen time-of-day band.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

from geo.places import Geo
from geo.projection import LocalProjection
from geo.router import Snap
from optimizer.dispatch.rules import Rules

FloatArray = npt.NDArray[np.float64]
CELL_M = 1000.0  # siting aggregates demand into square cells of this size


@dataclass(frozen=True)
class Coverage:
    band: str
    budget_s: float
    covered_km: float
    total_km: float
    by_zone: dict[str, dict[str, float]]
    """Zone -> ``{"covered_km", "total_km", "share"}``."""

    @property
    def share(self) -> float:
        return self.covered_km / self.total_km


def travel_budget_s(rules: Rules) -> float:
    """Road time a truck has to keep the promise: the promise less preparation."""
    return rules.promise_s - rules.prep_s


def edge_midpoint_times(geo: Geo, station: Snap, *, band: str, max_s: float) -> FloatArray:
    """Travel time from ``station`` to the midpoint of every edge (inf beyond ``max_s``)."""
    net = geo.network
    dist = geo.router.isochrone_node_times(station, band=band, max_s=max_s)
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

    def reach_times(self, stations: list[Snap], *, band: str, budget_s: float) -> FloatArray:
        best = np.full(self.geo.network.edge_count, np.inf)
        for station in stations:
            np.minimum(
                best, edge_midpoint_times(self.geo, station, band=band, max_s=budget_s), out=best
            )
        return best

    def coverage(self, stations: list[Snap], *, band: str, budget_s: float) -> Coverage:
        covered = self.reach_times(stations, band=band, budget_s=budget_s) <= budget_s
        by_zone = {}
        for zone in sorted(set(self.zone)):
            in_zone = self.zone == zone
            total = float(self.length_km[in_zone].sum())
            done = float(self.length_km[in_zone & covered].sum())
            by_zone[str(zone)] = {"covered_km": done, "total_km": total, "share": done / total}
        return Coverage(
            band=band,
            budget_s=budget_s,
            covered_km=float(self.length_km[covered].sum()),
            total_km=float(self.length_km.sum()),
            by_zone=by_zone,
        )

    def cells(self) -> tuple[npt.NDArray[np.int64], FloatArray]:
        """Each edge's demand cell and the road km per cell."""
        projection = LocalProjection(float(self.mid_lon.min()), float(self.mid_lat.min()))
        x, y = projection.to_xy(self.mid_lon, self.mid_lat)
        keys = (x // CELL_M).astype(np.int64) * 100_000 + (y // CELL_M).astype(np.int64)
        _, cell = np.unique(keys, return_inverse=True)
        return cell.astype(np.int64), np.bincount(cell, weights=self.length_km).astype(np.float64)

    def site(
        self,
        candidates: list[Snap],
        *,
        stations: int,
        band: str,
        budget_s: float,
        time_limit_s: float = 20.0,
    ) -> list[int]:
        """Indices of ``stations`` candidates covering the most road km (maximal covering).

        A cell (``CELL_M`` square) counts as covered by a candidate when at least half of
        its road km is within ``budget_s``; CP-SAT maximises the covered km.
        """
        if not 0 < stations <= len(candidates):
            raise ValueError(f"stations={stations}: must be between 1 and {len(candidates)}")
        cell, cell_km = self.cells()
        covers: list[set[int]] = [set() for _ in range(len(cell_km))]
        for j, candidate in enumerate(candidates):
            near = edge_midpoint_times(self.geo, candidate, band=band, max_s=budget_s) <= budget_s
            reached_km = np.bincount(
                cell[near], weights=self.length_km[near], minlength=len(cell_km)
            )
            for reached in np.flatnonzero(reached_km >= 0.5 * cell_km):
                covers[reached].add(j)
        model = cp_model.CpModel()
        pick = [model.new_bool_var(f"site{j}") for j in range(len(candidates))]
        model.add(sum(pick) == stations)
        gain = []
        for c, sites in enumerate(covers):
            if sites:
                covered = model.new_bool_var(f"cell{c}")
                model.add_bool_or([pick[j] for j in sites]).only_enforce_if(covered)
                gain.append(round(cell_km[c] * 1000) * covered)
        model.maximize(sum(gain))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit_s
        solver.parameters.num_workers = 2
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            raise RuntimeError(f"CP-SAT found no siting ({solver.status_name(status)})")
        return [j for j in range(len(candidates)) if solver.value(pick[j])]
