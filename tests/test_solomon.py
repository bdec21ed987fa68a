"""Solomon instances: the reader, one real instance solved, and the benchmark script."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from optimizer.vrp.check import check
from optimizer.vrp.problem import parse_problem
from optimizer.vrp.solomon import SCALE, parse_solomon, read_solomon
from optimizer.vrp.solver import solve

REPO = Path(__file__).resolve().parent.parent
INSTANCES = REPO.parent / "shared" / "benchmarks" / "solomon"

TINY = """TINY

VEHICLE
NUMBER     CAPACITY
  2         50

CUSTOMER
CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME

    0      0          0          0          0       1000          0
    1      3          4         10         10        200         10
    2      6          8         20          0        500         10
"""

needs_instances = pytest.mark.skipif(
    not (INSTANCES / "C101.txt").exists(), reason=f"no Solomon instances in {INSTANCES}"
)


def test_parse_solomon_scales_everything() -> None:
    data = parse_solomon(TINY)
    assert len(data["vehicles"]) == 2
    assert data["vehicles"][0] == {
        "id": 1,
        "start_index": 0,
        "end_index": 0,
        "capacity": [50],
        "time_window": [0, 1000 * SCALE],
    }
    assert data["jobs"][0] == {
        "id": 1,
        "location_index": 1,
        "delivery": [10],
        "service": 10 * SCALE,
        "time_windows": [[10 * SCALE, 200 * SCALE]],
    }
    durations = data["matrices"]["car"]["durations"]
    assert durations[0][1] == 5 * SCALE
    assert durations[1][2] == 5 * SCALE
    assert durations[0][2] == 10 * SCALE
    parse_problem(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nothing here", "NUMBER CAPACITY"),
        (TINY.replace("CUST NO.", "CUSTOMER NO."), "CUST NO."),
        (TINY.replace("    2      6 ", "    3      6 "), "numbered 0 (depot), 1, 2"),
        (TINY.replace("10        200", "x        200"), "not numeric"),
    ],
)
def test_parse_solomon_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_solomon(text, source="tiny.txt")


@needs_instances
def test_c101_in_two_seconds() -> None:
    data = read_solomon(INSTANCES / "C101.txt")
    problem = parse_problem(data)
    assert len(problem.jobs) == 100
    assert len(problem.vehicles) == 25
    solution = solve(problem, time_limit_s=2.0)
    report = check(data, solution)
    assert report.feasible, report.violations
    assert solution["summary"]["unassigned"] == 0
    best_known = json.loads((INSTANCES / "BKS.json").read_text())["C101"]["best_known_cost_travel"]
    gap_pct = (report.travel_cost / SCALE - best_known) / best_known * 100
    assert gap_pct < 5.0


def _benchmark_module(name: str = "solomon") -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"{name}_benchmark", REPO / "benchmarks" / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_instances
def test_benchmark_script(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    benchmark = _benchmark_module()
    assert benchmark.instance_class("RC104") == "RC1"
    assert benchmark.instance_class("C201") == "C2"
    output = tmp_path / "results.json"
    status = benchmark.main(
        ["--only", "c101", "--time-limit", "0.5", "--jobs", "1", "--json", str(output)]
    )
    assert status == 0
    results = json.loads(output.read_text())
    assert [row["instance"] for row in results["instances"]] == ["C101"]
    row = results["instances"][0]
    assert row["ours"]["feasible"] and row["vroom"]["feasible"] and row["half"] == "tuned"
    assert isinstance(results["mean_gap_pct"], float)
    assert results["mean_gap_heldout"] is None  # C101 is in the tuned half
    assert set(results["mean_gap_pct_per_class"]) == {"C1"}
    assert "mean gap" in capsys.readouterr().out


@needs_instances
def test_vs_vroom_compare() -> None:
    pytest.importorskip("vroom")
    vs_vroom = _benchmark_module("vs_vroom")
    data = read_solomon(INSTANCES / "C101.txt")
    data["jobs"][0]["promise"] = 1  # unkeepable: both break it
    data["vehicles"][0]["steps"] = [{"type": "job", "id": 5, "pinned": True}]
    [row] = vs_vroom.compare({"C101": data}, time_limit_s=2.0, threads=1)
    assert row["name"] == "C101"
    for side in ("ours", "vroom"):
        assert row[side]["feasible"], row[side]["violations"]
        assert row[side]["unassigned"] == 0
        assert row[side]["broken_promises"] == 1
