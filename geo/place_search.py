"""Place search for the intake panel: named roads and the crossings of two named roads.

The index is built from the road network itself (the OSM extract has road names and no
POIs). A road is every edge carrying one name, merged: a simplified edge named
``"东三环中路 / 国贸桥"`` belongs to both roads. Two roads meet where an edge of one (without
the other's name) comes within :data:`MEETING_M` of an edge of the other (so a bridge's name
riding on the ring road is no crossing of the two), and at an interchange named ``…桥`` that
both run through; the meeting points of one pair are clustered (dual carriageways, the ramps
of an interchange) and each cluster is one crossing.

A query matches a name by its normalized text (NFKC, case-folded, spaces removed), its full
pinyin without tones (``jianguolu``, every reading of a polyphone) or the initials of its
Chinese characters (``jgl``): exactly, by prefix, or (text and full pinyin) as a substring. A
crossing is asked as two parts: ``建国路与东三环``, ``建国路/东三环``, ``建国路 东三环``,
``东三环建国路交叉口``. Results rank exact before prefix before substring (a crossing by its
worse part), then main roads before minor ones, shorter names first. Points are WGS-84
``(lon, lat)``, the map's datum.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import numpy as np
import shapely
from pypinyin import Style, pinyin
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.errors import InputError
from geo.network import FloatArray, IntArray, RoadNetwork
from geo.projection import LocalProjection
from geo.zones import RingZones

PlaceKind = Literal["road", "crossing"]
LonLat = tuple[float, float]
BBox = tuple[float, float, float, float]
"""``(min_lon, min_lat, max_lon, max_lat)``."""

MAX_QUERY_CHARS = 60
DEFAULT_LIMIT = 8
MAX_LIMIT = 50
CROSSING_CLUSTER_M = 300.0
"""Meeting points of two roads closer than this (chained) are one crossing."""
MEETING_M = 50.0
"""Two roads closer than this meet: at an interchange whose ramps have no name the roads' own
edges stop short of each other (国贸桥: 建国路 ends 36 m from 东三环中路)."""
MAIN_HIGHWAYS = ("motorway", "trunk", "primary")
HIGHWAY_ORDER = (*MAIN_HIGHWAYS, "secondary", "tertiary", "unclassified", "residential")
"""Road classes from the most major; a class not listed ranks after them."""
BRIDGE_SUFFIX = "桥"
"""A road named so is a bridge or an interchange (国贸桥): the roads through it meet there."""
NAME_SEPARATOR = " / "
"""How :func:`geo.network.compile_graph` joins the names of the ways of one edge."""
CROSSING_JOIN = " 与 "
"""Between the two road names of a crossing's name."""
SEPARATOR_CHARS = "与和/、&,，;；|+"
"""What may stand between the two roads of a crossing query."""
SEPARATORS = re.compile(rf"[{re.escape(SEPARATOR_CHARS)}]")
SPACES = re.compile(r"\s+")
"""Between the two roads of a crossing query with none of :data:`SEPARATOR_CHARS`."""
CROSSING_SUFFIXES = ("十字路口", "交叉路口", "交叉口", "路口", "交口")
"""Words a crossing query may end with (``东三环建国路交叉口``)."""
MAX_SPLITS = 8
"""Separator positions tried per query (a crossing query has one or a few)."""
MAX_READINGS = 64
"""Pinyin readings kept per name (the longest names with several polyphones have 36)."""
MIN_PART_CHARS = 2
"""Shortest part of a crossing query split where it has no separator, and shortest part
matched as a substring."""

EXACT, PREFIX, SUBSTRING = 0, 1, 2
Levels = dict[int, int]
"""Name id -> best match level (:data:`EXACT`, :data:`PREFIX`, :data:`SUBSTRING`)."""


@dataclass(frozen=True)
class PlaceMatch:
    """One search result.

    ``lonlat`` is the place's WGS-84 point: for a road its point nearest its middle, for a
    crossing the meeting point nearest the centre of the cluster. ``highway`` is the road's class
    (the one over most of its length); for a crossing the more major road's. ``bbox`` is the
    road's extent, or the extent of the crossing's meeting points.
    """

    kind: PlaceKind
    name: str
    lonlat: LonLat
    highway: str
    bbox: BBox


