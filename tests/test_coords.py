"""WGS-84 <-> GCJ-02."""

from __future__ import annotations

import numpy as np
import pytest

from geo.coords import gcj02_to_wgs84, to_wgs84, wgs84_to_gcj02
from geo.errors import InputError


def test_round_trip_error_is_under_half_a_metre_over_beijing() -> None:
    lon, lat = np.meshgrid(np.linspace(115.4, 117.5, 300), np.linspace(39.4, 41.1, 300))
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    error_m = np.hypot((back_lon - lon) * 85_400, (back_lat - lat) * 111_000)
    assert error_m.max() < 0.5


def test_offset_at_tiananmen_is_the_published_few_hundred_metres() -> None:
    gcj_lon, gcj_lat = wgs84_to_gcj02(116.3975, 39.9087)
    # Map apps show Tiananmen about 530 m east and 155 m north of its WGS-84 position.
    assert (gcj_lon - 116.3975) * 85_400 == pytest.approx(530, abs=30)
    assert (gcj_lat - 39.9087) * 111_000 == pytest.approx(155, abs=30)


def test_to_wgs84_names_a_bad_crs() -> None:
    with pytest.raises(InputError, match="crs='bd09'"):
        to_wgs84(116.4, 39.9, "bd09")
