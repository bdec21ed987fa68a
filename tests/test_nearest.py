"""The grid's nearest edge (geo/nearest.py) equals an exhaustive search, and the router's
snaps of many places at once equal its snaps of each place alone."""

from __future__ import annotations

import numpy as np
import shapely

from geo.nearest import SegmentGrid
from geo.places import Geo


def test_grid_finds_an_edge_as_near_as_the_trees(geo: Geo) -> None:
    router = geo.router
    lines = router._edge_lines
    rng = np.random.default_rng(13)
    edges = rng.integers(len(lines), size=3000)
    on_road = shapely.line_interpolate_point(lines[edges], rng.uniform(0, 1, 3000), normalized=True)
    x = np.concatenate([shapely.get_x(on_road) + rng.normal(0, 30, 3000), [-1e6, 1e6]])
    y = np.concatenate([shapely.get_y(on_road) + rng.normal(0, 30, 3000), [0.0, 0.0]])
    points = shapely.points(x, y)
    edge, found = SegmentGrid(lines).nearest(x, y)
    _, exhaustive = router._tree.query_nearest(points, all_matches=False)
    assert found[:-2].all() and not found[-2:].any()  # far outside: left to the tree
    assert (edge[-2:] == -1).all()
    grid_m = shapely.distance(points[found], lines[edge[found]])
    tree_m = shapely.distance(points[found], lines[exhaustive[found]])
    assert np.array_equal(grid_m, tree_m)


def test_many_places_snap_as_each_alone(geo: Geo) -> None:
    router, net = geo.router, geo.network
    rng = np.random.default_rng(14)
    nodes = rng.integers(net.node_count, size=40)
    lons = net.node_lon[nodes] + rng.uniform(-3e-3, 3e-3, 40)
    lats = net.node_lat[nodes] + rng.uniform(-3e-3, 3e-3, 40)
    together = router.snap_many(lons, lats)
    alone = [router.snap(lon, lat) for lon, lat in zip(lons, lats, strict=True)]
    assert together == alone
