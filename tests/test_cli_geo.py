"""``rescue graph info | route | zone``: JSON out, JSON errors with exit code 2."""

from __future__ import annotations

import json

import pytest

from rescue.cli import main


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out if code == 0 else err)


def test_graph_info(capsys: pytest.CaptureFixture[str], geo: object) -> None:
    code, info = _run(capsys, "graph", "info")
    assert code == 0
    assert {"nodes", "edges", "bbox", "source", "built_at"} <= set(info)
    assert info["nodes"] > 15_000 and info["edges"] > 40_000


def test_route_is_slower_at_the_evening_peak(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("route", "--from", "116.3975,39.9087", "--to", "116.3165,39.9995")
    code, night = _run(capsys, *argv, "--at", "03:00")
    assert code == 0 and night["geometry"]["type"] == "LineString"
    _, peak = _run(capsys, *argv, "--at", "18:00")
    assert peak["travel_s"] > 1.8 * night["travel_s"]
    assert peak["length_m"] == pytest.approx(night["length_m"], rel=0.2)


def test_zone_accepts_gcj02(capsys: pytest.CaptureFixture[str]) -> None:
    code, zone = _run(capsys, "zone", "116.40374,39.91010", "--crs", "gcj02")
    assert code == 0
    assert zone["zone"] == "inside_5th_ring" and zone["on_highway"] is False


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (("zone", "nan,39.9"), "point=[nan, 39.9]"),
        (("zone", "39.9087,116.3975"), "looks like (lat, lon)"),
        (("zone", "116.9,39.9"), "outside the road network"),
        (("zone", "116.4"), "expected LON,LAT"),
        (
            ("route", "--from", "116.39,39.90", "--to", "116.31,39.99", "--at", "25:00"),
            "at='25:00'",
        ),
        (("zone", "116.4,39.9", "--crs", "bd09"), "invalid choice: 'bd09'"),
    ],
)
def test_errors_are_json_with_exit_code_2(
    capsys: pytest.CaptureFixture[str], argv: tuple, needle: str
) -> None:
    code, answer = _run(capsys, *argv)
    assert code == 2
    assert needle in answer["error"]