@dataclass(frozen=True)
class _Road:
    name: str
    lonlat: LonLat
    bbox: BBox
    length_m: float
    """Length of its edges, each two-way edge once (a dual carriageway counts twice)."""
    highway: str
    """Its class over most of its length."""
    main: bool
    """Of :data:`MAIN_HIGHWAYS` (or their links)."""
    rank: int
    """Of its class in :data:`HIGHWAY_ORDER` (lower is more major)."""


@dataclass(frozen=True)
class _Crossing:
    roads: tuple[int, int]
    lonlat: LonLat
    bbox: BBox


def normalize(text: str) -> str:
    """The matching form of a name or query: NFKC, case-folded, without whitespace."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def pinyin_keys(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """Full toneless pinyin of ``name`` and the initials of its Chinese characters, in
    every reading of its characters that have several (朝阳门: ``chaoyangmen`` and
    ``zhaoyangmen``; at most :data:`MAX_READINGS`).

    Text that is not Chinese stays in the full pinyin as it is; there are no initials for a
    name without Chinese characters.
    """
    syllables = pinyin(name, style=Style.NORMAL, heteronym=True, errors=lambda c: "\0" + c)
    readings = itertools.islice(
        itertools.product(*(dict.fromkeys(s) for s in syllables)), MAX_READINGS
    )
    full: set[str] = set()
    initials: set[str] = set()
    for reading in readings:
        full.add(normalize("".join(s.removeprefix("\0") for s in reading)))
        initials.add("".join(s[0] for s in reading if s and not s.startswith("\0")))
    return frozenset(full - {""}), frozenset(initials - {""})


def check_query(q: Any) -> str:
    """``q`` stripped; :class:`InputError` (field ``q``) unless it is 1-60 characters."""
    if q is None:
        raise InputError("q", q, "is required")
    if not isinstance(q, str):
        raise InputError("q", q, "must be text")
    text = q.strip()
    if not text:
        raise InputError("q", q, "is empty")
    if len(text) > MAX_QUERY_CHARS:
        raise InputError("q", q, "at most {limit} characters", limit=MAX_QUERY_CHARS)
    if any("\ud800" <= char <= "\udfff" for char in text):
        raise InputError("q", q, "is not valid UTF-8 text (a lone surrogate)")
    return text


def check_limit(limit: Any) -> int:
    """``limit`` as an int; :class:`InputError` (field ``limit``) unless 1-50."""
    if isinstance(limit, str) and limit.strip().isdecimal():
        limit = int(limit)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InputError("limit", limit, "must be an integer from 1 to {max}", max=MAX_LIMIT)
    return limit


def _grams(text: str) -> set[str]:
    """The character pairs of ``text``; its one character if it has one."""
    return {text[i : i + 2] for i in range(max(1, len(text) - 1))}


def _highway_rank(highway: str) -> int:
    base = highway.removesuffix("_link")
    return HIGHWAY_ORDER.index(base) if base in HIGHWAY_ORDER else len(HIGHWAY_ORDER)


def _bbox(lon: np.ndarray[Any, Any], lat: np.ndarray[Any, Any]) -> BBox:
    return (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))


class PlaceIndex:
    """Roads and crossings of one network, searchable by name, pinyin and initials.

    Build it with :meth:`from_network` (or the cached :func:`place_index`).
    """

    def __init__(self, roads: list[_Road], crossings: list[_Crossing]) -> None:
        self.roads = roads
        self.crossings = crossings
        self._crossings_of: dict[int, list[int]] = defaultdict(list)
        for c, crossing in enumerate(crossings):
            for road_id in crossing.roads:
                self._crossings_of[road_id].append(c)
        exact: dict[str, set[int]] = defaultdict(set)
        prefix_keys: set[tuple[str, int]] = set()
        substring_keys: set[tuple[str, int]] = set()
        for i, road in enumerate(roads):
            full, initials = pinyin_keys(road.name)
            texts = {normalize(road.name), *full}
            for key in texts | initials:
                exact[key].add(i)
                prefix_keys.add((key, i))
            substring_keys.update((key, i) for key in texts)
        self._road_match = [
            PlaceMatch("road", road.name, road.lonlat, road.highway, road.bbox) for road in roads
        ]
        self._road_rank, self._crossing_rank = self._static_ranks()
        self._exact = {key: frozenset(ids) for key, ids in exact.items()}
        self._prefix = sorted(prefix_keys)
        self._prefix_texts = [key for key, _ in self._prefix]
        self._substring = sorted(substring_keys)
        grams: dict[str, set[int]] = defaultdict(set)
        for k, (text, _) in enumerate(self._substring):
            for gram in _grams(text) | set(text):
                grams[gram].add(k)
        self._grams = {gram: frozenset(keys) for gram, keys in grams.items()}

    @classmethod
    def from_network(cls, network: RoadNetwork) -> PlaceIndex:
        """Merge the edges of each name into a road; find and cluster the crossings."""
        names: dict[str, int] = {}
        edges_of: list[list[int]] = []
        edge_roads: list[frozenset[int]] = []
        parts_of: dict[str, frozenset[int]] = {}
        for edge, joined in enumerate(network.edge_name):
            if joined not in parts_of:
                parts = [p.strip() for p in joined.split(NAME_SEPARATOR) if p.strip()]
                for part in parts:
                    if part not in names:
                        names[part] = len(names)
                        edges_of.append([])
                parts_of[joined] = frozenset(names[p] for p in parts)
            ids = parts_of[joined]
            edge_roads.append(ids)
            for i in ids:
                edges_of[i].append(edge)
        projection = LocalProjection(
            float(np.median(network.node_lon)), float(np.median(network.node_lat))
        )
        roads = [_road(network, name, edges_of[i], projection) for name, i in names.items()]
        bridges = frozenset(i for name, i in names.items() if name.endswith(BRIDGE_SUFFIX))
        crossings = list(_crossings(network, edge_roads, bridges, projection))
        return cls(roads, crossings)

    def _static_ranks(self) -> tuple[list[int], list[int]]:
        """Each road's and crossing's place in the order of equally good matches: main
        roads before minor ones, shorter names first, then the longer road (of a crossing:
        its shorter road's length); one order for both kinds."""
        keys: list[tuple[Any, ...]] = []
        for road in self.roads:
            keys.append((not road.main, len(road.name), -road.length_m, road.name, road.lonlat))
        for crossing in self.crossings:
            one, other = (self.roads[i] for i in crossing.roads)
            name = one.name + CROSSING_JOIN + other.name
            minor = (not one.main) + (not other.main)
            shorter_m = min(one.length_m, other.length_m)
            keys.append((minor, len(name), -shorter_m, name, crossing.lonlat))
        rank = [0] * len(keys)
        for position, place in enumerate(sorted(range(len(keys)), key=keys.__getitem__)):
            rank[place] = position
        return rank[: len(self.roads)], rank[len(self.roads) :]

    # ------------------------------------------------------------------ matching

    def _match(self, key: str, *, substring: bool) -> Levels:
        """Roads whose keys equal, start with or (``substring``) contain ``key``."""
        levels: Levels = {}
        if substring:
            for k in self._keys_containing(key):
                text, i = self._substring[k]
                if key in text:  # the grams are all in it, maybe not in this order
                    levels[i] = SUBSTRING
        start = bisect.bisect_left(self._prefix_texts, key)
        for text, i in itertools.islice(self._prefix, start, None):
            if not text.startswith(key):
                break
            levels[i] = PREFIX
        for i in self._exact.get(key, ()):
            levels[i] = EXACT
        return levels

    def _keys_containing(self, key: str) -> frozenset[int]:
        """Positions in ``_substring`` of the keys holding every character pair of ``key``
        (its one character)."""
        found = sorted((self._grams.get(gram, frozenset()) for gram in _grams(key)), key=len)
        return found[0].intersection(*found[1:])

    def _has_prefix(self, key: str) -> bool:
        start = bisect.bisect_left(self._prefix_texts, key)
        return start < len(self._prefix_texts) and self._prefix_texts[start].startswith(key)

    def _crossings_between(self, first: Levels, second: Levels) -> Iterator[tuple[int, int, bool]]:
        """Crossings of a road of ``first`` with one of ``second``: ``(crossing, level,
        swapped)``, ``swapped`` when ``first``'s road is the crossing's second."""
        swap = len(second) < len(first)
        outer, inner = (second, first) if swap else (first, second)
        for road, outer_level in outer.items():
            for c in self._crossings_of.get(road, ()):
                a, b = self.crossings[c].roads
                inner_level = inner.get(b if a == road else a)
                if inner_level is not None:
                    yield c, max(outer_level, inner_level), (a == road) == swap

    def _crossing_parts(self, text: str, whole_found: bool) -> Iterator[tuple[str, str, bool]]:
        """``(first, second, substring)`` readings of ``text`` as two roads.

        Split at its separators (``与``, ``/``...; parts may match as substrings). When the
        whole query is part of no road's name (``whole_found`` false), also split a query
        without separators at its spaces (``jianguolu dongsanhuan``, as substrings too),
        and at every position (``东三环建国路``, parts matching exactly or as prefixes).
        """
        folded = unicodedata.normalize("NFKC", text).casefold()
        for suffix in CROSSING_SUFFIXES:
            folded = folded.removesuffix(suffix)
        splits = list(itertools.islice(SEPARATORS.finditer(folded), MAX_SPLITS))
        if not splits and not whole_found:
            splits = list(itertools.islice(SPACES.finditer(folded), MAX_SPLITS))
        for found in splits:
            first = normalize(folded[: found.start()]).strip(SEPARATOR_CHARS)
            second = normalize(folded[found.end() :]).strip(SEPARATOR_CHARS)
            if first and second:
                yield first, second, True
        if whole_found:
            return
        joined = normalize(folded)
        for cut in range(MIN_PART_CHARS, len(joined) - MIN_PART_CHARS + 1):
            first, second = joined[:cut], joined[cut:]
            if self._has_prefix(first) and self._has_prefix(second):
                yield first, second, False

    def _crossing_match(self, c: int, swapped: bool) -> PlaceMatch:
        crossing = self.crossings[c]
        first, second = (self.roads[i] for i in crossing.roads[:: -1 if swapped else 1])
        major = min(first, second, key=lambda road: road.rank)
        name = first.name + CROSSING_JOIN + second.name
        return PlaceMatch("crossing", name, crossing.lonlat, major.highway, crossing.bbox)

    def search(self, q: Any, *, limit: Any = DEFAULT_LIMIT) -> list[PlaceMatch]:
        """The best places for the query ``q``, at most ``limit`` (1-50) of them.

        Raises
        ------
        geo.errors.InputError
            For ``q`` unless it is text of 1-60 characters (stripped); for ``limit``
            unless it is an integer from 1 to 50.
        """
        text = check_query(q)
        count = check_limit(limit)
        whole = normalize(text)
        if not whole:
            return []
        roads = self._match(whole, substring=True)
        memo: dict[tuple[str, bool], Levels] = {}

        def levels_of(part: str, substring: bool) -> Levels:
            substring = substring and len(part) >= MIN_PART_CHARS
            if (part, substring) not in memo:
                memo[part, substring] = self._match(part, substring=substring)
            return memo[part, substring]

        crossings: dict[int, tuple[int, bool]] = {}
        for first, second, substring in sorted(set(self._crossing_parts(text, bool(roads)))):
            pairs = self._crossings_between(
                levels_of(first, substring), levels_of(second, substring)
            )
            for c, level, swapped in pairs:
                if c not in crossings or level < crossings[c][0]:
                    crossings[c] = (level, swapped)
        best = heapq.nsmallest(
            count,
            itertools.chain(
                ((level, self._road_rank[i], i, False) for i, level in roads.items()),
                ((level, self._crossing_rank[c], c, True) for c, (level, _) in crossings.items()),
            ),
        )
        return [
            self._crossing_match(i, crossings[i][1]) if is_crossing else self._road_match[i]
            for _, _, i, is_crossing in best
        ]


def _road(network: RoadNetwork, name: str, edges: list[int], projection: LocalProjection) -> _Road:
    """The road of ``edges``: its vertex nearest the length-weighted mean of the edges'
    midpoints, its extent, its length and its class over most of that length."""
    edge_ids = np.asarray(edges, dtype=np.int64)
    starts, ends = network.geom_offsets[edge_ids], network.geom_offsets[edge_ids + 1]
    vertices = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
    lon, lat = network.geom_lon[vertices], network.geom_lat[vertices]
    once = (network.twin_edge[edge_ids] < 0) | (network.twin_edge[edge_ids] > edge_ids)
    length_m = network.length_m[edge_ids] * once
    x, y = projection.to_xy(lon, lat)
    tail, head = network.tail[edge_ids], network.head[edge_ids]
    mx, my = projection.to_xy(
        (network.node_lon[tail] + network.node_lon[head]) / 2,
        (network.node_lat[tail] + network.node_lat[head]) / 2,
    )
    weight = np.maximum(length_m, 1e-9)
    centre_x, centre_y = np.average(mx, weights=weight), np.average(my, weights=weight)
    nearest = int(np.argmin(np.hypot(x - centre_x, y - centre_y)))
    by_class: dict[str, float] = defaultdict(float)
    for code, metres in zip(
        network.highway_code[edge_ids].tolist(), length_m.tolist(), strict=True
    ):
        by_class[network.highway_classes[code]] += metres + 1e-9
    highway = max(sorted(by_class), key=lambda h: by_class[h])
    return _Road(
        name=name,
        lonlat=(float(lon[nearest]), float(lat[nearest])),
        bbox=_bbox(lon, lat),
        length_m=float(length_m.sum()),
        highway=highway,
        main=highway.removesuffix("_link") in MAIN_HIGHWAYS,
        rank=_highway_rank(highway),
    )


def _edge_lines(network: RoadNetwork, edges: IntArray, projection: LocalProjection) -> Any:
    """Shapely lines of ``edges``, in metres of ``projection``."""
    starts, ends = network.geom_offsets[edges], network.geom_offsets[edges + 1]
    vertices = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
    x, y = projection.to_xy(network.geom_lon[vertices], network.geom_lat[vertices])
    line_of_vertex = np.repeat(np.arange(len(edges)), ends - starts)
    return shapely.linestrings(np.column_stack((x, y)), indices=line_of_vertex)


def _meeting_points(
    network: RoadNetwork,
    edge_roads: list[frozenset[int]],
    bridges: frozenset[int],
    projection: LocalProjection,
) -> tuple[list[tuple[int, int]], IntArray, FloatArray]:
    """Where pairs of roads meet: the pairs, and per meeting point its pair's position in
    them and its ``(x, y)`` in metres of ``projection``.

    Two roads meet where two edges, each carrying one road and not the other, come closer
    than :data:`MEETING_M` (a shared node, lines that cross, a ramp too short to matter),
    and at an interchange (a road of ``bridges``) whose edges carry both names, where their
    edges of it come closest (三元桥: 东三环北路 and 北三环东路 never touch). The point is
    the middle of the shortest gap between the two.
    """
    named = np.array(
        [
            e
            for e, roads in enumerate(edge_roads)
            if roads and not 0 <= network.twin_edge[e] < e  # one of two twin edges
        ],
        dtype=np.int64,
    )
    if not len(named):
        return [], np.zeros(0, dtype=np.int64), np.zeros((0, 2))
    lines = _edge_lines(network, named, projection)
    road_sets = [edge_roads[e] for e in named.tolist()]
    pair_at: dict[tuple[int, int], int] = {}
    owners: list[int] = []
    ends: tuple[list[Any], list[Any]] = ([], [])

    def meet(a: int, b: int, line_a: Any, line_b: Any) -> None:
        owners.append(pair_at.setdefault((min(a, b), max(a, b)), len(pair_at)))
        ends[0].append(line_a)
        ends[1].append(line_b)

    left, right = shapely.STRtree(lines).query(lines, predicate="dwithin", distance=MEETING_M)
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i < j:
            one, other = road_sets[i], road_sets[j]
            for a, b in itertools.product(one - other, other - one):
                meet(a, b, lines[i], lines[j])
    through: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, roads in enumerate(road_sets):
        for bridge, road in itertools.product(roads & bridges, roads - bridges):
            through[bridge, road].append(i)
    by_bridge: dict[int, dict[int, Any]] = defaultdict(dict)
    for (bridge, road), at in through.items():
        by_bridge[bridge][road] = shapely.multilinestrings(lines[at])
    for roads_at in by_bridge.values():
        for a, b in itertools.combinations(sorted(roads_at), 2):
            meet(a, b, roads_at[a], roads_at[b])
    gaps = shapely.shortest_line(np.array(ends[0]), np.array(ends[1]))
    middles = shapely.get_coordinates(shapely.line_interpolate_point(gaps, 0.5, normalized=True))
    return list(pair_at), np.asarray(owners, dtype=np.int64), middles


def _clusters(owner: IntArray, xy: FloatArray, within_m: float) -> list[IntArray]:
    """Single-linkage clusters of the points ``xy`` (metres) of each owner, chained closer
    than ``within_m``: the point indices of each cluster.

    One search for all owners: each owner's points are moved far from every other's.
    """
    apart_m = 4.0 * float(np.ptp(xy[:, 1]) + within_m)
    moved = np.column_stack((xy[:, 0], xy[:, 1] + owner * apart_m))
    pairs = cKDTree(moved).query_pairs(within_m, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy),) * 2)
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    return np.split(order, np.flatnonzero(np.diff(label[order])) + 1)


