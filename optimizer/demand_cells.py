"""The siting problem on the road network: expected calls gathered into square cells,
candidate waiting places, and which cells each place covers within the travel budget.

A cell counts as covered by a place when at least half of its demand (its edges' shares of
the calls, by their midpoints) is reached within the budget. The default candidates are,
for every ``CANDIDATE_GRID_M`` square holding demand, the node of a road a truck can wait on
(``WAITING_ROADS``) nearest to the square's demand-weighted centre.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt

from geo.errors import InputError
from geo.projection import LocalProjection
from geo.router import Snap
from optimizer.coverage import CoverageModel, nearest_edge_midpoint_times
from optimizer.siting import CoverProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
CELL_M = 1000.0  # demand is gathered into square cells of this size
CANDIDATE_GRID_M = 2000.0  # one default candidate per square of this size holding demand
# Road classes a truck can wait beside (not on an expressway or a side street).
WAITING_ROADS = ("trunk", "primary", "secondary", "tertiary")
# CP-SAT works on integers: a cell's demand share is counted in millionths.
DEMAND_UNITS = 1_000_000


def _squares(model: CoverageModel, size_m: float) -> IntArray:
    """Each edge's square of side ``size_m`` (numbered densely from 0)."""
    projection = LocalProjection(float(model.mid_lon.min()), float(model.mid_lat.min()))
    x, y = projection.to_xy(model.mid_lon, model.mid_lat)
    keys = (x // size_m).astype(np.int64) * 1_000_000 + (y // size_m).astype(np.int64)
    _, square = np.unique(keys, return_inverse=True)
    return square.astype(np.int64)


class DemandCells:
    """The edges with demand, gathered into ``CELL_M`` cells, for one band and budget."""

    def __init__(
        self, model: CoverageModel, demand: FloatArray, *, band: str, budget_s: float
    ) -> None:
        self.model = model
        self.band = band
        self.budget_s = budget_s
        self.edges = np.flatnonzero(demand > 0)
        self.edge_demand = demand[self.edges]
        _, self.cell = np.unique(_squares(model, CELL_M)[self.edges], return_inverse=True)
        self.cell_demand = np.bincount(self.cell, weights=self.edge_demand)

    def cover(self, sites: Sequence[Snap]) -> IntArray:
        """The cells the nearest of ``sites`` covers (pass one site for its own cover)."""
        times = nearest_edge_midpoint_times(
            self.model.geo, sites, band=self.band, max_s=self.budget_s
        )
        near = times[self.edges] <= self.budget_s
        reached = np.bincount(
            self.cell[near], weights=self.edge_demand[near], minlength=len(self.cell_demand)
        )
        return np.flatnonzero(reached >= 0.5 * self.cell_demand).astype(np.int64)

    def problem(self, candidates: Sequence[Snap]) -> CoverProblem:
        """The covering problem of ``candidates`` (one bounded search each, on every core)."""
        workers = max(1, min(len(candidates), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            covers = tuple(pool.map(lambda site: self.cover([site]), candidates))
        return CoverProblem(self.demand_units(), covers)

    def demand_units(self) -> IntArray:
        """Each cell's demand share in ``DEMAND_UNITS`` of the total (for CP-SAT)."""
        share = self.cell_demand / self.cell_demand.sum()
        return np.rint(share * DEMAND_UNITS).astype(np.int64)


def default_candidates(model: CoverageModel, demand: FloatArray) -> list[Snap]:
    """One waiting place per ``CANDIDATE_GRID_M`` square holding demand: the node of a
    ``WAITING_ROADS`` road with demand (so on the main component) nearest to the
    square's demand-weighted centre."""
    geo = model.geo
    net = geo.network
    waiting = np.isin(np.array(net.highway_classes)[net.highway_code], WAITING_ROADS)
    nodes = np.unique(net.tail[waiting & (demand > 0)])
    if not len(nodes):
        raise InputError(
            "candidates", None, "no main road carries demand: give the candidates (--candidates)"
        )
    edges = np.flatnonzero(demand > 0)
    square = _squares(model, CANDIDATE_GRID_M)[edges]
    weight = np.bincount(square, weights=demand[edges])
    lon = np.bincount(square, weights=demand[edges] * model.mid_lon[edges]) / weight
    lat = np.bincount(square, weights=demand[edges] * model.mid_lat[edges]) / weight
    scale = np.cos(np.radians(float(np.median(lat))))
    chosen = []
    for centre_lon, centre_lat in zip(lon[weight > 0], lat[weight > 0], strict=True):
        d2 = ((net.node_lon[nodes] - centre_lon) * scale) ** 2 + (
            net.node_lat[nodes] - centre_lat
        ) ** 2
        chosen.append(int(nodes[np.argmin(d2)]))
    return [geo.router.node_snap(node) for node in sorted(set(chosen))]
