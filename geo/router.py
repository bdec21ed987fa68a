"""Routing on the compiled network: snapping, one-to-many / many-to-one times, paths.

A place is snapped to a point of a road edge, not to a node: a :class:`Snap` is an edge and
a fraction along it, and travel times count the partial edge at both ends. The nearest edge
wins unless it lies in a dead end of the network and a road a little farther away (within
``snap_margin_m``) is reached sooner from the network at large (:meth:`Router.snap_many`).
On a two-way road the snap also knows the opposite edge, so a truck may leave (or a job be
reached) in either direction. Travel times between one place and many (the hot path of
dispatch) are an upward search and a sweep over a contraction hierarchy of the band
(:mod:`geo.ch`); routes and isochrones run the numba Dijkstra of :mod:`geo.dijkstra` over
CSR arrays. networkx is never touched.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from numba import njit
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from shapely.ops import substring

from geo.coords import check_crs, gcj02_to_wgs84
from geo.dijkstra import dijkstra
from geo.errors import InputError
from geo.hierarchies import BandHierarchies
from geo.nearest import SegmentGrid
from geo.network import RoadNetwork
from geo.projection import LocalProjection

DEFAULT_MAX_SNAP_M = 2000.0
# A dead-end road is passed over for another road at most this much farther from the place.
DEFAULT_SNAP_MARGIN_M = 100.0
# Extra metres off the road are valued at walking pace (the crew walks from the truck).
DEFAULT_SNAP_WALK_MPS = 1.4
# A place this close to its nearest road is on that road: it snaps there, dead end or not.
DEFAULT_SNAP_ON_ROAD_M = 30.0
# Another edge must beat the nearest one by more than this (float noise at shared nodes).
_SNAP_TIE_S = 1e-6

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Snap:
    """A place on the network: ``fraction`` of the way along ``edge`` (0 = its tail).

    ``edge`` is the lower id of a two-way pair; ``twin`` is the opposite edge or -1.
    ``lon``/``lat`` is the snapped point (WGS-84), ``distance_m`` how far the query was.
    """

    edge: int
    fraction: float
    twin: int
    lon: float
    lat: float
    distance_m: float


@dataclass(frozen=True, eq=False)
class SnapSet:
    """Many snaps as arrays, for the hot many-to-one path (build once, query often)."""

    edge: IntArray
    fraction: FloatArray
    twin: IntArray

    @classmethod
    def of(cls, snaps: Sequence[Snap]) -> SnapSet:
        return cls(
            edge=np.array([s.edge for s in snaps], dtype=np.int64),
            fraction=np.array([s.fraction for s in snaps], dtype=np.float64),
            twin=np.array([s.twin for s in snaps], dtype=np.int64),
        )

    def __len__(self) -> int:
        return int(self.edge.shape[0])

    def snap(self, i: int) -> Snap:
        """The i-th member as a :class:`Snap` (coordinates not kept: NaN)."""
        return Snap(
            int(self.edge[i]), float(self.fraction[i]), int(self.twin[i]), math.nan, math.nan, 0.0
        )


@dataclass(frozen=True)
class Route:
    travel_s: float
    length_m: float
    geometry: dict[str, Any]
    """GeoJSON LineString following the road shape, ``[lon, lat]`` pairs."""
    edges: tuple[int, ...]
    """Network edge ids driven, in order (partial end edges included, zero-length ones not)."""


@njit(cache=True, nogil=True)
def _bridges(
    indptr: IntArray, adj_node: IntArray, adj_edge: IntArray, edge_count: int
) -> BoolArray:
    """Bridges of an undirected multigraph in CSR form (iterative Tarjan lowlink).

    Each undirected edge appears as two arcs with the same id in ``adj_edge``; parallel
    edges have different ids, so they are never bridges.
    """
    n = indptr.shape[0] - 1
    disc = np.full(n, -1, dtype=np.int64)
    low = np.zeros(n, dtype=np.int64)
    parent_edge = np.full(n, -1, dtype=np.int64)
    cursor = indptr[:-1].copy()
    stack = np.empty(n, dtype=np.int64)
    is_bridge = np.zeros(edge_count, dtype=np.bool_)
    timer = 0
    for root in range(n):
        if disc[root] >= 0:
            continue
        top = 0
        stack[0] = root
        disc[root] = timer
        low[root] = timer
        timer += 1
        while top >= 0:
            v = stack[top]
            if cursor[v] < indptr[v + 1]:
                k = cursor[v]
                cursor[v] += 1
                u = adj_node[k]
                if adj_edge[k] == parent_edge[v]:
                    continue
                if disc[u] < 0:
                    parent_edge[u] = adj_edge[k]
                    disc[u] = timer
                    low[u] = timer
                    timer += 1
                    top += 1
                    stack[top] = u
                elif disc[u] < low[v]:
                    low[v] = disc[u]
            else:
                top -= 1
                if top >= 0:
                    p = stack[top]
                    low[p] = min(low[p], low[v])
                    if low[v] > disc[p]:
                        is_bridge[parent_edge[v]] = True
    return is_bridge


def through_nodes(network: RoadNetwork) -> BoolArray:
    """Nodes of the through network: the largest 2-edge-connected part of the road graph.

    Roads are taken undirected (a two-way road once). What hangs off it by a bridge (an
    edge whose removal disconnects it) is a dead end: every trip in or out of it crosses
    that bridge, however short the straight line to a through road is.
    """
    tail, head, twin = network.tail, network.head, network.twin_edge
    edge_ids = np.arange(network.edge_count, dtype=np.int64)
    undirected = edge_ids[((twin < 0) | (twin > edge_ids)) & (tail != head)]
    ends_a = np.concatenate((tail[undirected], head[undirected]))
    ends_b = np.concatenate((head[undirected], tail[undirected]))
    arc_edge = np.concatenate((undirected, undirected))
    order = np.argsort(ends_a, kind="stable")
    indptr = np.concatenate(([0], np.cumsum(np.bincount(ends_a, minlength=network.node_count))))
    is_bridge = _bridges(
        indptr.astype(np.int64), ends_b[order], arc_edge[order], network.edge_count
    )
    kept = ~is_bridge[arc_edge]
    graph = coo_array(
        (np.ones(int(kept.sum())), (ends_a[kept], ends_b[kept])),
        shape=(network.node_count, network.node_count),
    )
    _, label = connected_components(graph, directed=False)
    through: BoolArray = label == np.argmax(np.bincount(label))
    return through


class Router:
    """Snapping and shortest travel times over one :class:`RoadNetwork`.

    Parameters
    ----------
    network
        The compiled network.
    max_snap_m
        Places farther than this from every road are refused.
    snap_margin_m
        Roads up to this much farther than the nearest one are considered when snapping.
    snap_walk_mps
        The walking pace that values each extra metre between the place and its road.
    hierarchy_dir
        Where the bands' contraction hierarchies are cached (built in memory without).
    """

    def __init__(
        self,
        network: RoadNetwork,
        *,
        max_snap_m: float = DEFAULT_MAX_SNAP_M,
        snap_margin_m: float = DEFAULT_SNAP_MARGIN_M,
        snap_walk_mps: float = DEFAULT_SNAP_WALK_MPS,
        snap_on_road_m: float = DEFAULT_SNAP_ON_ROAD_M,
        hierarchy_dir: Path | None = None,
    ) -> None:
        self.network = network
        self.hierarchies = BandHierarchies(network, hierarchy_dir)
        """Per band, the contraction hierarchy of the many-to-one / one-to-many queries."""
        self.max_snap_m = max_snap_m
        self.snap_margin_m = snap_margin_m
        self.snap_walk_mps = snap_walk_mps
        self.snap_on_road_m = snap_on_road_m
        self._projection = LocalProjection(
            float(network.node_lon.mean()), float(network.node_lat.mean())
        )
        self._edge_lines = self._project_edges()
        self._tree = shapely.STRtree(self._edge_lines)
        self._reverse_adj_node = network.tail[network.reverse_order]
        self._reverse_weight = np.ascontiguousarray(network.travel_s[:, network.reverse_order])
        self._forward_edge = np.arange(network.edge_count, dtype=np.int64)
        self._free_flow_s = np.ascontiguousarray(network.travel_s.min(axis=0))
        self.through_node = through_nodes(network)
        """Per node: on the through network (:func:`through_nodes`)."""
        through = np.flatnonzero(self.through_node)
        self.dead_end_node_s, _ = dijkstra(
            network.indptr,
            network.head,
            self._free_flow_s,
            self._forward_edge,
            through,
            np.zeros(through.shape[0]),
        )
        """Per node: free-flow seconds to reach it from the through network (0 on it)."""

    def _project_edges(self) -> npt.NDArray[np.object_]:
        net = self.network
        x, y = self._projection.to_xy(net.geom_lon, net.geom_lat)
        owner = np.repeat(np.arange(net.edge_count), np.diff(net.geom_offsets))
        return shapely.linestrings(np.column_stack((x, y)), indices=owner)

    # ----------------------------------------------------------------- snapping
    @cached_property
    def _bbox(self) -> tuple[float, float, float, float]:
        """The network's :meth:`~geo.network.RoadNetwork.bbox`, computed once (a router's
        network never changes): every place checked reads it."""
        return self.network.bbox()

    @cached_property
    def _segment_grid(self) -> SegmentGrid:
        """The edges' segments on a grid: the nearest edge of a point in about a µs; of
        equally near edges (at a node), one of the through network."""
        net = self.network
        through_edge = self.through_node[net.tail] & self.through_node[net.head]
        return SegmentGrid(self._edge_lines, preferred=through_edge)

    def covered_area(self) -> dict[str, float]:
        """The bounding box the network covers, as the placeholders of the texts that
        tell a caller where the network is (``{min_lon:.3f}``...)."""
        min_lon, min_lat, max_lon, max_lat = self._bbox
        return {"min_lon": min_lon, "max_lon": max_lon, "min_lat": min_lat, "max_lat": max_lat}

    def check_lonlat(self, lon: Any, lat: Any, *, field: str = "location") -> tuple[float, float]:
        """Validate a WGS-84/GCJ-02 pair before any work; raise :class:`InputError`."""
        try:
            lon_f, lat_f = float(lon), float(lat)
        except (TypeError, ValueError):
            raise InputError(field, (lon, lat), "expected two numbers [lon, lat]") from None
        if not (math.isfinite(lon_f) and math.isfinite(lat_f)):
            raise InputError(field, (lon, lat), "coordinates must be finite numbers")
        min_lon, min_lat, max_lon, max_lat = self._bbox
        lon_inside = min_lon - 1.0 <= lon_f <= max_lon + 1.0
        lat_inside = min_lat - 1.0 <= lat_f <= max_lat + 1.0
        swapped = (
            min_lon - 1.0 <= lat_f <= max_lon + 1.0 and min_lat - 1.0 <= lon_f <= max_lat + 1.0
        )
        if not (lon_inside and lat_inside) and swapped:
            area = self.covered_area()
            raise InputError(
                field,
                (lon, lat),
                "looks like (lat, lon): give [lon, lat] (the network covers lon "
                "{min_lon:.3f}..{max_lon:.3f}, lat {min_lat:.3f}..{max_lat:.3f})",
                min_lon=area["min_lon"],
                max_lon=area["max_lon"],
                min_lat=area["min_lat"],
                max_lat=area["max_lat"],
            )
        if not (-180.0 <= lon_f <= 180.0 and -90.0 <= lat_f <= 90.0):
            raise InputError(
                field, (lon, lat), "longitude must be in -180..180, latitude in -90..90"
            )
        return lon_f, lat_f

    def snap(
        self,
        lon: Any,
        lat: Any,
        *,
        crs: str = "wgs84",
        field: str = "location",
        max_snap_m: float | None = None,
    ) -> Snap:
        """Snap one place to a road edge (see :meth:`snap_many`)."""
        return self.snap_many([lon], [lat], crs=crs, field=field, max_snap_m=max_snap_m)[0]

    def snap_many(
        self,
        lons: Any,
        lats: Any,
        *,
        crs: str = "wgs84",
        field: str = "location",
        max_snap_m: float | None = None,
    ) -> list[Snap]:
        """Snap many places at once (vectorised).

        Each place goes to the nearest point of the road edge with the least cost in
        seconds: the metres from the place to the edge at ``snap_walk_mps``, plus the
        free-flow time from the through network to that point (:meth:`dead_end_s`: 0 on
        the through network). Only edges within ``snap_margin_m`` of the nearest one are
        considered, and the nearest edge wins ties. So a place next to a through road
        snaps to the nearest road as before, and a place that is nearest to a long dead
        end snaps instead to a road slightly farther away that is reached minutes sooner
        (Fragrant Hills: a 2.1 km park service road 256 m away versus 煤厂街 258 m away).

        Raises :class:`InputError` for the first bad place, or one farther than
        ``max_snap_m`` (default: the router's) from every road.
        """
        snaps = []
        for snap, error in self.try_snap_many(
            lons, lats, crs=crs, field=field, max_snap_m=max_snap_m
        ):
            if snap is None:
                assert error is not None
                raise error
            snaps.append(snap)
        return snaps

    def try_snap_many(
        self,
        lons: Any,
        lats: Any,
        *,
        crs: str = "wgs84",
        field: str = "location",
        max_snap_m: float | None = None,
    ) -> list[tuple[Snap, None] | tuple[None, InputError]]:
        """Like :meth:`snap_many`, but each place gets its snap or its own error."""
        check_crs(crs)
        limit_m = self.max_snap_m if max_snap_m is None else max_snap_m
        pairs = list(zip(lons, lats, strict=True))
        results: list[Any] = [None] * len(pairs)
        valid: list[tuple[int, float, float]] = []
        for i, (lon, lat) in enumerate(pairs):
            try:
                valid.append((i, *self.check_lonlat(lon, lat, field=field)))
            except InputError as error:
                results[i] = (None, error)
        if not valid:
            return results
        area = self.covered_area()
        lon_arr = np.array([v[1] for v in valid])
        lat_arr = np.array([v[2] for v in valid])
        if crs == "gcj02":
            lon_arr, lat_arr = gcj02_to_wgs84(lon_arr, lat_arr)
        points = shapely.points(*self._projection.to_xy(lon_arr, lat_arr))
        edge, along_m, line_len, distance_m, nearest_m = self._choose_edges(points)
        on_road = shapely.line_interpolate_point(self._edge_lines[edge], along_m)
        on_road_x, on_road_y = shapely.get_x(on_road), shapely.get_y(on_road)
        for k, (i, lon, lat) in enumerate(valid):
            if nearest_m[k] > limit_m:
                results[i] = (
                    None,
                    InputError(
                        field,
                        (lon, lat),
                        "{distance_m:.0f} m from the nearest road, more than {limit_m:.0f} m: "
                        "outside the road network (the network covers lon "
                        "{min_lon:.3f}..{max_lon:.3f}, lat {min_lat:.3f}..{max_lat:.3f})",
                        distance_m=float(nearest_m[k]),
                        limit_m=limit_m,
                        min_lon=area["min_lon"],
                        max_lon=area["max_lon"],
                        min_lat=area["min_lat"],
                        max_lat=area["max_lat"],
                    ),
                )
                continue
            fraction = float(along_m[k] / line_len[k]) if line_len[k] > 0 else 0.0
            results[i] = (
                self._make_snap(
                    int(edge[k]),
                    fraction,
                    (float(on_road_x[k]), float(on_road_y[k])),
                    float(distance_m[k]),
                ),
                None,
            )
        return results

    def _choose_edges(
        self, points: npt.NDArray[np.object_]
    ) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray]:
        """Per projected point: the chosen edge, the metres along it, its length, the
        distance to it, and the distance to the nearest edge (see :meth:`snap_many`)."""
        count = len(points)
        nearest, found = self._segment_grid.nearest(shapely.get_x(points), shapely.get_y(points))
        far = np.flatnonzero(~found)
        if far.size:  # no road near enough for the grid: the tree searches everywhere
            point_idx, edge_idx = self._tree.query_nearest(points[far], all_matches=False)
            nearest[far[point_idx]] = edge_idx
        along_m, line_m, nearest_m, dead_end_s = self._measure(points, np.arange(count), nearest)
        edge, distance_m = nearest.copy(), nearest_m.copy()
        cost_s = nearest_m / self.snap_walk_mps + dead_end_s
        # Another edge costs at least its distance at walking pace: it can beat the nearest
        # one only when that lies in a dead end, and only within what the dead end is worth.
        extra_m = np.minimum(self.snap_margin_m, dead_end_s * self.snap_walk_mps)
        open_idx = np.flatnonzero(
            (extra_m > 0) & (nearest_m > self.snap_on_road_m) & (nearest_m <= self.max_snap_m)
        )
        if open_idx.size == 0:
            return edge, along_m, line_m, distance_m, nearest_m
        reach_m = np.minimum(nearest_m[open_idx] + extra_m[open_idx], self.max_snap_m)
        found_idx, found_edge = self._tree.query(
            points[open_idx], predicate="dwithin", distance=reach_m
        )
        other_point = open_idx[found_idx]
        other_along, other_line, other_m, other_dead_end_s = self._measure(
            points, other_point, found_edge
        )
        other_cost_s = other_m / self.snap_walk_mps + other_dead_end_s
        order = np.lexsort((other_cost_s, other_point))
        grouped = other_point[order]
        best = order[np.concatenate(([True], grouped[1:] != grouped[:-1]))]
        best = best[other_cost_s[best] < cost_s[other_point[best]] - _SNAP_TIE_S]
        won = other_point[best]
        edge[won] = found_edge[best]
        along_m[won], line_m[won], distance_m[won] = (
            other_along[best],
            other_line[best],
            other_m[best],
        )
        return edge, along_m, line_m, distance_m, nearest_m

    def _measure(
        self, points: npt.NDArray[np.object_], point_idx: IntArray, edge_idx: IntArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """For pairs (point, edge): the metres along the edge to the point's nearest point
        of it, the edge's length, the distance and the edge point's :meth:`dead_end_s`."""
        lines = self._edge_lines[edge_idx]
        pair_points = points[point_idx]
        distance_m = shapely.distance(pair_points, lines)
        along_m = shapely.line_locate_point(lines, pair_points)
        line_m = shapely.length(lines)
        fraction = np.divide(along_m, line_m, out=np.zeros_like(along_m), where=line_m > 0)
        return along_m, line_m, distance_m, self._dead_end_s(edge_idx, fraction)

    def _dead_end_s(self, edge: IntArray, fraction: FloatArray) -> FloatArray:
        """Free-flow seconds from the through network to ``fraction`` along ``edge``."""
        net, free_flow_s, node_s = self.network, self._free_flow_s, self.dead_end_node_s
        tail, head, twin = net.tail[edge], net.head[edge], net.twin_edge[edge]
        has_twin = twin >= 0
        via_tail = node_s[tail] + fraction * free_flow_s[edge]
        via_head = np.where(
            has_twin,
            node_s[head] + (1.0 - fraction) * free_flow_s[np.where(has_twin, twin, 0)],
            math.inf,
        )
        on_through = self.through_node[tail] & self.through_node[head]
        dead_end_s: FloatArray = np.where(on_through, 0.0, np.minimum(via_tail, via_head))
        return dead_end_s

    def dead_end_s(self, snap: Snap) -> float:
        """Free-flow seconds from the through network (:func:`through_nodes`) to ``snap``:
        0 on a through road, the drive along the dead end otherwise."""
        return float(
            self._dead_end_s(
                np.array([snap.edge], dtype=np.int64), np.array([snap.fraction], dtype=np.float64)
            )[0]
        )

    def _make_snap(
        self, edge: int, fraction: float, point_xy: tuple[float, float], distance_m: float
    ) -> Snap:
        """The snap at ``fraction`` of ``edge``, the projected point ``point_xy`` on it."""
        twin = int(self.network.twin_edge[edge])
        if 0 <= twin < edge:
            edge, twin, fraction = twin, edge, 1.0 - fraction
        lon, lat = self._projection.to_lonlat(*point_xy)
        return Snap(edge, min(max(fraction, 0.0), 1.0), twin, lon, lat, distance_m)

    def node_snap(self, node: int) -> Snap:
        """A snap exactly at node ``node`` (start of one of its outgoing edges)."""
        net = self.network
        edge = int(net.indptr[node])
        if edge == int(net.indptr[node + 1]):
            raise InputError("node", node, "has no outgoing edge")
        return Snap(edge, 0.0, -1, float(net.node_lon[node]), float(net.node_lat[node]), 0.0)

    # ----------------------------------------------------------------- travel times
    def _exits(self, snap: Snap, w: FloatArray) -> list[tuple[int, float]]:
        """(node, cost) pairs a vehicle at ``snap`` can reach first (edge costs ``w``)."""
        net = self.network
        exits = [(int(net.head[snap.edge]), (1.0 - snap.fraction) * w[snap.edge])]
        if snap.twin >= 0:
            exits.append((int(net.head[snap.twin]), snap.fraction * w[snap.twin]))
        return exits

    def _entries(self, snap: Snap, w: FloatArray) -> list[tuple[int, float]]:
        """(node, cost) pairs from which ``snap`` is reached, with the remaining cost."""
        net = self.network
        entries = [(int(net.tail[snap.edge]), snap.fraction * w[snap.edge])]
        if snap.twin >= 0:
            entries.append((int(net.tail[snap.twin]), (1.0 - snap.fraction) * w[snap.twin]))
        return entries

    def _direct(self, origin: Snap, dest: Snap, w: FloatArray) -> float:
        """Cost (edge costs ``w``) without leaving the shared edge, or inf."""
        if origin.edge != dest.edge:
            return math.inf
        if dest.fraction >= origin.fraction:
            return (dest.fraction - origin.fraction) * w[origin.edge]
        if origin.twin >= 0:
            return (origin.fraction - dest.fraction) * w[origin.twin]
        return math.inf

    def _search(
        self,
        seeds: list[tuple[int, float]],
        band_idx: int,
        *,
        backward: bool,
        max_s: float,
        targets: IntArray | None,
    ) -> tuple[FloatArray, IntArray]:
        net = self.network
        nodes = np.array([s[0] for s in seeds], dtype=np.int64)
        costs = np.array([s[1] for s in seeds], dtype=np.float64)
        if backward:
            return dijkstra(
                net.reverse_indptr,
                self._reverse_adj_node,
                self._reverse_weight[band_idx],
                net.reverse_order,
                nodes,
                costs,
                max_cost=max_s,
                targets=targets,
            )
        return dijkstra(
            net.indptr,
            net.head,
            net.travel_s[band_idx],
            self._forward_edge,
            nodes,
            costs,
            max_cost=max_s,
            targets=targets,
        )

    def _band(self, band: str) -> int:
        if band not in self.network.bands:
            raise InputError(
                "band", band, "must be one of {names}", names=", ".join(self.network.bands)
            )
        return self.network.band_index(band)

    def travel_times_to(
        self,
        target: Snap,
        sources: Sequence[Snap] | SnapSet,
        *,
        band: str,
        max_s: float = math.inf,
    ) -> FloatArray:
        """Many-to-one: travel time from each source to ``target`` (inf beyond ``max_s``)."""
        return self._one_side(target, sources, band=band, max_s=max_s, backward=True)

    def travel_times_from(
        self,
        source: Snap,
        targets: Sequence[Snap] | SnapSet,
        *,
        band: str,
        max_s: float = math.inf,
    ) -> FloatArray:
        """One-to-many: travel time from ``source`` to each target (inf beyond ``max_s``)."""
        return self._one_side(source, targets, band=band, max_s=max_s, backward=False)

    def travel_time_matrix(self, snaps: Sequence[Snap], *, band: str) -> FloatArray:
        """Many-to-many: ``[i, j]`` is the travel time from ``snaps[i]`` to ``snaps[j]``.

        One bounded search per source, run on every core (the compiled search releases
        the GIL), with the targets' arrays built once.
        """
        group = SnapSet.of(snaps)
        workers = max(1, min(len(snaps), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            rows = list(
                pool.map(
                    lambda source: self._one_side(
                        source, group, band=band, max_s=math.inf, backward=False
                    ),
                    snaps,
                )
            )
        return np.vstack(rows) if rows else np.zeros((0, 0))

    def _one_side(
        self,
        anchor: Snap,
        others: Sequence[Snap] | SnapSet,
        *,
        band: str,
        max_s: float,
        backward: bool,
    ) -> FloatArray:
        band_idx = self._band(band)
        if not max_s >= 0:
            raise InputError("max_s", max_s, "must be a non-negative number of seconds")
        group = others if isinstance(others, SnapSet) else SnapSet.of(others)
        net, w = self.network, self.network.travel_s[band_idx]
        has_twin = group.twin >= 0
        twin = np.where(has_twin, group.twin, 0)
        if backward:  # others are origins: they leave by an edge's head
            seeds = self._entries(anchor, w)
            ends = (net.head[group.edge], net.head[twin])
            end_costs = ((1.0 - group.fraction) * w[group.edge], group.fraction * w[twin])
        else:  # others are destinations: they are entered from an edge's tail
            seeds = self._exits(anchor, w)
            ends = (net.tail[group.edge], net.tail[twin])
            end_costs = (group.fraction * w[group.edge], (1.0 - group.fraction) * w[twin])
        hierarchy = self.hierarchies.get(band_idx)
        query = hierarchy.to_node if backward else hierarchy.from_node
        seed_nodes = np.array([s[0] for s in seeds], dtype=np.int64)
        seed_costs = np.array([s[1] for s in seeds], dtype=np.float64)
        dist = query(seed_nodes, seed_costs, np.concatenate(ends))
        best = np.minimum(
            end_costs[0] + dist[: len(group)],
            np.where(has_twin, end_costs[1] + dist[len(group) :], math.inf),
        )
        same_edge = np.flatnonzero(group.edge == anchor.edge)
        for i in same_edge:
            other = group.snap(int(i))
            pair = (other, anchor) if backward else (anchor, other)
            best[i] = min(best[i], self._direct(*pair, w))
        best[best > max_s] = math.inf
        return best

    def node_travel_times(
        self, node: int, *, band: str, max_s: float = math.inf, backward: bool = False
    ) -> FloatArray:
        """Node-to-all-nodes times (to ``node`` when ``backward``); inf where unreached."""
        dist, _ = self._search(
            [(node, 0.0)], self._band(band), backward=backward, max_s=max_s, targets=None
        )
        return dist

    def isochrone_node_times(self, origin: Snap, *, band: str, max_s: float) -> FloatArray:
        """Travel time from ``origin`` to every node within ``max_s`` (inf beyond)."""
        return self.nearest_isochrone_node_times([origin], band=band, max_s=max_s)

    def nearest_isochrone_node_times(
        self, origins: Sequence[Snap], *, band: str, max_s: float
    ) -> FloatArray:
        """Travel time from the nearest of ``origins`` to every node within ``max_s`` (inf
        beyond): one search seeded from all of them."""
        band_idx = self._band(band)
        w = self.network.travel_s[band_idx]
        dist, _ = self._search(
            [seed for origin in origins for seed in self._exits(origin, w)],
            band_idx,
            backward=False,
            max_s=max_s,
            targets=None,
        )
        return dist

    # ----------------------------------------------------------------- distances
    def shortest_length_m(self, origin: Snap, dest: Snap) -> float:
        """Shortest road distance in metres from ``origin`` to ``dest``.

        The shortest path by edge length (not the length of the fastest route, which
        changes with the time-of-day band), one-way restrictions kept, the partial edges at
        both ends counted as for travel times. What a tow is billed on (SERVICE_RULES §5).
        """
        net = self.network
        length_m = net.length_m
        direct_m = self._direct(origin, dest, length_m)
        entries = self._entries(dest, length_m)
        exits = self._exits(origin, length_m)
        dist, _ = dijkstra(
            net.indptr,
            net.head,
            length_m,
            self._forward_edge,
            np.array([node for node, _ in exits], dtype=np.int64),
            np.array([cost for _, cost in exits], dtype=np.float64),
            targets=np.array([node for node, _ in entries], dtype=np.int64),
        )
        best_m = min(direct_m, *(float(dist[node]) + cost for node, cost in entries))
        if not math.isfinite(best_m):
            raise InputError("dest", (dest.lon, dest.lat), "is not reachable from the origin")
        return float(best_m)

    # ----------------------------------------------------------------- paths
    def route(self, origin: Snap, dest: Snap, *, band: str) -> Route:
        """Fastest path from ``origin`` to ``dest`` with its road geometry."""
        band_idx = self._band(band)
        w = self.network.travel_s[band_idx]
        direct_s = self._direct(origin, dest, w)
        entries = self._entries(dest, w)
        dist, pred = self._search(
            self._exits(origin, w),
            band_idx,
            backward=False,
            max_s=math.inf,
            targets=np.array([node for node, _ in entries], dtype=np.int64),
        )
        via_s, entry_node = min((dist[node] + cost, node) for node, cost in entries)
        if direct_s <= via_s:
            edge = origin.edge if dest.fraction >= origin.fraction else origin.twin
            start, end = (
                (origin.fraction, dest.fraction)
                if edge == origin.edge
                else (1.0 - origin.fraction, 1.0 - dest.fraction)
            )
            return self._assemble([(edge, start, end)], direct_s)
        if not math.isfinite(via_s):
            raise InputError("dest", (dest.lon, dest.lat), "is not reachable from the origin")
        middle: list[int] = []
        node = entry_node
        while pred[node] >= 0:
            middle.append(int(pred[node]))
            node = int(self.network.tail[pred[node]])
        middle.reverse()
        exit_edge, exit_start = (
            (origin.edge, origin.fraction)
            if node == int(self.network.head[origin.edge])
            and math.isclose((1.0 - origin.fraction) * w[origin.edge], dist[node])
            else (origin.twin, 1.0 - origin.fraction)
        )
        entry_edge, entry_end = (
            (dest.edge, dest.fraction)
            if entry_node == int(self.network.tail[dest.edge])
            and math.isclose(dist[entry_node] + dest.fraction * w[dest.edge], via_s)
            else (dest.twin, 1.0 - dest.fraction)
        )
        pieces = [
            (exit_edge, exit_start, 1.0),
            *[(e, 0.0, 1.0) for e in middle],
            (entry_edge, 0.0, entry_end),
        ]
        return self._assemble(pieces, via_s)

    def _assemble(self, pieces: list[tuple[int, float, float]], travel_s: float) -> Route:
        """The route along ``pieces`` (edge, start fraction, end fraction), in order."""
        coords: list[list[float]] = []
        length_m = 0.0
        edges: list[int] = []
        for edge, start, end in pieces:
            if end > start:
                edges.append(int(edge))
            line = self._edge_lines[edge]
            total = shapely.length(line)
            part = substring(line, start * total, end * total)
            length_m += (end - start) * float(self.network.length_m[edge])
            xs, ys = shapely.get_coordinates(part).T
            for x, y in zip(xs, ys, strict=True):
                lon, lat = self._projection.to_lonlat(x, y)
                point = [round(lon, 7), round(lat, 7)]
                if not coords or coords[-1] != point:
                    coords.append(point)
        if len(coords) == 1:
            coords.append(coords[0])
        return Route(
            travel_s=float(travel_s),
            length_m=length_m,
            geometry={"type": "LineString", "coordinates": coords},
            edges=tuple(edges),
        )
