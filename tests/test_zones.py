"""Ring zones on the real ring polygons."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import Point

from geo.coords import wgs84_to_gcj02
from geo.errors import InputError
from geo.places import Geo
from geo.projection import M_PER_DEG_LAT, LocalProjection
from geo.zones import Ring, Zone
from optimizer.dispatch.quote import make_quote
from optimizer.dispatch.rules import Rules

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


# ---------------------------------------------------------------------------- caller's point
# The zone is the caller's point's, not the snapped road point's: the nearest road of a
# place just outside the 5th ring often runs inside it (the ring road itself, a frontage
# road), and the call-out fee would be 100 yuan instead of 300 (SERVICE_RULES §5).


def _points_across(ring: Ring, projection: LocalProjection, count: int, seed: int) -> np.ndarray:
    """``count`` points at random places along the ring's boundary, each moved
    perpendicular to it by a random -400..+400 m; ``[lon, lat]`` rows."""
    rng = np.random.default_rng(seed)
    boundary = shapely.transform(
        ring.polygon.exterior, lambda c: np.column_stack(projection.to_xy(c[:, 0], c[:, 1]))
    )
    along_m = rng.uniform(0.0, boundary.length, count)
    base = shapely.line_interpolate_point(boundary, along_m)
    before = shapely.line_interpolate_point(boundary, np.maximum(along_m - 1.0, 0.0))
    after = shapely.line_interpolate_point(boundary, np.minimum(along_m + 1.0, boundary.length))
    dx, dy = (
        shapely.get_x(after) - shapely.get_x(before),
        shapely.get_y(after) - shapely.get_y(before),
    )
    norm = np.hypot(dx, dy)
    offset_m = rng.uniform(-400.0, 400.0, count)
    x = shapely.get_x(base) - dy / norm * offset_m
    y = shapely.get_y(base) + dx / norm * offset_m
    return np.column_stack(
        (projection.lon0 + x / projection.m_per_deg_lon, projection.lat0 + y / M_PER_DEG_LAT)
    )


def _expected_zone(geo: Geo, projection: LocalProjection, lon: float, lat: float) -> Zone:
    """Plain shapely point-in-polygon on the WGS-84 ring polygons, with SERVICE_RULES §5's
    "a point on the ring road counts as inside" (within ``on_ring_tolerance_m`` of it)."""
    x, y = projection.to_xy(lon, lat)
    here = Point(float(x), float(y))

    def inside(ring: Ring) -> bool:
        if shapely.contains_xy(ring.polygon, lon, lat):
            return True
        boundary = shapely.transform(
            ring.polygon.exterior, lambda c: np.column_stack(projection.to_xy(c[:, 0], c[:, 1]))
        )
        return bool(boundary.distance(here) <= geo.zones.tolerance_m)

    if inside(geo.zones.fifth):
        return "inside_5th_ring"
    return "between_5th_and_6th_ring" if inside(geo.zones.sixth) else "outside_6th_ring"


def test_600_points_across_the_5th_and_6th_rings_are_zoned_where_the_caller_is(
    geo: Geo,
) -> None:
    # The zones' own metric frame (centred on the 5th ring), for offsets and the tolerance.
    centre = geo.zones.fifth.polygon.centroid
    projection = LocalProjection(centre.x, centre.y)
    checked: dict[str, int] = {}
    estimated: dict[str, int] = {}
    snapped_elsewhere = 0  # places whose road point lies in another zone than they do
    for seed, ring in enumerate((geo.zones.fifth, geo.zones.sixth)):
        checked[ring.name_en] = estimated[ring.name_en] = 0
        for lon, lat in _points_across(ring, projection, 300, seed=seed):
            placement = geo.locate(lon, lat)  # beyond the road data too: an estimate
            estimated[ring.name_en] += placement.estimated
            expected = _expected_zone(geo, projection, lon, lat)
            assert placement.zone == expected, (lon, lat, placement.snap)
            assert placement.point == (lon, lat)
            assert placement.distance_to_5th_ring_m == pytest.approx(
                geo.zones.distance_to_5th_ring_m(lon, lat)
            )
            snapped_elsewhere += (
                geo.zones.classify(placement.snap.lon, placement.snap.lat) != expected
            )
            checked[ring.name_en] += 1
    # The 2013 extract reaches a little past the 5th ring (no roads south of about 39.79 N,
    # almost none near the 6th ring): of the 300 points across each ring, 19 across the 5th
    # and 277 across the 6th are more than max_snap_m (2 km) from every road, placed with
    # an estimate; all 600 are zoned where they are.
    assert checked == {"5th Ring Road": 300, "6th Ring Road": 300}
    assert estimated == {"5th Ring Road": 19, "6th Ring Road": 277}
    # The defect this guards against: many snap to a road in another zone.
    assert snapped_elsewhere > 50


def test_a_place_outside_the_5th_ring_pays_300_though_its_road_is_inside(
    geo: Geo, business_rules: Rules
) -> None:
    centre = geo.zones.fifth.polygon.centroid
    projection = LocalProjection(centre.x, centre.y)
    for lon, lat in _points_across(geo.zones.fifth, projection, 300, seed=0):
        try:
            placement = geo.locate(lon, lat)
        except InputError:  # off the extract's roads
            continue
        if placement.zone == "inside_5th_ring":
            continue
        if geo.zones.classify(placement.snap.lon, placement.snap.lat) != "inside_5th_ring":
            continue
        # Outside the ring by more than its tolerance, snapped to a road inside it.
        assert placement.distance_to_5th_ring_m > geo.zones.tolerance_m
        quote = make_quote(
            member=False, zone=placement.zone, on_highway=False, tow_m=None, rules=business_rules
        )
        assert quote.items[0].code == "callout" and quote.items[0].fee_yuan == 300
        assert placement.to_json()["point"] == [round(lon, 7), round(lat, 7)]
        return
    pytest.fail("no place outside the 5th ring snapped to a road inside it")


def test_gcj02_place_is_zoned_at_its_wgs84_point(geo: Geo) -> None:
    wgs = (116.39, 40.05)
    gcj = wgs84_to_gcj02(*wgs)
    placement = geo.locate(float(gcj[0]), float(gcj[1]), crs="gcj02")
    assert placement.point == pytest.approx(wgs, abs=1e-8)
    assert placement.zone == geo.zones.classify(*wgs) == "between_5th_and_6th_ring"
    keys = {"zone", "on_highway", "distance_to_5th_ring_m", "snapped", "snap_distance_m"}
    more = {"road_name", "highway", "point", "estimated", "off_network_m"}
    assert keys | more == set(placement.to_json())
