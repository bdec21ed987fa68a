"""benchmarks/vs_vroom.py: VROOM given the promises as windows, and tows kept direct."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from optimizer.vrp.check import check
from optimizer.vrp.problem import parse_problem

pytest.importorskip("vroom")

REPO = Path(__file__).resolve().parent.parent
MINUTE_S = 60  # one step along the test line takes a minute


def _vs_vroom() -> ModuleType:
    spec = importlib.util.spec_from_file_location("vs_vroom", REPO / "benchmarks" / "vs_vroom.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


vs_vroom = _vs_vroom()


def _line_problem() -> dict[str, Any]:
    """Five points on a line; one truck in the middle (point 2), no end.

    Jobs at both ends are two minutes away: only one of them can be reached by its
    promise; the tow from point 3 to point 4 is loose (no promise).
    """
    return {
        "vehicles": [{"id": 1, "start_index": 2, "capacity": [1], "time_window": [0, 10_000]}],
        "jobs": [
            {"id": 1, "location_index": 0, "promise": 2 * MINUTE_S},
            {"id": 2, "location_index": 4, "promise": 2 * MINUTE_S + 30},
        ],
        "shipments": [
            {
                "amount": [1],
                "pickup": {"id": 3, "location_index": 3},
                "delivery": {"id": 3, "location_index": 4},
                "direct": True,
            }
        ],
        "matrices": {
            "car": {"durations": [[abs(a - b) * MINUTE_S for b in range(5)] for a in range(5)]}
        },
    }


def test_without_promise_windows_the_promises_are_dropped() -> None:
    data, on_board = vs_vroom.vroom_input(parse_problem(_line_problem()))
    assert on_board == {}
    assert all("promise" not in job and "time_windows" not in job for job in data["jobs"])
    assert "direct" not in data["shipments"][0]


def test_promise_windows_end_at_the_promise() -> None:
    raw = _line_problem()
    raw["jobs"][1]["time_windows"] = [[10, 500], [600, 900]]
    raw["shipments"][0]["pickup"]["promise"] = 400
    raw["jobs"].append({"id": 4, "location_index": 1, "promise": 100, "time_windows": [[200, 300]]})
    data, _ = vs_vroom.vroom_input(parse_problem(raw), promise_windows=True)
    windows = {job["id"]: job.get("time_windows") for job in data["jobs"]}
    assert windows[1] == [[0, 120]]  # no window: [0, promise]
    assert windows[2] == [[10, 150]]  # cut at the promise; the later window cannot keep it
    assert windows[4] == [[200, 300]]  # starts after the promise: late anyway, kept whole
    assert data["shipments"][0]["pickup"]["time_windows"] == [[0, 400]]
    assert "time_windows" not in data["shipments"][0]["delivery"]
    assert all("promise" not in job for job in data["jobs"])


def test_promise_windows_keep_what_can_be_kept_and_serve_the_rest_late() -> None:
    raw = _line_problem()
    answer, dropped = vs_vroom.solve_with_vroom_promises(
        parse_problem(raw), time_limit_s=2.0, exploration_level=1, threads=1
    )
    assert dropped == 1  # one of the two jobs cannot be reached by its promise
    assert answer["unassigned"] == []  # ... and is served late, not dropped
    report = check(raw, answer)
    assert report.broken_promises == 1
    assert report.served == 4


def test_keep_tows_direct_moves_what_sits_between_pickup_and_delivery() -> None:
    raw = _line_problem()
    steps = [
        ("start", None, 2, 0),
        ("pickup", 3, 3, 60),
        ("job", 2, 4, 120),
        ("delivery", 3, 4, 120),
        ("job", 1, 0, 360),
    ]
    answer: dict[str, Any] = {
        "code": 0,
        "summary": {"cost": 360, "unassigned": 0},
        "unassigned": [],
        "routes": [
            {
                "vehicle": 1,
                "cost": 360,
                "steps": [
                    {"type": kind, "location_index": where, "arrival": at}
                    | ({} if task is None else {"id": task})
                    for kind, task, where, at in steps
                ],
            }
        ],
    }
    assert any("between pickup 3" in v for v in check(raw, copy.deepcopy(answer)).violations)
    assert vs_vroom.keep_tows_direct(raw, answer) == 1
    order = [(step["type"], step.get("id")) for step in answer["routes"][0]["steps"]]
    assert order == [("start", None), ("pickup", 3), ("delivery", 3), ("job", 2), ("job", 1)]
    assert "cost" not in answer["routes"][0] and "cost" not in answer["summary"]
    report = check(raw, answer)
    assert report.feasible, report.violations
    assert report.travel_cost == 360
    assert vs_vroom.keep_tows_direct(raw, answer) == 0  # already direct: unchanged


def test_compare_rows_carry_both_vroom_variants() -> None:
    raw = _line_problem()
    [row] = vs_vroom.compare({"line": raw}, time_limit_s=1.0, exploration_level=1, threads=1)
    for side in ("ours", "vroom", "vroom_promise"):
        assert row[side]["feasible"], row[side]["violations"]
        assert row[side]["unassigned"] == 0
        assert row[side]["broken_promises"] >= 1
    assert row["vroom_promise"]["dropped"] == 1
    assert row["vroom_promise"]["broken_promises"] == 1
    summary = vs_vroom.summary([{**row, "name": "beijing-0"}])
    assert summary["beijing_broken_promises_vroom_promise"] == 1
    assert summary["beijing_dropped_vroom_promise"] == 1
    assert summary["all_feasible"]


def test_a_problem_without_promises_is_solved_once() -> None:
    raw = _line_problem()
    for job in raw["jobs"]:
        del job["promise"]
    [row] = vs_vroom.compare({"line": raw}, time_limit_s=1.0, exploration_level=1, threads=1)
    assert row["vroom_promise"] == {**row["vroom"], "dropped": 0}
