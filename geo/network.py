"""The compiled road network: numpy CSR arrays, node coordinates, edge geometry.

Compiled once from the osmnx graph (:mod:`geo.graph`) and cached on disk as one ``.npz``
keyed by the source file's SHA-256 and the settings that shape it (drivable classes,
speeds, congestion bands), so a warm start reads arrays instead of parsing OSM.
Edge ids are positions in tail-sorted order, so ``indptr`` slices the edges out of a node.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import numpy.typing as npt

from geo.config import data_dir, load_rules
from geo.graph import BuildReport, build_drive_graph, check_source, travel_attr
from geo.speeds import SpeedModel

# Bump when the compiled layout or the build changes, so old caches are not read.
COMPILER_VERSION = 2
# Looked for in data/osm/ in this order: the shared copy, then a download (geo.datasets).
DEFAULT_OSM_NAMES = ("beijing.osm.bz2", "beijing.osm", "beijing.osm.pbf")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def default_cache_dir() -> Path:
    """Where compiled networks and their hierarchies are kept: ``data/osm/cache``."""
    return data_dir() / "osm" / "cache"


def default_osm_path() -> Path:
    """``$RESCUE_OSM``, else the first of :data:`DEFAULT_OSM_NAMES` in ``data/osm/``."""
    if "RESCUE_OSM" in os.environ:
        return Path(os.environ["RESCUE_OSM"])
    candidates = [data_dir() / "osm" / name for name in DEFAULT_OSM_NAMES]
    return next((path for path in candidates if path.exists()), candidates[0])


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road network in CSR form.

    Nodes are ``0..n-1`` (``node_osm_id`` maps them back); edge ``e`` runs from
    ``tail[e]`` to ``head[e]``; edges are sorted by tail, ``indptr`` indexes them.
    ``travel_s[b, e]`` is the travel time of edge ``e`` in band ``bands[b]``.
    Edge ``e``'s shape is ``geom_lon/lat[geom_offsets[e]:geom_offsets[e+1]]``.
    """

    node_osm_id: IntArray
    node_lon: FloatArray
    node_lat: FloatArray
    indptr: IntArray
    tail: IntArray
    head: IntArray
    length_m: FloatArray
    travel_s: FloatArray
    highway_code: npt.NDArray[np.int16]
    twin_edge: IntArray
    """For each edge the opposite edge with the same shape (two-way roads), else -1."""
    highway_classes: tuple[str, ...]
    edge_name: tuple[str, ...]
    geom_offsets: IntArray
    geom_lon: FloatArray
    geom_lat: FloatArray
    bands: tuple[str, ...]
    meta: dict[str, Any]

    @property
    def node_count(self) -> int:
        return int(self.node_lon.shape[0])

    @property
    def edge_count(self) -> int:
        return int(self.tail.shape[0])

    def band_index(self, band: str) -> int:
        return self.bands.index(band)

    def bbox(self) -> tuple[float, float, float, float]:
        """``(min_lon, min_lat, max_lon, max_lat)`` of the nodes."""
        return (
            float(self.node_lon.min()),
            float(self.node_lat.min()),
            float(self.node_lon.max()),
            float(self.node_lat.max()),
        )

    def edge_highway(self, edge: int) -> str:
        return self.highway_classes[int(self.highway_code[edge])]

    @cached_property
    def reverse_order(self) -> IntArray:
        """Edge ids sorted by head: the incoming arcs of each node, for backward search."""
        return np.argsort(self.head, kind="stable").astype(np.int64)

    @cached_property
    def reverse_indptr(self) -> IntArray:
        counts = np.bincount(self.head, minlength=self.node_count)
        return np.concatenate(([0], np.cumsum(counts))).astype(np.int64)

    def edge_coords(self, edge: int) -> list[list[float]]:
        start, end = self.geom_offsets[edge], self.geom_offsets[edge + 1]
        return np.column_stack((self.geom_lon[start:end], self.geom_lat[start:end])).tolist()


def _twin_edges(tail: IntArray, head: IntArray, length_m: FloatArray) -> IntArray:
    """The opposite edge of each edge (same ends reversed, same length), else -1."""
    twin = np.full(tail.shape[0], -1, dtype=np.int64)
    by_ends: dict[tuple[int, int, float], int] = {}
    for edge, key in enumerate(
        zip(tail.tolist(), head.tolist(), np.round(length_m, 3).tolist(), strict=True)
    ):
        by_ends.setdefault(key, edge)
    for edge, (u, v, length) in enumerate(
        zip(tail.tolist(), head.tolist(), np.round(length_m, 3).tolist(), strict=True)
    ):
        other = by_ends.get((v, u, length), -1)
        if other != edge:
            twin[edge] = other
    return twin


def _settings(rules: dict[str, Any]) -> dict[str, Any]:
    return {
        "compiler_version": COMPILER_VERSION,
        "network": rules["network"],
        "speeds": rules["speeds"],
        "congestion": rules["congestion"],
    }


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def cache_key(osm_path: Path, rules: dict[str, Any]) -> str:
    settings = json.dumps(_settings(rules), sort_keys=True).encode()
    return hashlib.sha256(_file_sha256(osm_path).encode() + settings).hexdigest()[:20]


