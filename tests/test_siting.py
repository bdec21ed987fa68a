"""Where to wait: maximal covering by CP-SAT against greedy, brute force and the current
stations; the ``rescue site`` command and its refusals."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from geo.places import Geo
from optimizer.coverage import CoverageModel, travel_budget_s
from optimizer.demand import expected_call_share
from optimizer.demand_cells import DemandCells, default_candidates
from optimizer.dispatch.rules import Rules
from optimizer.siting import CoverProblem, greedy_siting, solve_siting
from rescue.cli import main


def _problem(demand: list[int], covers: list[list[int]]) -> CoverProblem:
    return CoverProblem(
        np.array(demand, dtype=np.int64), tuple(np.array(c, dtype=np.int64) for c in covers)
    )


def _brute_force(problem: CoverProblem, k: int) -> int:
    return max(
        problem.evaluate([problem.covers[j] for j in sites])[0]
        for sites in itertools.combinations(range(len(problem.covers)), k)
    )


# A hub covering four points draws greedy first; the two outer sites cover all six.
TRAP = _problem([3, 3, 3, 3, 4, 4], [[0, 1, 2, 3], [0, 1, 4], [2, 3, 5], [4], [5]])


def test_cp_sat_finds_the_optimum_greedy_misses() -> None:
    assert _brute_force(TRAP, 2) == 20
    greedy = greedy_siting(TRAP, 2)
    assert greedy.sites[0] == 0 and greedy.covered == 16  # the hub, then one outer site
    best = solve_siting(TRAP, 2, time_limit_s=5)
    assert best.sites == (1, 2) and best.covered == 20
    assert best.status == "OPTIMAL" and best.gap == 0


def test_backup_coverage_breaks_ties_without_losing_first_coverage() -> None:
    # Sites 0 and 1 cover the same points; site 2 covers them too but adds nothing new.
    problem = _problem([5, 5, 1], [[0, 1], [0, 1], [2], [0, 1, 2]])
    plain = solve_siting(problem, 2, time_limit_s=5)
    backup = solve_siting(problem, 2, backup=True, time_limit_s=5)
    assert plain.covered == backup.covered == 11 == _brute_force(problem, 2)
    assert backup.backup == 10 and backup.sites in ((0, 3), (1, 3))
    assert backup.gap == 0


@pytest.mark.parametrize("seed", range(4))
def test_random_small_problems_match_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    demand = rng.integers(1, 20, size=12).tolist()
    covers = [sorted(rng.choice(12, size=rng.integers(1, 5), replace=False)) for _ in range(8)]
    problem = _problem(demand, covers)
    for k in (1, 2, 3):
        best = solve_siting(problem, k, time_limit_s=5)
        assert best.covered == _brute_force(problem, k) and best.gap == 0
        assert best.covered >= greedy_siting(problem, k).covered


def test_no_answer_in_time_claims_no_proof() -> None:
    rng = np.random.default_rng(5)
    problem = _problem(
        list(rng.integers(1, 1000, 3000)),
        [list(rng.choice(3000, 1500, replace=False)) for _ in range(400)],
    )
    answer = solve_siting(problem, 8, time_limit_s=0.001)
    assert answer.bound >= answer.covered  # whatever CP-SAT managed, never a false proof
    if answer.status == "GREEDY":
        assert answer.bound == greedy_siting(problem, 8).bound


def test_bad_problems_are_refused() -> None:
    with pytest.raises(ValueError, match="k=0"):
        greedy_siting(TRAP, 0)
    with pytest.raises(ValueError, match="k=6"):
        solve_siting(TRAP, 6, time_limit_s=1)
    with pytest.raises(ValueError, match=r"covers\[0\]"):
        _problem([1], [[3]])


def test_on_the_real_network_cp_sat_covers_at_least_greedy(geo: Geo, business_rules: Rules) -> None:
    model = CoverageModel(geo)
    budget = travel_budget_s(business_rules)
    demand = expected_call_share(
        geo, band="evening_peak", kind_of_fault=business_rules.fault_kinds, kind="flatbed"
    )
    cells = DemandCells(model, demand, band="evening_peak", budget_s=budget)
    candidates = default_candidates(model, demand)
    assert len(candidates) > 100
    problem = cells.problem(candidates)
    greedy = greedy_siting(problem, 4)
    best = solve_siting(problem, 4, time_limit_s=3)
    assert len(best.sites) == 4
    assert best.covered >= greedy.covered
    assert best.bound >= best.covered and best.gap >= 0
    total = problem.demand.sum()
    assert best.bound <= total and abs(total - 1_000_000) < len(problem.demand)


def test_site_command_compares_cp_sat_greedy_and_current(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["site", "--trucks", "6", "--kind", "service", "--time-limit", "3", "--backup"]
    assert main(argv) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "service" and result["band"] == "evening_peak"
    cp_sat, greedy, current = result["cp_sat"], result["greedy"], result["current"]
    assert len(cp_sat["sites"]) == len(greedy["sites"]) == 6
    assert current["stations"] == len(current["sites"]) > 0
    assert cp_sat["cell_share"] >= greedy["cell_share"]
    assert cp_sat["gap"] >= 0 and cp_sat["best_bound"] >= cp_sat["objective"]
    for answer in (cp_sat, greedy, current):
        assert 0 < answer["demand"]["share"] <= 1
        assert 0 <= answer["backup_cell_share"] <= answer["cell_share"] <= 1


def test_site_command_reads_candidate_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    points = [[116.3772, 39.9713], [116.4610, 39.9090], [116.3200, 39.8650]]
    path = tmp_path / "candidates.geojson"
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": p}} for p in points
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    argv = ["site", "--trucks", "2", "--kind", "flatbed", "--candidates", str(path)]
    assert main([*argv, "--at", "10:00", "--time-limit", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["candidates"] == 3 and result["band"] == "daytime"
    assert result["cp_sat"]["status"] == "OPTIMAL" and result["cp_sat"]["gap"] == 0


@pytest.mark.parametrize(
    ("argv", "files", "needle"),
    [
        (["--trucks", "0", "--kind", "service"], {}, "--trucks='0'"),
        (["--trucks", "two", "--kind", "service"], {}, "--trucks='two'"),
        (["--trucks", "2", "--kind", "van"], {}, "invalid choice: 'van'"),
        (["--trucks", "2", "--kind", "service", "--time-limit", "-1"], {}, "--time-limit"),
        (["--trucks", "2", "--kind", "service", "--at", "25:00"], {}, "--at='25:00'"),
        (["--trucks", "2", "--kind", "service", "--candidates", "{c}"], {"c": "{}"}, "list"),
        (["--trucks", "2", "--kind", "service", "--candidates", "{c}"], {"c": "[]"}, "1..5000"),
        (
            ["--trucks", "2", "--kind", "service", "--candidates", "{c}"],
            {"c": '[[116.4, "x"]]'},
            "--candidates [0]",
        ),
        (
            ["--trucks", "2", "--kind", "service", "--candidates", "{c}"],
            {"c": "[[121.47, 31.23]]"},
            "--candidates [0]",
        ),
        (
            ["--trucks", "3", "--kind", "service", "--candidates", "{c}"],
            {"c": "[[116.3772, 39.9713]]"},
            "at most the 1 candidates",
        ),
        (["--trucks", "2", "--kind", "service", "--candidates", "{c}"], {"c": "[["}, "JSON"),
        (["--trucks", "2", "--kind", "service", "--candidates", "/no/such.json"], {}, "not found"),
    ],
)
def test_site_refuses_bad_input_with_one_json_line(
    argv: list[str],
    files: dict[str, str],
    needle: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    argv = [str(tmp_path / a[1:-1]) if a.startswith("{") else a for a in argv]
    assert main(["site", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    line, _, rest = captured.err.partition("\n")
    assert rest == ""
    assert needle in json.loads(line)["error"]


def test_coverage_refuses_a_bad_measure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["coverage", "--by", "calls"]) == 2
    assert "invalid choice: 'calls'" in json.loads(capsys.readouterr().err)["error"]
