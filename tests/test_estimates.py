"""Calls beyond the road data: the service area, the off-network remainder, its figures."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geo.errors import InputError
from geo.places import Geo
from geo.projection import LocalProjection
from rescue.cli import main

ROOT = Path(__file__).resolve().parents[1]

# Places the extract (about the 5th ring) does not reach, and how far they are from it.
BEYOND = {
    "tongzhou": (116.656, 39.909),
    "shunyi": (116.654, 40.130),
    "daxing_airport": (116.410, 39.509),
}


def test_the_detour_factor_is_what_the_network_measures(geo: Geo, rules: dict[str, Any]) -> None:
    """The configured factor is the median route/straight ratio of random pairs > 2 km."""
    net, router = geo.network, geo.router
    rng = np.random.default_rng(0)
    projection = LocalProjection(float(net.node_lon.mean()), float(net.node_lat.mean()))
    ratios = []
    while len(ratios) < 120:
        a, b = rng.integers(net.node_count, size=2)
        start = router.snap(net.node_lon[a] + 1e-5, net.node_lat[a])
        end = router.snap(net.node_lon[b] + 1e-5, net.node_lat[b])
        x, y = projection.to_xy([start.lon, end.lon], [start.lat, end.lat])
        straight_m = math.hypot(x[1] - x[0], y[1] - y[0])
        road_m = router.shortest_length_m(start, end)
        if straight_m > 2000 and math.isfinite(road_m):
            ratios.append(road_m / straight_m)
    assert rules["estimates"]["detour_factor"] == pytest.approx(np.median(ratios), rel=0.05)


@pytest.mark.parametrize("name", sorted(BEYOND))
def test_a_place_beyond_the_road_data_is_placed_with_an_estimate(geo: Geo, name: str) -> None:
    lon, lat = BEYOND[name]
    placement = geo.locate(lon, lat)
    assert placement.estimated
    assert placement.off_network_m == pytest.approx(placement.snap.distance_m)
    assert placement.off_network_m > geo.router.max_snap_m
    assert placement.point == (lon, lat)
    speed_mps = geo.off_network.speed_mps["night"]
    expected_s = placement.off_network_m * geo.off_network.detour_factor / speed_mps
    assert geo.off_network_s(placement, "night") == pytest.approx(expected_s)
    assert geo.off_network_s(placement, "evening_peak") > geo.off_network_s(placement, "night")


def test_zones_beyond_the_data_are_the_callers(geo: Geo) -> None:
    assert geo.locate(*BEYOND["tongzhou"]).zone == "between_5th_and_6th_ring"
    assert geo.locate(*BEYOND["daxing_airport"]).zone == "outside_6th_ring"


def test_a_place_on_the_network_has_no_estimate(geo: Geo) -> None:
    placement = geo.locate(116.3975, 39.9087)
    assert not placement.estimated
    assert geo.off_network_s(placement, "night") == 0.0


def test_a_place_200_km_away_is_refused_naming_the_service_area(geo: Geo) -> None:
    with pytest.raises(InputError, match="service area is the 6th Ring Road and 80 km"):
        geo.locate(118.75, 39.9)  # about 200 km east of Tiananmen


def test_main_road_speeds_beyond_the_5th_ring_are_faster_at_night(geo: Geo) -> None:
    speeds = geo.off_network.speed_mps
    assert speeds["night"] > speeds["daytime"] > speeds["evening_peak"]
    assert 30 / 3.6 < speeds["night"] < 100 / 3.6


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out if code == 0 else err)


@pytest.mark.parametrize("name", sorted(BEYOND))
def test_a_call_beyond_the_data_gets_a_quote_and_an_estimated_arrival_on_the_cli(
    capsys: pytest.CaptureFixture[str], geo: Geo, tmp_path: Path, name: str
) -> None:
    lon, lat = BEYOND[name]
    placement = geo.locate(lon, lat)
    code, quote = _cli(
        capsys, "quote", "--location", f"{lon},{lat}", "--non-member",
        "--fault", "engine_failure", "--at", "10:00",
    )  # fmt: skip
    assert code == 0 and quote["estimated"] is True and quote["zone"] == placement.zone
    callout = 300 if placement.zone != "inside_5th_ring" else 100
    surcharge = 200 if placement.zone == "outside_6th_ring" else 0  # SERVICE_RULES §5
    items = {item["code"]: item["fee_yuan"] for item in quote["items"]}
    assert items["callout"] == callout and items.get("suburban_surcharge", 0) == surcharge
    # The tow km include the estimated way to the road: at least the straight metres x factor.
    assert quote["tow_km"] * 1000 >= placement.off_network_m * geo.off_network.detour_factor
    job = {
        "id": "J1", "caller": {"name": "王先生", "phone": "13800138000"},
        "vehicle": {"plate": "京N12345"}, "member": True, "member_card": "BJ-000123",
        "location": [lon, lat], "fault_category": "flat_battery",
        "created_at": "2026-11-25T10:00:00+08:00",
    }  # fmt: skip
    (tmp_path / "job.json").write_text(json.dumps(job), encoding="utf-8")
    code, answer = _cli(
        capsys, "assign", "--fleet", str(ROOT / "data" / "fleet.json"),
        "--job", str(tmp_path / "job.json"), "--at", "10:00",
    )  # fmt: skip
    assert code == 0 and answer["estimated"] is True and answer["best"] is not None
    # The best truck's travel includes the estimated remainder at the daytime speed.
    assert answer["best"]["travel_s"] > geo.off_network_s(placement, "daytime")
    assert "估算" in answer["script_zh"] and "estimate" in answer["script_en"]


def test_a_call_200_km_away_is_refused_on_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    code, answer = _cli(capsys, "quote", "--location", "118.75,39.9", "--member", "BJ-1")
    assert code == 2
    assert "service area is the 6th Ring Road and 80 km beyond it" in answer["error"]
