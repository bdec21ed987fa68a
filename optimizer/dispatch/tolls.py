"""Tolled roads on a route (SERVICE_RULES §5: highway and bridge tolls on the way are the
customer's, at cost).

The OSM extract has no toll tags, so ``[tolls]`` of config/rules.toml lists the tolled
roads by name: ``roads`` are tolled along their length, ``roads_beyond_5th_ring`` only
where they run outside the 5th Ring Road. An edge is on a tolled road when one part of its
name (merged edges are named ``"A / B"``) is listed and, for the second list, the middle of
its shape lies outside the 5th ring. A route uses the tolled roads of the edges it drives:
the truck's route to the scene (:func:`leg_tolls` from the truck) and the tow route.

``python -m optimizer.dispatch.tolls`` lists the network's motorway names with their km
inside and outside the 5th ring, to choose the list for another extract.
"""

from __future__ import annotations

import sys
import weakref
from collections import defaultdict
from collections.abc import Iterable

from geo.places import Geo, load_geo
from geo.router import Route, Snap
from optimizer.dispatch.rules import TollRoads, load_business_rules

NAME_SEPARATOR = " / "
"""How the compiled network joins the names of merged OSM ways (``geo.network``)."""


class TollMap:
    """Which edges of a network lie on a tolled road, and which road."""

    def __init__(self, geo: Geo, roads: TollRoads) -> None:
        net = geo.network
        listed: dict[str, str] = {}  # an edge name -> the listed OSM name part it contains
        for name in set(net.edge_name):
            part = next((p for p in name.split(NAME_SEPARATOR) if roads.road(p)), None)
            if part is not None:
                listed[name] = part
        self.road_of_edge: dict[int, str] = {}
        """Edge id -> the tolled road it lies on (its name in ``[tolls]``)."""
        for edge, name in enumerate(net.edge_name):
            part = listed.get(name)
            if part is None:
                continue
            if part in roads.everywhere:
                self.road_of_edge[edge] = roads.everywhere[part]
            elif _beyond_5th_ring(geo, edge):
                self.road_of_edge[edge] = roads.beyond_5th_ring[part]

    def roads_on(self, edges: Iterable[int]) -> list[str]:
        """The tolled roads among ``edges``, each once, in the order first driven."""
        found = (self.road_of_edge.get(int(edge)) for edge in edges)
        return list(dict.fromkeys(road for road in found if road is not None))


def _beyond_5th_ring(geo: Geo, edge: int) -> bool:
    net = geo.network
    start, end = int(net.geom_offsets[edge]), int(net.geom_offsets[edge + 1])
    middle = (start + end) // 2
    lon, lat = float(net.geom_lon[middle]), float(net.geom_lat[middle])
    return geo.zones.classify(lon, lat) != "inside_5th_ring"


_MAPS: weakref.WeakKeyDictionary[Geo, dict[TollRoads, TollMap]] = weakref.WeakKeyDictionary()


def toll_map(geo: Geo, roads: TollRoads) -> TollMap:
    """The toll map of ``geo``'s network for the ``roads`` table (built once per pair)."""
    maps = _MAPS.setdefault(geo, {})
    if roads not in maps:
        maps[roads] = TollMap(geo, roads)
    return maps[roads]


def route_tolls(geo: Geo, roads: TollRoads, route: Route) -> list[str]:
    """The tolled roads a route drives on (their names in ``[tolls]``), in order."""
    return toll_map(geo, roads).roads_on(route.edges)


def leg_tolls(geo: Geo, roads: TollRoads, origin: Snap, dest: Snap, *, band: str) -> list[str]:
    """The tolled roads on the fastest route from ``origin`` to ``dest`` in ``band``: a
    truck's route to the scene, or a tow."""
    return route_tolls(geo, roads, geo.router.route(origin, dest, band=band))


def place_tolls(geo: Geo, roads: TollRoads, snap: Snap) -> list[str]:
    """The tolled road a place is on, if any (every route to or from it drives on it)."""
    return toll_map(geo, roads).roads_on((snap.edge,))


def motorway_names(geo: Geo) -> dict[str, tuple[float, float]]:
    """Each name part of the network's motorway edges -> km (inside, outside) the 5th ring."""
    net = geo.network
    km: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for edge, name in enumerate(net.edge_name):
        if not net.edge_highway(edge).startswith("motorway"):
            continue
        side = 1 if _beyond_5th_ring(geo, edge) else 0
        for part in name.split(NAME_SEPARATOR) if name else ["(no name)"]:
            km[part][side] += float(net.length_m[edge]) / 1000.0
    return {name: (inside, beyond) for name, (inside, beyond) in km.items()}


def main() -> int:
    """Print the network's motorway names, the longest first, with the road each is listed
    as in ``[tolls]`` (and where it is tolled)."""
    geo = load_geo()
    roads = load_business_rules().tolls
    print("km inside 5th | km beyond 5th | name | tolled as")
    for name, (inside, beyond) in sorted(motorway_names(geo).items(), key=lambda kv: -sum(kv[1])):
        if name in roads.everywhere:
            tolled = roads.everywhere[name]
        elif name in roads.beyond_5th_ring:
            tolled = f"{roads.beyond_5th_ring[name]} (beyond the 5th ring)"
        else:
            tolled = ""
        print(f"{inside:13.1f} | {beyond:13.1f} | {name} | {tolled}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
