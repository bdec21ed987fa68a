"""Positions along a road path: a LineString measured in metres, for "where is the truck
after a given fraction of its drive"."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from geo.projection import LocalProjection


class RoutePath:
    """A LineString (``[lon, lat]`` vertices) with its length along the way."""

    def __init__(self, coordinates: Sequence[Sequence[float]]) -> None:
        coords = np.asarray(coordinates, dtype=np.float64)
        self.lon, self.lat = coords[:, 0], coords[:, 1]
        projection = LocalProjection(float(self.lon[0]), float(self.lat.mean()))
        step = projection.segment_lengths_m(self.lon, self.lat)
        self.along_m = np.concatenate(([0.0], np.cumsum(step)))

    @property
    def length_m(self) -> float:
        return float(self.along_m[-1])

    def point_at(self, fraction: float) -> tuple[float, float]:
        """The point ``fraction`` (clamped to [0, 1]) of the way along."""
        if self.length_m <= 0:
            return float(self.lon[0]), float(self.lat[0])
        at = min(max(fraction, 0.0), 1.0) * self.length_m
        lon = np.interp(at, self.along_m, self.lon)
        lat = np.interp(at, self.along_m, self.lat)
        return float(lon), float(lat)
