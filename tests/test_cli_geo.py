"""``rescue graph info | route | zone``: JSON out, JSON errors with exit code 2; options
spelt the same in every command (``--at HH:MM``, places ``LON,LAT`` in ``--crs``)."""

from __future__ import annotations

import argparse
import json

import pytest

from rescue.cli import build_parser, main


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
        (("zone", "nan,39.9"), "point='nan,39.9'"),
        (("zone", "39.9087,116.3975"), "looks like (lat, lon)"),
        (("zone", "118.75,39.9"), "outside the service area"),
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


def _subcommand_options() -> dict[str, dict[str, argparse.Action]]:
    """Each subcommand's options by their long name (``graph`` and its own below it)."""
    parser = build_parser()
    commands: dict[str, dict[str, argparse.Action]] = {}
    pending = [("", parser)]
    while pending:
        prefix, current = pending.pop()
        for action in current._actions:
            if isinstance(action, argparse._SubParsersAction):
                pending.extend((f"{prefix}{name} ", sub) for name, sub in action.choices.items())
        if prefix:
            commands[prefix.strip()] = {
                option: action for action in current._actions for option in action.option_strings
            }
    return commands


def test_options_are_spelt_the_same_in_every_command() -> None:
    commands = _subcommand_options()
    with_at = {name for name, options in commands.items() if "--at" in options}
    assert {"route", "quote", "assign", "coverage"} <= with_at
    for name in with_at:  # --at is a clock time everywhere
        assert commands[name]["--at"].metavar == "HH:MM", name
    for name, options in commands.items():  # a place is LON,LAT, in --crs
        for option, action in options.items():
            if action.metavar == "LON,LAT":
                assert "--crs" in options, f"{name} {option}"
    assert commands["quote"]["--location"].metavar == "LON,LAT"
    assert {"--on-highway", "--accident", "--insurer"} <= set(commands["quote"])


@pytest.mark.parametrize(
    "argv",
    [
        ("quote", "--location", "116.39,39.90", "--member", "C", "--at", "25:00"),
        ("assign", "--fleet", "data/fleet.json", "--job", "job.json", "--at", "25:00"),
        ("coverage", "--at", "25:00"),
    ],
)
def test_a_bad_at_names_the_option(capsys: pytest.CaptureFixture[str], argv: tuple) -> None:
    code, answer = _run(capsys, *argv)
    assert code == 2
    assert "--at='25:00': expected a clock time" in answer["error"]
