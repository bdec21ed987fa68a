"""Ring zones on the real ring polygons."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from geo.places import Geo

TIANANMEN = (116.3975, 39.9087)


def test_tiananmen_is_inside_the_5th_ring(geo: Geo) -> None:
    assert geo.zones.classify(*TIANANMEN) == "inside_5th_ring"


def test_10000_random_points_agree_with_shapely_point_in_polygon(geo: Geo) -> None:
    rng = np.random.default_rng(5)
    lon = rng.uniform(115.7, 117.2, 10_000)
    lat = rng.uniform(39.5, 40.4, 10_000)
    ours = geo.zones.classify_many(lon, lat)
    fifth, sixth = geo.zones.fifth.polygon, geo.zones.sixth.polygon
    tolerance_deg = geo.zones.tolerance_m / 85_000  # degrees of longitude here, generously
    compared = 0
    for x, y, zone in zip(lon, lat, ours, strict=True):
        point = Point(x, y)
        near_edge = (
            fifth.exterior.distance(point) < tolerance_deg
            or sixth.exterior.distance(point) < tolerance_deg
        )
        if near_edge:
            continue
        expected = (
            "inside_5th_ring"
            if fifth.contains(point)
            else "between_5th_and_6th_ring"
            if sixth.contains(point)
            else "outside_6th_ring"
        )
        assert zone == expected, (x, y)
        compared += 1
    assert compared > 9_900
    assert {"inside_5th_ring", "between_5th_and_6th_ring", "outside_6th_ring"} <= set(ours)


def test_a_point_on_the_ring_road_counts_as_inside(geo: Geo) -> None:
    vertices = shapely.get_coordinates(geo.zones.fifth.polygon.exterior)
    for lon, lat in vertices[::10]:
        assert geo.zones.classify(lon, lat) == "inside_5th_ring"
        assert geo.zones.distance_to_5th_ring_m(lon, lat) == pytest.approx(0.0, abs=0.01)


def test_just_outside_the_5th_ring_is_between_5th_and_6th(geo: Geo) -> None:
    # North of the northern 5th ring (about 40.02 N on the meridian of the Olympic Park).
    assert geo.zones.classify(116.39, 40.05) == "between_5th_and_6th_ring"
    assert geo.zones.distance_to_5th_ring_m(116.39, 40.05) > 2_000


def test_placement_flags_motorways_for_tolls(geo: Geo) -> None:
    net = geo.network
    motorway = net.highway_classes.index("motorway")
    edge = int(np.flatnonzero(net.highway_code == motorway)[0])
    coords = np.array(net.edge_coords(edge))
    placement = geo.locate(*coords[:2].mean(axis=0))
    assert placement.on_highway is True
    assert placement.highway == "motorway"
    assert geo.locate(*TIANANMEN).on_highway is False
