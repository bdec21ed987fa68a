"""Coverage of road km and of expected calls on the real network, and its maps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from geo.places import Geo
from geo.router import Snap
from optimizer.coverage import CoverageModel, edge_midpoint_times, travel_budget_s
from optimizer.demand import expected_call_share
from optimizer.dispatch.rules import Rules
from rescue.cli import main

MADIAN = (116.3772, 39.9713)
GUOMAO = (116.4610, 39.9090)


@pytest.fixture(scope="module")
def model(geo: Geo) -> CoverageModel:
    return CoverageModel(geo)


def test_edge_midpoint_time_is_the_router_time_to_that_point(geo: Geo) -> None:
    station = geo.router.snap(*MADIAN)
    times = edge_midpoint_times(geo, station, band="daytime", max_s=3600)
    one_way = np.flatnonzero((geo.network.twin_edge < 0) & np.isfinite(times))[:50:5]
    for edge in one_way:
        midpoint = Snap(int(edge), 0.5, -1, np.nan, np.nan, 0.0)
        assert times[edge] == pytest.approx(
            geo.router.travel_times_from(station, [midpoint], band="daytime")[0], rel=1e-9
        )


def test_one_search_from_all_stations_is_the_best_of_one_search_each(geo: Geo) -> None:
    stations = [geo.router.snap(*MADIAN), geo.router.snap(*GUOMAO)]
    each = [edge_midpoint_times(geo, s, band="evening_peak", max_s=1200) for s in stations]
    model = CoverageModel(geo)
    covered = model.covered(stations, band="evening_peak", budget_s=1200)
    assert np.array_equal(covered, np.minimum(*each) <= 1200)


def test_coverage_shrinks_at_the_peak_and_with_a_smaller_budget(
    model: CoverageModel, geo: Geo, business_rules: Rules
) -> None:
    station = [geo.router.snap(*MADIAN)]
    budget = travel_budget_s(business_rules)
    night = model.coverage(station, band="night", budget_s=budget)
    peak = model.coverage(station, band="evening_peak", budget_s=budget)
    short = model.coverage(station, band="night", budget_s=budget / 2)
    assert 0 < peak.share < night.share <= 1
    assert short.share < night.share
    assert budget == 38 * 60  # the 40-minute promise less 2 minutes of preparation
    assert sum(z["total"] for z in night.by_zone.values()) == pytest.approx(night.total_km)


@pytest.mark.parametrize("band", ["night", "evening_peak"])
def test_demand_coverage_by_zone_adds_up(model: CoverageModel, geo: Geo, band: str) -> None:
    stations = [geo.router.snap(*MADIAN), geo.router.snap(*GUOMAO)]
    demand = expected_call_share(geo, band=band)
    cover = model.coverage(stations, band=band, budget_s=1500, demand=demand)
    zones = cover.by_zone.values()
    assert cover.unit == "demand" and cover.total == pytest.approx(1.0)
    assert sum(z["total"] for z in zones) == pytest.approx(1.0)
    assert sum(z["covered"] for z in zones) == pytest.approx(cover.share)
    assert all(0 <= z["share"] <= 1 for z in zones)
    # Calls crowd the centre more than roads do: a central pair covers more calls than km.
    road = model.coverage(stations, band=band, budget_s=1500)
    assert cover.share > road.share


def test_calls_needing_each_kind_share_the_edges(geo: Geo, business_rules: Rules) -> None:
    kinds = business_rules.fault_kinds
    service = expected_call_share(geo, band="daytime", kind_of_fault=kinds, kind="service")
    flatbed = expected_call_share(geo, band="daytime", kind_of_fault=kinds, kind="flatbed")
    motorway = np.array([c.startswith("motorway") for c in geo.network.highway_classes])[
        geo.network.highway_code
    ]
    assert service.sum() == pytest.approx(1.0) and flatbed.sum() == pytest.approx(1.0)
    # Tows are a bigger part of the calls on a motorway (MOTORWAY_FAULT_MIX).
    assert flatbed[motorway].sum() > service[motorway].sum()


def test_coverage_command_writes_one_map_per_band(
    tmp_path: Path, geo: Geo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["coverage", "--at", "08:00", "--out", str(tmp_path / "maps")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["band"] == "morning_peak"
    assert set(result) >= {"road", "demand", "maps"}
    assert result["demand"]["share"] > 0.5
    maps = [Path(p) for p in result["maps"]]
    assert sorted(p.name for p in maps) == sorted(f"coverage_{b}.png" for b in geo.network.bands)
    for path in maps:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 50_000


def test_coverage_by_one_measure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--by", "demand", "--at", "03:00"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "demand" in result and "road" not in result and "maps" not in result