def compile_graph(
    graph: nx.MultiDiGraph, *, bands: tuple[str, ...], meta: dict[str, Any]
) -> RoadNetwork:
    """Turn the osmnx graph of :func:`geo.graph.build_drive_graph` into arrays."""
    osm_ids = np.array(sorted(graph.nodes), dtype=np.int64)
    index_of = {int(osm_id): i for i, osm_id in enumerate(osm_ids)}
    node_lon = np.array([graph.nodes[n]["x"] for n in osm_ids], dtype=np.float64)
    node_lat = np.array([graph.nodes[n]["y"] for n in osm_ids], dtype=np.float64)

    edges = sorted(
        graph.edges(keys=True, data=True), key=lambda e: (index_of[e[0]], index_of[e[1]], e[2])
    )
    classes = tuple(sorted({data["highway"] for *_, data in edges}))
    class_code = {name: i for i, name in enumerate(classes)}
    tail = np.array([index_of[u] for u, *_ in edges], dtype=np.int64)
    head = np.array([index_of[v] for _, v, *_ in edges], dtype=np.int64)
    geom_lon: list[float] = []
    geom_lat: list[float] = []
    offsets = [0]
    for u, v, _, data in edges:
        if "geometry" in data:
            xs, ys = data["geometry"].xy
            geom_lon.extend(xs)
            geom_lat.extend(ys)
        else:
            geom_lon.extend((graph.nodes[u]["x"], graph.nodes[v]["x"]))
            geom_lat.extend((graph.nodes[u]["y"], graph.nodes[v]["y"]))
        offsets.append(len(geom_lon))

    def name_of(data: dict[str, Any]) -> str:
        name = data.get("name", "")
        return " / ".join(dict.fromkeys(name)) if isinstance(name, list) else str(name)

    counts = np.bincount(tail, minlength=len(osm_ids))
    length_m = np.array([d["length"] for *_, d in edges], dtype=np.float64)
    return RoadNetwork(
        node_osm_id=osm_ids,
        node_lon=node_lon,
        node_lat=node_lat,
        indptr=np.concatenate(([0], np.cumsum(counts))).astype(np.int64),
        tail=tail,
        head=head,
        length_m=length_m,
        travel_s=np.array(
            [[d[travel_attr(band)] for *_, d in edges] for band in bands], dtype=np.float64
        ),
        highway_code=np.array([class_code[d["highway"]] for *_, d in edges], dtype=np.int16),
        twin_edge=_twin_edges(tail, head, length_m),
        highway_classes=classes,
        edge_name=tuple(name_of(d) for *_, d in edges),
        geom_offsets=np.array(offsets, dtype=np.int64),
        geom_lon=np.array(geom_lon, dtype=np.float64),
        geom_lat=np.array(geom_lat, dtype=np.float64),
        bands=bands,
        meta=meta,
    )


_ARRAY_FIELDS = (
    "node_osm_id",
    "node_lon",
    "node_lat",
    "indptr",
    "tail",
    "head",
    "length_m",
    "travel_s",
    "highway_code",
    "twin_edge",
    "geom_offsets",
    "geom_lon",
    "geom_lat",
)


def save_network(network: RoadNetwork, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    header = {
        "highway_classes": network.highway_classes,
        "edge_name": network.edge_name,
        "bands": network.bands,
        "meta": network.meta,
    }
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp,
        header=np.array(json.dumps(header, ensure_ascii=False)),
        **{name: getattr(network, name) for name in _ARRAY_FIELDS},
    )
    tmp.replace(path)


def read_network(path: Path) -> RoadNetwork:
    with np.load(path) as arrays:
        header = json.loads(str(arrays["header"]))
        fields = {name: arrays[name] for name in _ARRAY_FIELDS}
    return RoadNetwork(
        **fields,
        highway_classes=tuple(header["highway_classes"]),
        edge_name=tuple(header["edge_name"]),
        bands=tuple(header["bands"]),
        meta=header["meta"],
    )


def build_network(osm_path: Path, rules: dict[str, Any]) -> tuple[RoadNetwork, BuildReport]:
    """Parse ``osm_path`` and compile it (no cache)."""
    speeds = SpeedModel.from_rules(rules)
    graph, report = build_drive_graph(
        osm_path, speeds=speeds, drivable_highways=rules["network"]["drivable_highways"]
    )
    meta = {
        "source": str(osm_path),
        "source_sha256": _file_sha256(osm_path),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "build_report": asdict(report),
    }
    return compile_graph(graph, bands=speeds.band_names, meta=meta), report


def load_network(
    osm_path: Path | None = None,
    *,
    rules: dict[str, Any] | None = None,
    cache_dir: Path | None = None,
) -> RoadNetwork:
    """The compiled network of ``osm_path``, from the cache when it is there.

    Parameters
    ----------
    osm_path
        OSM extract (``.osm``, ``.osm.bz2``, ``.osm.pbf``); default ``data/osm/beijing.osm.bz2``.
    rules
        The rule file's content; default :func:`geo.config.load_rules`.
    cache_dir
        Where compiled networks are kept; default ``data/osm/cache``.

    Raises
    ------
    FileNotFoundError
        When there is no file at ``osm_path``.
    geo.errors.InputError
        For ``osm_path`` when it is not a readable OSM extract with drivable roads.
    """
    osm_path = Path(osm_path or default_osm_path())
    if not osm_path.exists():
        raise FileNotFoundError(f"OSM file not found: {osm_path} (run `make data`)")
    check_source(osm_path)  # before hashing it: a folder or an unreadable file is refused
    rules = rules or load_rules()
    cache_dir = Path(cache_dir or default_cache_dir())
    cached = cache_dir / f"network-{cache_key(osm_path, rules)}.npz"
    if cached.exists():
        return read_network(cached)
    network, _ = build_network(osm_path, rules)
    save_network(network, cached)
    return network
