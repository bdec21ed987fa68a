"""Map layers from the project's own data, so the map is never blank offline.

- the main roads (motorway .. tertiary) of geo's compiled network, one two-way road
  drawn once, simplified, one MultiLineString per road class;
- the ring-road polygons (``data/osm/rings.geojson``);
- the group's repair shops (tow destinations).

Each is built once and kept as JSON bytes.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from geo.config import data_dir
from geo.network import RoadNetwork
from optimizer.dispatch.shops import Shops

MAIN_ROADS = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
)
ATTRIBUTION = "© OpenStreetMap contributors"


def roads_geojson(
    network: RoadNetwork, *, tolerance_deg: float = 5e-5, digits: int = 5
) -> dict[str, Any]:
    """The main roads as a FeatureCollection (``properties.highway`` per feature)."""
    codes = [i for i, name in enumerate(network.highway_classes) if name in MAIN_ROADS]
    edge_ids = np.arange(network.edge_count)
    twin = network.twin_edge
    keep = np.isin(network.highway_code, codes) & ((twin < 0) | (edge_ids < twin))
    lines: dict[str, list[Any]] = {}
    for edge in np.flatnonzero(keep):
        start, end = network.geom_offsets[edge], network.geom_offsets[edge + 1]
        coords = np.column_stack((network.geom_lon[start:end], network.geom_lat[start:end]))
        simple = shapely.simplify(shapely.linestrings(coords), tolerance_deg)
        lines.setdefault(network.edge_highway(int(edge)), []).append(
            np.round(shapely.get_coordinates(simple), digits).tolist()
        )
    order = {name: i for i, name in enumerate(MAIN_ROADS)}
    return {
        "type": "FeatureCollection",
        "attribution": ATTRIBUTION,
        "features": [
            {
                "type": "Feature",
                "properties": {"highway": name, "edges": len(parts)},
                "geometry": {"type": "MultiLineString", "coordinates": parts},
            }
            for name, parts in sorted(lines.items(), key=lambda kv: -order[kv[0]])
        ],
    }


def rings_geojson(rules_raw: dict[str, Any], *, data: Path | None = None) -> dict[str, Any]:
    path = (data or data_dir()) / rules_raw["zones"]["rings_file"]
    collection: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    collection["attribution"] = ATTRIBUTION
    return collection


def shops_geojson(shops: Shops) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": s.id, "name": s.name, "name_en": s.name_en},
                "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
            }
            for s in shops.shops
        ],
    }


class Layer:
    """A layer built once on first use; ``body`` is its JSON, ``etag`` a hash of it."""

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build = build
        self._lock = threading.Lock()

    @cached_property
    def body(self) -> bytes:
        with self._lock:
            return json.dumps(self._build(), ensure_ascii=False, separators=(",", ":")).encode()

    @cached_property
    def etag(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:16]
