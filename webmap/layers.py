"""Map layers from the project's own data, so the map is never blank offline.

- the main roads (motorway .. tertiary) of geo's compiled network, one two-way road
  drawn once, simplified, one MultiLineString per road class;
- the minor roads (residential, unclassified, living streets, service roads), the same way,
  for the close zooms of the base map;
- the ring-road polygons (``data/osm/rings.geojson``);
- road labels: a few points per named ring road, expressway and arterial;
- the group's repair shops (tow destinations).

Each is built once and kept as JSON bytes.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
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
MINOR_ROADS = ("residential", "unclassified", "living_street", "road", "service")
ATTRIBUTION = "© OpenStreetMap contributors"


def roads_geojson(
    network: RoadNetwork,
    *,
    classes: tuple[str, ...] = MAIN_ROADS,
    tolerance_deg: float = 5e-5,
    digits: int = 5,
) -> dict[str, Any]:
    """The roads of ``classes`` as a FeatureCollection (``properties.highway`` per feature,
    the most important class last, so it is drawn on top)."""
    codes = [i for i, name in enumerate(network.highway_classes) if name in classes]
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
    order = {name: i for i, name in enumerate(classes)}
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


# ---------------------------------------------------------------------------- labels
RING_RANK, EXPRESSWAY_RANK, ARTERIAL_RANK, SECONDARY_RANK = 0, 1, 2, 3
LABEL_RANKS = {"motorway": EXPRESSWAY_RANK, "trunk": EXPRESSWAY_RANK}
LABEL_RANKS.update(primary=ARTERIAL_RANK, secondary=SECONDARY_RANK)
LABEL_SPACING_M = {RING_RANK: 3000.0, EXPRESSWAY_RANK: 3000.0, ARTERIAL_RANK: 2000.0}
LABEL_SPACING_M[SECONDARY_RANK] = 1500.0
LABELLED_RINGS = (2, 3, 4, 5)
MIN_LABEL_ROAD_M = 300.0
_RING_ZH = re.compile(r"([二三四五六])环")
_RING_EN = re.compile(r"\b([2-6])(?:st|nd|rd|th) ring\b", re.IGNORECASE)
_RING_NUMBER = {"二": 2, "三": 3, "四": 4, "五": 5, "六": 6}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PARENTHESES = re.compile(r"\s*[(（][^)）]*[)）]")
_LATIN_TAIL = re.compile(r"\s+[A-Za-z][\w'. -]*$", re.ASCII)  # 首都机场公道 Capital Airport Expwy
_NOT_A_ROAD = ("桥", "环岛", "立交", "bridge", "interchange")
_M_PER_DEG_LAT = 110_574.0
_M_PER_DEG_LON = 111_320.0  # at the equator


def _ring_of(name: str) -> int | None:
    """The ring number a road name speaks of (二环 .. 六环, 2nd .. 6th Ring), or None."""
    if found := _RING_ZH.search(name):
        return _RING_NUMBER[found.group(1)]
    if found := _RING_EN.search(name):
        return int(found.group(1))
    return None


def _label_name(name: str) -> tuple[str, int | None]:
    """The label of an edge name (``"A / B"`` lists a way's names): the first road name
    (not a bridge or roundabout), Chinese preferred, parenthesised notes and the English
    after a Chinese name dropped; and the
    ring it belongs to. A ring road named only in English keeps an empty label."""
    parts = [_PARENTHESES.sub("", part).strip() for part in name.split(" / ")]
    parts = [_LATIN_TAIL.sub("", p) if _CJK.search(p) else p for p in parts]
    roads = [p for p in parts if p and not p.lower().endswith(_NOT_A_ROAD)]
    ring = next((r for p in parts if (r := _ring_of(p)) is not None), None)
    if ring is not None:
        chinese = [p for p in roads if _ring_of(p) == ring and _CJK.search(p)]
        return (chinese[0] if chinese else ""), ring
    chinese = [p for p in roads if _CJK.search(p)]
    return (chinese or roads or [""])[0], None


class _Plane:
    """A local equirectangular plane in metres around Beijing (labels need no more)."""

    def __init__(self, lat0: float = 39.9) -> None:
        self.kx = _M_PER_DEG_LON * math.cos(math.radians(lat0))

    def to_m(self, lonlat: np.ndarray) -> np.ndarray:
        return np.column_stack((lonlat[:, 0] * self.kx, lonlat[:, 1] * _M_PER_DEG_LAT))

    def to_deg(self, x: float, y: float) -> tuple[float, float]:
        return x / self.kx, y / _M_PER_DEG_LAT


def _direction(line: Any, at: float, half: float) -> float | None:
    """The direction of ``line`` around distance ``at`` (from ``at - half`` to ``at + half``),
    in degrees clockwise from east on the screen (y points down); None where the line turns
    back (its ends there are closer than half the way along it)."""
    start, end = max(0.0, at - half), min(line.length, at + half)
    a = shapely.line_interpolate_point(line, start)
    b = shapely.line_interpolate_point(line, end)
    dx, dy = shapely.get_x(b) - shapely.get_x(a), shapely.get_y(b) - shapely.get_y(a)
    if math.hypot(dx, dy) < 0.5 * (end - start):
        return None
    return -math.degrees(math.atan2(dy, dx))


def _upright(angle: float) -> float:
    """``angle`` turned by half a turn if needed to lie in (-90, 90]: text never upside down."""
    angle = (angle + 180.0) % 360.0 - 180.0
    if angle > 90:
        return angle - 180
    if angle <= -90:
        return angle + 180
    return angle


def _text_angle(line: Any, at: float) -> float | None:
    """Degrees to turn horizontal text clockwise (CSS ``rotate``) to lie along ``line`` at
    distance ``at``, in (-90, 90]; None at a bend (the road's direction 40 m around and
    150 m around differ by more than 25 degrees), where a straight label would not fit."""
    near, far = _direction(line, at, 40.0), _direction(line, at, 150.0)
    if near is None or far is None or abs((near - far + 180.0) % 360.0 - 180.0) > 25.0:
        return None
    return _upright(near)


def _place_along(
    lines: list[Any], spacing: float, kept: list[tuple[float, float]]
) -> list[tuple[float, float, float]]:
    """Label points ``(x, y, angle)`` every ``spacing`` metres along ``lines`` (longest
    first), off the bends, each at least half a spacing from the points in ``kept``
    (updated): a dual carriageway gets one row of labels, not two."""
    points: list[tuple[float, float, float]] = []
    for line in sorted(lines, key=lambda g: -g.length):
        if line.length < MIN_LABEL_ROAD_M:
            continue
        count = max(1, round(line.length / spacing))
        step = line.length / count
        for i in range(count):
            for shift in (0.0, 0.2, -0.2, 0.4, -0.4):
                at = (i + 0.5 + shift) * step
                angle = _text_angle(line, at)
                if angle is not None:
                    break
            else:
                continue
            p = shapely.line_interpolate_point(line, at)
            x, y = shapely.get_x(p), shapely.get_y(p)
            if any((x - kx) ** 2 + (y - ky) ** 2 < (spacing / 2) ** 2 for kx, ky in kept):
                continue
            kept.append((x, y))
            points.append((x, y, angle))
    return points


def road_labels_geojson(
    network: RoadNetwork, rings: dict[str, Any], *, digits: int = 5
) -> dict[str, Any]:
    """Label points for the named roads, most important first (the order to place them
    in): ``properties`` ``name`` (as the data has it), ``rank`` (0 ring road,
    1 expressway: motorway/trunk, 2 arterial: primary, 3 secondary) and ``angle_deg``
    (clockwise turn of the text along the road, -90..90).

    Ring roads are labelled with their sections' names (北三环中路) where the data name
    them, and with the ring's own name (``rings``' ``name:zh``, 二环路) along the rest of the
    ring polygons (the 2nd ring is unnamed in the data). Links, bridges and roundabouts
    get no label."""
    plane = _Plane()
    groups: dict[tuple[int, str], list[Any]] = {}
    twin = network.twin_edge
    for edge in range(network.edge_count):
        rank = LABEL_RANKS.get(network.edge_highway(edge))
        if rank is None or not network.edge_name[edge] or 0 <= twin[edge] < edge:
            continue  # one direction of a two-way road is enough
        name, ring = _label_name(network.edge_name[edge])
        start, end = network.geom_offsets[edge], network.geom_offsets[edge + 1]
        coords = plane.to_m(
            np.column_stack((network.geom_lon[start:end], network.geom_lat[start:end]))
        )
        if ring is not None:
            if rank != EXPRESSWAY_RANK:
                continue  # a ring's side road (辅路): the ring's labels name it
            rank = RING_RANK
        if name:
            groups.setdefault((rank, name), []).append(coords)

    ring_names = {
        ring: f["properties"]["name:zh"]
        for f in rings["features"]
        if (ring := _ring_of(f["properties"].get("name:en", ""))) in LABELLED_RINGS
    }
    ring_shapes = {
        ring: shapely.linestrings(plane.to_m(np.asarray(f["geometry"]["coordinates"][0])))
        for f in rings["features"]
        if (ring := _ring_of(f["properties"].get("name:en", ""))) in LABELLED_RINGS
    }
    found: list[tuple[int, float, str, tuple[float, float, float]]] = []
    kept_by_name: dict[str, list[tuple[float, float]]] = {}
    for (rank, name), parts in sorted(groups.items(), key=lambda kv: kv[0][0]):
        merged = shapely.line_merge(
            shapely.multilinestrings([shapely.linestrings(p) for p in parts])
        )
        lines = list(getattr(merged, "geoms", [merged]))
        total = sum(g.length for g in lines)
        kept = kept_by_name.setdefault(name, [])
        for point in _place_along(lines, LABEL_SPACING_M[rank], kept):
            found.append((rank, -total, name, point))
    # The rings' own names where their sections carry none (within half a spacing).
    for ring, outline in sorted(ring_shapes.items()):
        named = [
            (x, y)
            for rank, _, name, (x, y, _) in found
            if rank == RING_RANK and _ring_of(name) == ring
        ]
        for point in _place_along([outline], LABEL_SPACING_M[RING_RANK], named):
            found.append((RING_RANK, -outline.length, ring_names[ring], point))

    found.sort(key=lambda item: item[:3])
    features = []
    for rank, _, name, (x, y, angle) in found:
        lon, lat = plane.to_deg(x, y)
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "name": name,
                    "rank": rank,
                    "angle_deg": int(_upright(round(angle))),
                },
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(lon, digits), round(lat, digits)],
                },
            }
        )
    return {"type": "FeatureCollection", "attribution": ATTRIBUTION, "features": features}


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
