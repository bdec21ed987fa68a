"""Place search (:mod:`geo.place_search`) on the real Beijing network: crossings and partial
names with the places they must find, pinyin and initials, ranking, refusals, the index
against a brute force over the network's nodes, the HTTP endpoint and the command line."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.coords import to_wgs84
from geo.errors import InputError
from geo.network import RoadNetwork
from geo.place_search import (
    CROSSING_CLUSTER_M,
    MAIN_HIGHWAYS,
    MEETING_M,
    NAME_SEPARATOR,
    PlaceIndex,
    PlaceMatch,
    normalize,
    pinyin_keys,
    place_index,
)
from geo.places import Geo
from geo.projection import LocalProjection
from rescue.cli import main

PROJECTION = LocalProjection(116.4, 39.9)


@pytest.fixture(scope="module")
def index(geo: Geo) -> PlaceIndex:
    return place_index(geo.network)


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, bx), (ay, by) = PROJECTION.to_xy([a[0], b[0]], [a[1], b[1]])
    return math.hypot(ax - bx, ay - by)


def road_distance_m(network: RoadNetwork, name: str, point: tuple[float, float]) -> float:
    """Brute force: metres from ``point`` to the nearest edge carrying ``name``."""
    edges = [
        e for e, joined in enumerate(network.edge_name) if name in joined.split(NAME_SEPARATOR)
    ]
    px, py = PROJECTION.to_xy(*point)
    where = shapely.Point(float(px), float(py))
    best = math.inf
    for edge in edges:
        lon, lat = np.array(network.edge_coords(edge)).T
        line = shapely.LineString(np.column_stack(PROJECTION.to_xy(lon, lat)))
        best = min(best, line.distance(where))
    return best


# ---------------------------------------------------------------------------- crossings
# Each query, the two roads it must find (named as the data names them, in the query's
# order), where: the landmark's WGS-84 point, and how far from it the answer may be. 国贸桥
# is given as a phone map app reports it (GCJ-02, 116.461, 39.909), converted; the others
# were read off the OSM data where the two roads meet (at the landmark named in the comment
# where there is one) and are checked again below against the two roads' own geometry.
CROSSINGS: list[tuple[str, tuple[str, str], tuple[float, float], float]] = [
    ("建国路与东三环", ("建国路", "东三环中路"), to_wgs84(116.461, 39.909, "gcj02"), 300),  # 国贸桥
    ("西单北大街/长安街", ("西单北大街", "西长安街"), (116.3679, 39.9058), 150),  # 西单
    ("王府井大街和东长安街", ("王府井大街", "东长安街"), (116.4053, 39.9067), 150),
    ("中关村大街 北四环", ("中关村大街", "北四环西路"), (116.3103, 39.9839), 150),
    ("学院路与北四环", ("学院路", "北四环中路"), (116.3475, 39.9854), 150),  # 学院桥
    ("东三环北三环交叉口", ("东三环北路", "北三环东路"), (116.4482, 39.9566), 200),  # 三元桥
    ("北三环中路、德胜门外大街", ("北三环中路", "德胜门外大街"), (116.3743, 39.9667), 150),
    (
        "chaoyangmenneidajie chaoyangmennanxiaojie",  # 朝 read chao here, not zhao
        ("朝阳门内大街", "朝阳门南小街"),
        (116.4200, 39.9229),
        150,
    ),
]


@pytest.mark.parametrize(("query", "roads", "point", "tolerance_m"), CROSSINGS)
def test_crossing_is_found_at_its_place(
    index: PlaceIndex,
    geo: Geo,
    query: str,
    roads: tuple[str, str],
    point: tuple[float, float],
    tolerance_m: float,
) -> None:
    first = index.search(query)[0]
    assert first.kind == "crossing"
    assert first.name == f"{roads[0]} 与 {roads[1]}"
    assert metres(first.lonlat, point) <= tolerance_m
    for road in roads:  # on both roads (or, at an interchange, between their carriageways)
        assert road_distance_m(geo.network, road, first.lonlat) <= 2 * MEETING_M


@pytest.mark.parametrize(
    "query",
    [
        "建国路与东三环",
        "建国路和东三环",
        "建国路/东三环",
        "建国路 东三环",
        "建国路 与 东三环",
        "东三环建国路交叉口",
        "东三环与建国路路口",
        "jianguolu dongsanhuan",
        "JianGuoLu & DongSanHuan",
        "jgl/dongsanhuan",
    ],
)
def test_ways_of_asking_for_a_crossing_find_the_same_place(index: PlaceIndex, query: str) -> None:
    first = index.search(query)[0]
    assert first.kind == "crossing"
    assert sorted(first.name.split(" 与 ")) == ["东三环中路", "建国路"]
    assert metres(first.lonlat, (116.4561, 39.9072)) < 50


def test_a_crossing_of_two_roads_meeting_far_apart_is_two_places(index: PlaceIndex) -> None:
    # Clusters: every crossing of one pair is more than CROSSING_CLUSTER_M from the others.
    by_pair: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for crossing in index.crossings:
        by_pair.setdefault(crossing.roads, []).append(crossing.lonlat)
    several = [points for points in by_pair.values() if len(points) > 1]
    assert several
    for points in several:
        for i, a in enumerate(points):
            assert all(metres(a, b) > CROSSING_CLUSTER_M for b in points[i + 1 :])


# ---------------------------------------------------------------------------- names
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("东三环", {"东三环中路", "东三环北路", "东三环南路"}),  # prefix
        ("三环中", {"东三环中路", "北三环中路", "西三环中路", "南三环中路"}),  # substring
        ("jianguolu", {"建国路"}),  # full pinyin
        ("JianGuo Lu", {"建国路"}),  # case and spaces ignored
        ("jgmwdj", {"建国门外大街"}),  # initials
        ("dongsanhuan", {"东三环中路", "东三环北路", "东三环南路"}),  # pinyin prefix
        ("chaoyangmen", {"朝阳门内大街", "朝阳门南小街", "朝阳门北小街"}),  # a polyphone
        ("changchunjie", {"长椿街"}),  # 长 read chang, not zhang
        ("国贸桥", {"国贸桥"}),  # an interchange is a place too
    ],
)
def test_partial_names_and_pinyin(index: PlaceIndex, query: str, expected: set[str]) -> None:
    names = {m.name for m in index.search(query, limit=20) if m.kind == "road"}
    assert expected <= names


def test_a_road_lies_on_itself(index: PlaceIndex, geo: Geo) -> None:
    road = index.search("东三环中路")[0]
    assert road.name == "东三环中路"
    assert road_distance_m(geo.network, "东三环中路", road.lonlat) < 1.0
    min_lon, min_lat, max_lon, max_lat = road.bbox
    assert min_lon <= road.lonlat[0] <= max_lon and min_lat <= road.lonlat[1] <= max_lat


def test_exact_before_prefix_before_substring(index: PlaceIndex) -> None:
    results = index.search("建国路", limit=20)
    assert results[0].name == "建国路"
    names = [m.name for m in results if m.kind == "road"]
    starting = [n.startswith("建国路") for n in names]
    assert starting == sorted(starting, reverse=True)  # prefixes, then substrings


def test_main_roads_first_then_shorter_names(index: PlaceIndex) -> None:
    results = [m for m in index.search("西直门", limit=20) if m.name.startswith("西直门")]
    main = [m.highway.removesuffix("_link") in MAIN_HIGHWAYS for m in results]
    assert main == sorted(main, reverse=True)
    assert any(main) and not all(main)
    minor = [len(m.name) for m, is_main in zip(results, main, strict=True) if not is_main]
    assert minor == sorted(minor)


def test_typed_coordinates_are_no_place_name(index: PlaceIndex) -> None:
    assert index.search("116.461,39.909") == []  # the intake panel reads them as a point


@pytest.mark.parametrize(
    ("q", "limit", "field"),
    [
        (None, 8, "q"),
        (42, 8, "q"),
        ("", 8, "q"),
        ("   ", 8, "q"),
        ("路" * 61, 8, "q"),
        ("\ud800", 8, "q"),
        ("建国路", 0, "limit"),
        ("建国路", 51, "limit"),
        ("建国路", "many", "limit"),
        ("建国路", True, "limit"),
    ],
)
def test_bad_input_is_refused(index: PlaceIndex, q: Any, limit: Any, field: str) -> None:
    with pytest.raises(InputError) as refused:
        index.search(q, limit=limit)
    assert refused.value.field == field


@settings(max_examples=300, deadline=None)
@given(q=st.text(max_size=70), limit=st.integers(1, 50))
def test_any_text_gives_at_most_limit_places_or_a_refusal(
    index: PlaceIndex, q: str, limit: int
) -> None:
    try:
        results = index.search(q, limit=limit)
    except InputError as error:
        assert error.field == "q"
        return
    assert len(results) <= limit
    assert all(isinstance(m, PlaceMatch) for m in results)


# ---------------------------------------------------------------------------- brute force
def test_roads_sharing_a_node_are_found_as_their_crossing(index: PlaceIndex, geo: Geo) -> None:
    """50 random pairs of roads that meet at a node (each on an edge there without the
    other), found by walking every node's edges: each is found by ``A与B`` at that node."""
    network = geo.network
    pairs: dict[tuple[str, str], int] = {}
    for node in range(network.node_count):
        edges = [
            *range(int(network.indptr[node]), int(network.indptr[node + 1])),
            *np.flatnonzero(network.head == node).tolist(),
        ]
        name_sets = {
            frozenset(filter(None, network.edge_name[e].split(NAME_SEPARATOR))) for e in edges
        }
        for one in name_sets:
            for other in name_sets:
                for a in one - other:
                    for b in other - one:
                        pairs.setdefault((a, b), node)
    sample = random.Random(7).sample(sorted(p for p in pairs if len("与".join(p)) <= 60), 50)
    for a, b in sample:
        node = (float(network.node_lon[pairs[a, b]]), float(network.node_lat[pairs[a, b]]))
        found = [m for m in index.search(f"{a}与{b}", limit=50) if m.name == f"{a} 与 {b}"]
        assert found, (a, b)
        assert min(_bbox_distance_m(m, node) for m in found) <= MEETING_M, (a, b)


