"""WGS-84 <-> GCJ-02 (the obfuscated datum that Chinese phones and map apps report).

GCJ-02 is WGS-84 plus a smooth, published offset field of a few hundred metres. The forward
transform is closed-form; the inverse is found by fixed-point iteration on the forward one,
which converges to well under a centimetre in a few steps (tests check < 0.5 m round trip
over all of Beijing).

GCJ-02 is defined for China only: outside :data:`CHINA_BOX_DEG` there is no offset (as in
every GCJ-02 library), so a point anywhere on Earth converts without overflow.
"""

from __future__ import annotations

from typing import Literal, cast

import numpy as np
import numpy.typing as npt

from geo.errors import InputError

Crs = Literal["wgs84", "gcj02"]
CRS_NAMES: tuple[str, ...] = ("wgs84", "gcj02")

_SEMI_MAJOR_M = 6378245.0  # Krasovsky 1940 ellipsoid, as GCJ-02 uses
_ECCENTRICITY_SQ = 0.00669342162296594323
_INVERSE_ITERATIONS = 6
CHINA_BOX_DEG = (72.004, 0.8293, 137.8347, 55.8271)
"""``(min_lon, min_lat, max_lon, max_lat)`` where GCJ-02 differs from WGS-84: the box the
published transform uses (beyond it, near the poles, its formula overflows)."""
_BOX_CENTRE_DEG = (105.0, 35.0)  # the formula's own origin, a harmless stand-in

FloatArray = npt.NDArray[np.float64]


def _offset_deg(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 minus WGS-84 at WGS-84 ``lon, lat``; zero outside :data:`CHINA_BOX_DEG`."""
    min_lon, min_lat, max_lon, max_lat = CHINA_BOX_DEG
    inside = (min_lon <= lon) & (lon <= max_lon) & (min_lat <= lat) & (lat <= max_lat)
    d_lon, d_lat = _offset_in_china_deg(
        np.where(inside, lon, _BOX_CENTRE_DEG[0]), np.where(inside, lat, _BOX_CENTRE_DEG[1])
    )
    return np.where(inside, d_lon, 0.0), np.where(inside, d_lat, 0.0)


def _offset_in_china_deg(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x
    wave = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = d_lat + wave
    d_lon = d_lon + wave
    d_lat = d_lat + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon = d_lon + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat = d_lat + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = (
        d_lon + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    rad_lat = np.radians(lat)
    magic = 1.0 - _ECCENTRICITY_SQ * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / (
        (_SEMI_MAJOR_M * (1.0 - _ECCENTRICITY_SQ)) / (magic * sqrt_magic) * np.pi
    )
    d_lon = (d_lon * 180.0) / (_SEMI_MAJOR_M / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Forward transform, vectorised; degrees in, degrees out."""
    lon_arr = np.asarray(lon, dtype=np.float64)
    lat_arr = np.asarray(lat, dtype=np.float64)
    d_lon, d_lat = _offset_deg(lon_arr, lat_arr)
    return lon_arr + d_lon, lat_arr + d_lat


def gcj02_to_wgs84(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Inverse transform by fixed-point iteration; degrees in, degrees out."""
    gcj_lon = np.asarray(lon, dtype=np.float64)
    gcj_lat = np.asarray(lat, dtype=np.float64)
    wgs_lon, wgs_lat = gcj_lon.copy(), gcj_lat.copy()
    for _ in range(_INVERSE_ITERATIONS):
        fwd_lon, fwd_lat = wgs84_to_gcj02(wgs_lon, wgs_lat)
        wgs_lon = wgs_lon - (fwd_lon - gcj_lon)
        wgs_lat = wgs_lat - (fwd_lat - gcj_lat)
    return wgs_lon, wgs_lat


def check_crs(crs: str) -> Crs:
    """Return ``crs`` if it is a supported name, else raise :class:`InputError`."""
    if crs not in CRS_NAMES:
        raise InputError("crs", crs, "must be one of {names}", names=", ".join(CRS_NAMES))
    return cast(Crs, crs)


def to_wgs84(lon: float, lat: float, crs: str = "wgs84") -> tuple[float, float]:
    """One point in ``crs`` to WGS-84."""
    if check_crs(crs) == "wgs84":
        return float(lon), float(lat)
    out_lon, out_lat = gcj02_to_wgs84(lon, lat)
    return float(out_lon), float(out_lat)
