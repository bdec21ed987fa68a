"""``rescue graph info``, ``rescue route``, ``rescue zone``, ``rescue place``."""

from __future__ import annotations

import argparse
from typing import Any

from geo.config import load_rules
from geo.coords import CRS_NAMES
from geo.i18n import N_
from geo.network import RoadNetwork, load_network
from geo.place_search import DEFAULT_LIMIT, MAX_LIMIT, search_json
from geo.places import Geo, load_geo
from geo.zones import RingZones
from rescue.args import clock, existing_path, lonlat, options_for

# The loaders' name of the OSM file, as the commands spell it.
_OSM_OPTION = {"osm_path": "--osm"}


def _network(osm: str | None) -> RoadNetwork:
    path = existing_path(osm, field="--osm")
    with options_for(_OSM_OPTION):
        return load_network(path)


def _geo(osm: str | None) -> Geo:
    path = existing_path(osm, field="--osm")
    with options_for(_OSM_OPTION):
        return load_geo(path)


def _graph_info(args: argparse.Namespace) -> dict[str, Any]:
    network = _network(args.osm)
    return {
        "nodes": network.node_count,
        "edges": network.edge_count,
        "bbox": network.bbox(),
        "source": network.meta["source"],
        "built_at": network.meta["built_at"],
        "bands": list(network.bands),
        "build_report": network.meta["build_report"],
    }


def _route(args: argparse.Namespace) -> dict[str, Any]:
    at = clock(args.at, field="--at")
    origin_lonlat = lonlat(args.origin, field="--from")
    dest_lonlat = lonlat(args.dest, field="--to")
    geo = _geo(args.osm)
    origin = geo.router.snap(*origin_lonlat, crs=args.crs, field="--from")
    dest = geo.router.snap(*dest_lonlat, crs=args.crs, field="--to")
    band = geo.band_at(at)
    route = geo.router.route(origin, dest, band=band)
    return {
        "travel_s": round(route.travel_s, 1),
        "length_m": round(route.length_m, 1),
        "band": band,
        "geometry": route.geometry,
    }


def _zone(args: argparse.Namespace) -> dict[str, Any]:
    point = lonlat(args.point, field="point")
    return _geo(args.osm).locate(*point, crs=args.crs, field="point").to_json()


def _place(args: argparse.Namespace) -> dict[str, Any]:
    zones = RingZones.from_rules(load_rules())
    return search_json(_network(args.osm), zones, args.query, limit=args.limit)


def register(subparsers: Any) -> None:
    graph = subparsers.add_parser("graph", help=N_("the compiled road network"))
    graph_sub = graph.add_subparsers(dest="graph_command", required=True)
    info = graph_sub.add_parser("info", help=N_("size, extent and source of the network"))
    info.add_argument("--osm", help=N_("OSM file (default data/osm/beijing.osm.bz2)"))
    info.set_defaults(handler=_graph_info)

    route = subparsers.add_parser("route", help=N_("fastest road route between two points"))
    route.add_argument("--from", dest="origin", required=True, metavar="LON,LAT")
    route.add_argument("--to", dest="dest", required=True, metavar="LON,LAT")
    route.add_argument("--crs", choices=CRS_NAMES, default="wgs84")
    route.add_argument(
        "--at", default="12:00", metavar="HH:MM", help=N_("clock time (default 12:00)")
    )
    route.add_argument("--osm", help=N_("OSM file (default data/osm/beijing.osm.bz2)"))
    route.set_defaults(handler=_route)

    zone = subparsers.add_parser("zone", help=N_("ring zone and highway flag of a point"))
    zone.add_argument("point", metavar="LON,LAT")
    zone.add_argument("--crs", choices=CRS_NAMES, default="wgs84")
    zone.add_argument("--osm", help=N_("OSM file (default data/osm/beijing.osm.bz2)"))
    zone.set_defaults(handler=_zone)

    place = subparsers.add_parser(
        "place", help=N_("search roads and crossings by name, pinyin or initials")
    )
    place.add_argument("query", help=N_("e.g. 建国路与东三环, jianguolu, jgl"))
    place.add_argument(
        "--limit", type=int, default=DEFAULT_LIMIT, help=f"at most this many (1-{MAX_LIMIT})"
    )
    place.add_argument("--osm", help=N_("OSM file (default data/osm/beijing.osm.bz2)"))
    place.set_defaults(handler=_place)
