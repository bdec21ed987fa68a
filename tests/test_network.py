"""Loading OSM sources, the compiled cache, speeds and bands."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import osmium
import pytest

from geo.errors import InputError
from geo.graph import read_osm
from geo.network import cache_key, default_osm_path, load_network
from geo.places import Geo
from geo.speeds import SpeedModel, parse_maxspeed_kph


def test_build_report_says_what_was_dropped(geo: Geo) -> None:
    report = geo.network.meta["build_report"]
    assert report["non_drivable_edges_dropped"] > 10_000  # footways, cycleways, platforms ...
    assert report["outside_largest_scc_nodes_dropped"] > 0
    assert report["nodes"] == geo.network.node_count
    assert report["edges"] == geo.network.edge_count


def test_every_edge_has_a_positive_time_per_band_and_peaks_are_slower(geo: Geo) -> None:
    travel = geo.network.travel_s
    assert travel.shape == (len(geo.network.bands), geo.network.edge_count)
    assert (travel > 0).all()
    night = geo.network.band_index("night")
    peak = geo.network.band_index("evening_peak")
    assert (travel[peak] > travel[night]).all()


def test_cache_key_follows_the_settings(rules: dict[str, Any]) -> None:
    changed = copy.deepcopy(rules)
    changed["speeds"]["free_flow_kph"]["primary"] += 5
    assert cache_key(default_osm_path(), rules) != cache_key(default_osm_path(), changed)


def test_warm_load_reads_the_cache(tmp_path: Path, rules: dict[str, Any], geo: Geo) -> None:
    cold = load_network(rules=rules, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("network-*.npz"))) == 1
    warm = load_network(rules=rules, cache_dir=tmp_path)
    assert warm.meta["built_at"] == cold.meta["built_at"]
    assert (warm.travel_s == geo.network.travel_s).all()


def test_pbf_sources_load_like_xml(tmp_path: Path) -> None:
    pbf = tmp_path / "beijing.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(default_osm_path())):
            writer.add(obj)
    from_pbf = read_osm(pbf)
    from_xml = read_osm(default_osm_path())
    assert from_pbf.number_of_nodes() == from_xml.number_of_nodes()
    assert from_pbf.number_of_edges() == from_xml.number_of_edges()


def test_unknown_source_types_are_refused(tmp_path: Path) -> None:
    shapefile = tmp_path / "roads.shp"
    shapefile.write_text("")
    with pytest.raises(InputError, match="osm_path="):
        read_osm(shapefile)
    with pytest.raises(FileNotFoundError, match=r"missing\.osm"):
        read_osm(tmp_path / "missing.osm")


@pytest.mark.parametrize(
    ("tag", "kph"),
    [("50", 50.0), ("30 mph", 48.28032), (["60", "40"], 40.0), ("signals", None), (None, None)],
)
def test_maxspeed_tags(tag: object, kph: float | None) -> None:
    assert parse_maxspeed_kph(tag) == (pytest.approx(kph) if kph else None)


def test_maxspeed_tag_overrides_the_class_speed(rules: dict[str, Any]) -> None:
    speeds = SpeedModel.from_rules(rules)
    assert speeds.free_flow_speed_kph("primary") == rules["speeds"]["free_flow_kph"]["primary"]
    assert speeds.free_flow_speed_kph("primary", "40") == pytest.approx(40 * 0.8)


@pytest.mark.parametrize(
    ("clock", "band"),
    [
        ("03:00", "night"),
        ("07:00", "morning_peak"),
        ("08:59", "morning_peak"),
        ("12:00", "daytime"),
        ("18:00", "evening_peak"),
        ("21:30", "evening"),
        ("22:00", "night"),
    ],
)
def test_bands_by_clock_time(rules: dict[str, Any], clock: str, band: str) -> None:
    assert SpeedModel.from_rules(rules).band_at(clock) == band


def test_bands_must_cover_the_day(rules: dict[str, Any]) -> None:
    broken = copy.deepcopy(rules)
    broken["congestion"]["bands"] = broken["congestion"]["bands"][1:]
    with pytest.raises(InputError, match="must fall in exactly one band"):
        SpeedModel.from_rules(broken)
