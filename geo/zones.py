"""Ring-road zones: is a place inside the 5th ring, between the 5th and 6th, or outside?

SERVICE_RULES §5 prices call-outs by the closed ring of the 5th Ring Road; a point on the
ring road itself counts as inside (within ``on_ring_tolerance_m`` of the polygon's edge).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon, shape

from geo.config import data_dir
from geo.projection import LocalProjection

Zone = Literal["inside_5th_ring", "between_5th_and_6th_ring", "outside_6th_ring"]


@dataclass(frozen=True)
class Ring:
    name_en: str
    name_zh: str
    polygon: Polygon
    """WGS-84 lon/lat."""


def load_rings(path: Path) -> dict[str, Ring]:
    """Ring polygons of a GeoJSON FeatureCollection, keyed by their English name."""
    if not path.exists():
        raise FileNotFoundError(f"ring file not found: {path} (run `make data`)")
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {
        f["properties"]["name:en"]: Ring(
            f["properties"]["name:en"], f["properties"].get("name:zh", ""), shape(f["geometry"])
        )
        for f in features
    }


class RingZones:
    """Classifies places by the 5th and 6th ring polygons.

    Distances are computed in a local equirectangular projection (metres), exact to a few
    parts per thousand over the city.
    """

    def __init__(
        self,
        rings: dict[str, Ring],
        *,
        fifth: str,
        sixth: str,
        on_ring_tolerance_m: float,
        service_area_beyond_6th_ring_m: float = 0.0,
    ):
        for field, name in (("fifth_ring", fifth), ("sixth_ring", sixth)):
            if name not in rings:
                raise KeyError(f"zones.{field}={name!r} is not in the ring file: {sorted(rings)}")
        self.rings = rings
        self.fifth = rings[fifth]
        self.sixth = rings[sixth]
        self.tolerance_m = on_ring_tolerance_m
        centre = self.fifth.polygon.centroid
        self._projection = LocalProjection(centre.x, centre.y)
        self._fifth_xy = self._project(self.fifth.polygon)
        self._fifth_inside = self._fifth_xy.buffer(self.tolerance_m)
        self._sixth_xy = self._project(self.sixth.polygon).buffer(self.tolerance_m)
        self.service_area_beyond_6th_ring_m = service_area_beyond_6th_ring_m
        self._service_xy = self._sixth_xy.buffer(service_area_beyond_6th_ring_m)
        shapely.prepare(self._fifth_inside)
        shapely.prepare(self._sixth_xy)
        shapely.prepare(self._service_xy)

    @classmethod
    def from_rules(cls, rules: dict[str, Any], *, data: Path | None = None) -> RingZones:
        zones = rules["zones"]
        rings = load_rings((data or data_dir()) / zones["rings_file"])
        return cls(
            rings,
            fifth=zones["fifth_ring"],
            sixth=zones["sixth_ring"],
            on_ring_tolerance_m=float(zones["on_ring_tolerance_m"]),
            service_area_beyond_6th_ring_m=float(zones["service_area_beyond_6th_ring_m"]),
        )

    def _project(self, polygon: Polygon) -> Polygon:
        return shapely.transform(
            polygon, lambda c: np.column_stack(self._projection.to_xy(c[:, 0], c[:, 1]))
        )

    def classify_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> list[Zone]:
        x, y = self._projection.to_xy(lon, lat)
        inside_fifth = shapely.intersects_xy(self._fifth_inside, x, y)
        inside_sixth = shapely.intersects_xy(self._sixth_xy, x, y)
        return [
            "inside_5th_ring" if f else "between_5th_and_6th_ring" if s else "outside_6th_ring"
            for f, s in zip(np.atleast_1d(inside_fifth), np.atleast_1d(inside_sixth), strict=True)
        ]

    def classify(self, lon: float, lat: float) -> Zone:
        """The zone of one WGS-84 point."""
        return self.classify_many([lon], [lat])[0]

    def distance_to_5th_ring_m(self, lon: float, lat: float) -> float:
        """Distance in metres from the point to the 5th ring road's line (0 on it)."""
        x, y = self._projection.to_xy(lon, lat)
        return float(shapely.distance(self._fifth_xy.exterior, shapely.points(x, y)))

    def in_service_area(self, lon: float, lat: float) -> bool:
        """Whether the club serves a call at this WGS-84 point (the 6th ring polygon plus
        ``service_area_beyond_6th_ring_m``)."""
        x, y = self._projection.to_xy(lon, lat)
        return bool(shapely.intersects_xy(self._service_xy, x, y))
