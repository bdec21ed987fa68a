"""OSM file -> drivable osmnx graph with a travel time per time-of-day band on every edge.

Reads ``.osm``, ``.osm.bz2`` (osmnx) and ``.osm.pbf`` (converted to XML with pyosmium,
since osmnx reads XML only), keeps the drivable classes of the rule file, gives each edge a
free-flow speed and a travel time per congestion band (before simplification, so merged
edges sum the times of their parts), simplifies the topology (never merging edges of
different classes) and keeps the largest strongly connected component.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import osmium
import osmnx as ox

from geo.errors import InputError
from geo.speeds import SpeedModel

OSM_SUFFIXES = (".osm", ".osm.bz2", ".xml", ".osm.pbf")


def travel_attr(band: str) -> str:
    """Edge attribute holding the travel time in seconds for ``band``."""
    return f"travel_s_{band}"


@dataclass(frozen=True)
class BuildReport:
    """What loading kept and dropped, for ``rescue graph info`` and the logs."""

    source_nodes: int
    source_edges: int
    non_drivable_edges_dropped: int
    drivable_nodes: int
    drivable_edges: int
    simplified_nodes: int
    simplified_edges: int
    outside_largest_scc_nodes_dropped: int
    outside_largest_scc_edges_dropped: int
    nodes: int
    edges: int


# How much of a parser's complaint a refusal quotes: enough to see what is wrong, never
# a long run of the file's own text.
_PARSE_ERROR_CHARS = 100
# What a damaged source raises while it is read: a truncated or corrupt compressed stream
# (EOFError, OSError), bad XML (ParseError, a SyntaxError), bad text or numbers in it
# (ValueError, UnicodeDecodeError; osmnx's "no data" error too), a bad PBF (osmium's
# RuntimeError).
_DAMAGED_SOURCE_ERRORS = (EOFError, OSError, SyntaxError, ValueError, RuntimeError)


def check_source(path: Path) -> None:
    """Refuse, before any parsing, what cannot be an OSM extract: a missing file
    (:class:`FileNotFoundError`), a folder, an unreadable or empty file, another format
    (:class:`geo.errors.InputError` for ``osm_path``)."""
    if not path.exists():
        raise FileNotFoundError(f"OSM file not found: {path}")
    if not path.is_file():
        if path.is_dir():
            raise InputError("osm_path", str(path), "is a folder")
        raise InputError("osm_path", str(path), "is not a regular file")
    if not path.name.endswith(OSM_SUFFIXES):
        raise InputError(
            "osm_path", str(path), "expected one of {names}", names=", ".join(OSM_SUFFIXES)
        )
    try:
        with path.open("rb") as file:
            empty = not file.read(1)
    except OSError as error:
        raise InputError(
            "osm_path", str(path), "cannot read: {error}", error=error.strerror
        ) from None
    if empty:
        raise InputError("osm_path", str(path), "is empty")
    if path.name.endswith(".bz2") and not _bz2_stream_ends(path):
        raise InputError("osm_path", str(path), "is truncated: the bz2 stream has no end marker")


_BZ2_END_MAGIC = 0x177245385090  # a bzip2 stream's end-of-stream marker (48 bits)
_BZ2_TAIL_BYTES = 16


def _bz2_stream_ends(path: Path) -> bool:
    """Whether the file ends with a bzip2 end-of-stream marker: the marker, the stream's
    32-bit CRC and up to 7 bits of padding. A download cut short has none, and is refused
    without decompressing 50 MB first."""
    with path.open("rb") as file:
        file.seek(0, 2)
        file.seek(max(0, file.tell() - _BZ2_TAIL_BYTES))
        tail = int.from_bytes(file.read(), "big")
    return any((tail >> (32 + pad)) & (2**48 - 1) == _BZ2_END_MAGIC for pad in range(8))


def _pbf_to_xml(pbf_path: Path, xml_path: Path) -> None:
    with osmium.SimpleWriter(str(xml_path)) as writer:
        for obj in osmium.FileProcessor(str(pbf_path)):
            writer.add(obj)


def read_osm(path: Path) -> nx.MultiDiGraph:
    """Every way of an OSM file as an unsimplified osmnx graph (all nodes retained).

    Raises
    ------
    FileNotFoundError
        When there is no file at ``path``.
    geo.errors.InputError
        For ``osm_path`` when the file is not a readable, undamaged OSM extract.
    """
    check_source(path)
    try:
        if path.name.endswith(".pbf"):
            with tempfile.TemporaryDirectory() as tmp:
                xml_path = Path(tmp) / "extract.osm"
                _pbf_to_xml(path, xml_path)
                return ox.graph_from_xml(xml_path, simplify=False, retain_all=True)
        return ox.graph_from_xml(path, simplify=False, retain_all=True)
    except _DAMAGED_SOURCE_ERRORS as error:
        detail = f"{type(error).__name__}: {error}"[:_PARSE_ERROR_CHARS]
        raise InputError(
            "osm_path", str(path), "is not a readable OSM extract ({detail})", detail=detail
        ) from None


def _drivable_subgraph(graph: nx.MultiDiGraph, drivable: set[str]) -> nx.MultiDiGraph:
    keep = [
        (u, v, k)
        for u, v, k, highway in graph.edges(keys=True, data="highway")
        if isinstance(highway, str) and highway in drivable
    ]
    sub = graph.edge_subgraph(keep).copy()
    sub.graph.update(graph.graph)
    return sub


def _set_travel_times(graph: nx.MultiDiGraph, speeds: SpeedModel) -> None:
    for _, _, data in graph.edges(data=True):
        speed_kph = speeds.free_flow_speed_kph(data["highway"], data.get("maxspeed"))
        free_flow_s = data["length"] / (speed_kph / 3.6)
        data["speed_kph"] = speed_kph
        for band in speeds.band_names:
            data[travel_attr(band)] = free_flow_s * speeds.factor(band, data["highway"])


def build_drive_graph(
    osm_path: Path, *, speeds: SpeedModel, drivable_highways: Iterable[str]
) -> tuple[nx.MultiDiGraph, BuildReport]:
    """The routable graph: drivable, timed per band, simplified, strongly connected.

    Edge attributes: ``length`` (m), ``highway``, ``speed_kph`` (free flow), and
    ``travel_s_<band>`` for every band; ``geometry`` where simplification merged edges.
    """
    source = read_osm(osm_path)
    drivable = _drivable_subgraph(source, set(drivable_highways))
    if drivable.number_of_edges() == 0:
        raise InputError(
            "osm_path", str(osm_path), "has no drivable road (config/rules.toml [network])"
        )
    _set_travel_times(drivable, speeds)
    sums = {"length": sum, **{travel_attr(b): sum for b in speeds.band_names}}
    simplified = ox.simplify_graph(drivable, edge_attrs_differ=["highway"], edge_attr_aggs=sums)
    largest = ox.truncate.largest_component(simplified, strongly=True)
    report = BuildReport(
        source_nodes=source.number_of_nodes(),
        source_edges=source.number_of_edges(),
        non_drivable_edges_dropped=source.number_of_edges() - drivable.number_of_edges(),
        drivable_nodes=drivable.number_of_nodes(),
        drivable_edges=drivable.number_of_edges(),
        simplified_nodes=simplified.number_of_nodes(),
        simplified_edges=simplified.number_of_edges(),
        outside_largest_scc_nodes_dropped=simplified.number_of_nodes() - largest.number_of_nodes(),
        outside_largest_scc_edges_dropped=simplified.number_of_edges() - largest.number_of_edges(),
        nodes=largest.number_of_nodes(),
        edges=largest.number_of_edges(),
    )
    return largest, report