def _crossings(
    network: RoadNetwork,
    edge_roads: list[frozenset[int]],
    bridges: frozenset[int],
    projection: LocalProjection,
) -> Iterable[_Crossing]:
    """One crossing per cluster of the meeting points of each pair of roads: at the point
    nearest the cluster's centre."""
    pairs, owner, xy = _meeting_points(network, edge_roads, bridges, projection)
    if not pairs:
        return
    for cluster in _clusters(owner, xy, CROSSING_CLUSTER_M):
        here = xy[cluster]
        nearest = here[np.argmin(np.hypot(*(here - here.mean(axis=0)).T))]
        low, high = here.min(axis=0), here.max(axis=0)
        yield _Crossing(
            pairs[int(owner[cluster[0]])],
            projection.to_lonlat(float(nearest[0]), float(nearest[1])),
            (
                *projection.to_lonlat(float(low[0]), float(low[1])),
                *projection.to_lonlat(float(high[0]), float(high[1])),
            ),
        )


_INDEX_LOCK = threading.Lock()


def place_index(network: RoadNetwork) -> PlaceIndex:
    """The :class:`PlaceIndex` of ``network``, built once per network object (threads
    asking while it is built wait for it)."""
    with _INDEX_LOCK:
        return _built_index(network)


@cache
def _built_index(network: RoadNetwork) -> PlaceIndex:
    return PlaceIndex.from_network(network)


def search_json(
    network: RoadNetwork, zones: RingZones, q: Any, *, limit: Any = DEFAULT_LIMIT
) -> dict[str, Any]:
    """The answer to a place search, as the map and the command line give it:
    ``{"query", "results": [{"kind", "name", "lonlat", "highway", "bbox", "zone"}]}``
    (``zone`` of :class:`geo.zones.RingZones`).

    Raises :class:`geo.errors.InputError` as :meth:`PlaceIndex.search` does.
    """
    text = check_query(q)
    matches = place_index(network).search(text, limit=limit)
    zone_of = zones.classify_many([m.lonlat[0] for m in matches], [m.lonlat[1] for m in matches])
    return {
        "query": text,
        "results": [
            {
                "kind": match.kind,
                "name": match.name,
                "lonlat": [round(match.lonlat[0], 7), round(match.lonlat[1], 7)],
                "highway": match.highway,
                "bbox": [round(value, 7) for value in match.bbox],
                "zone": zone,
            }
            for match, zone in zip(matches, zone_of, strict=True)
        ],
    }