def _bbox_distance_m(match: PlaceMatch, point: tuple[float, float]) -> float:
    min_lon, min_lat, max_lon, max_lat = match.bbox
    nearest = (min(max(point[0], min_lon), max_lon), min(max(point[1], min_lat), max_lat))
    return metres(nearest, point)


# ---------------------------------------------------------------------------- HTTP and CLI
@pytest.fixture
def client(
    new_app: Callable[..., Flask], login: Callable[[Flask], FlaskClient], tmp_path: Path
) -> FlaskClient:
    return login(new_app(tmp_path / "dispatch.sqlite"))


def test_http_search(client: FlaskClient) -> None:
    response = client.get("/api/places", query_string={"q": "建国路与东三环", "limit": "3"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["query"] == "建国路与东三环"
    first = body["results"][0]
    assert first["kind"] == "crossing"
    assert first["name"] == "建国路 与 东三环中路"
    assert first["zone"] == "inside_5th_ring"
    assert first["highway"] == "trunk"
    assert metres(tuple(first["lonlat"]), (116.4561, 39.9072)) < 50
    assert 1 <= len(body["results"]) <= 3


@pytest.mark.parametrize(
    ("query", "field"),
    [({"q": "路" * 61}, "q"), ({}, "q"), ({"q": "建国路", "limit": "x"}, "limit")],
)
def test_http_refuses_bad_input(client: FlaskClient, query: dict[str, str], field: str) -> None:
    response = client.get("/api/places", query_string=query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert response.get_json()["ok"] is False
    assert error["field"] == field
    assert error["message"]
    assert len(json.dumps(error["value"], ensure_ascii=False)) < 80  # a short prefix at most


def test_http_needs_a_login(new_app: Callable[..., Flask], tmp_path: Path) -> None:
    anonymous = new_app(tmp_path / "dispatch.sqlite").test_client()
    assert anonymous.get("/api/places?q=建国路").status_code == 401


def test_cli_place(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["place", "jgl", "--limit", "2"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["results"][0]["name"] == "建国路"
    assert len(body["results"]) <= 2
    assert main(["place", " "]) == 2
    assert "q" in capsys.readouterr().err


def test_every_substring_of_a_name_finds_its_road(index: PlaceIndex) -> None:
    """100 random pieces of names against a brute force over all names: every road whose
    name or pinyin holds the piece is found (when there are few enough to list)."""
    names = sorted(road.name for road in index.roads)
    texts = {n: {normalize(n), *pinyin_keys(n)[0]} for n in names}
    rng = random.Random(11)
    checked = 0
    while checked < 100:
        name = rng.choice(names)
        start = rng.randrange(len(name))
        piece = name[start : rng.randint(start + 1, len(name))].strip()
        key = normalize(piece)
        holding = {n for n in names if key and any(key in text for text in texts[n])}
        if not key or len(holding) > 10:
            continue
        found = {m.name for m in index.search(piece, limit=50) if m.kind == "road"}
        assert holding <= found, piece
        checked += 1


def test_a_network_without_names_has_no_places(geo: Geo) -> None:
    unnamed = dataclasses.replace(geo.network, edge_name=("",) * geo.network.edge_count)
    empty = PlaceIndex.from_network(unnamed)
    assert (empty.roads, empty.crossings) == ([], [])
    assert empty.search("建国路与东三环") == []


def test_http_answers_no_place_with_an_empty_list(client: FlaskClient) -> None:
    response = client.get("/api/places", query_string={"q": "116.461,39.909"})
    assert response.status_code == 200
    assert response.get_json() == {"query": "116.461,39.909", "results": []}
