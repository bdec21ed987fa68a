"""Coverage for fleet planners: share of Beijing's road km and of the expected calls
reachable within the promise.

For the sample fleet's stations, by time-of-day band and zone; then where to put the same
number of stations for the evening peak (CP-SAT maximal covering over the default
candidates, warm-started from greedy), once for road km, printed beside the current
stations and a random choice of as many sites, and once for the expected calls, printed
beside greedy and the current stations with CP-SAT's proven gap. Last, the time to measure
the coverage of 50 stations over the whole network (one search seeded from all of them),
beside one search per station.

    python benchmarks/coverage.py [--time-limit 10] [--json PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import print_table, write_json

from geo.places import load_geo
from geo.router import Snap
from optimizer.coverage import CoverageModel, edge_midpoint_times, travel_budget_s
from optimizer.demand import expected_call_share
from optimizer.demand_cells import DemandCells, default_candidates
from optimizer.dispatch.fleet_file import read_json
from optimizer.dispatch.rules import load_business_rules
from optimizer.siting import greedy_siting, solve_siting

BANDS = ("night", "daytime", "morning_peak", "evening_peak")
SITING_BAND = "evening_peak"
TIMED_STATIONS = 50
TIMING_RUNS = 5


def _seconds(run: Callable[[], object], runs: int = TIMING_RUNS) -> float:
    """Median wall time of ``runs`` calls of ``run``."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", default="data/fleet.json")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    geo = load_geo()
    rules = load_business_rules()
    budget_s = travel_budget_s(rules)
    bases = sorted(
        {tuple(t["home_base"]) for t in read_json(Path(args.fleet), field="--fleet")["trucks"]}
    )
    stations = [geo.router.snap(*b) for b in bases]
    model = CoverageModel(geo)

    rows, by_band = [], {}
    for band in BANDS:
        start = time.perf_counter()
        cover = model.coverage(stations, band=band, budget_s=budget_s)
        elapsed = time.perf_counter() - start
        calls = model.coverage(
            stations, band=band, budget_s=budget_s, demand=expected_call_share(geo, band=band)
        )
        zones = cover.by_zone
        by_band[band] = {
            "share": cover.share,
            "demand_share": calls.share,
            "by_zone": zones,
            "demand_by_zone": calls.by_zone,
            "seconds": elapsed,
        }
        rows.append(
            (
                band,
                cover.share,
                calls.share,
                zones["inside_5th_ring"]["share"],
                zones.get("between_5th_and_6th_ring", {}).get("share", float("nan")),
                elapsed,
            )
        )
    print(
        f"{len(stations)} stations of {args.fleet}; budget {budget_s / 60:.0f} min of road time "
        f"({cover.total_km:.0f} road km in all)"
    )
    print_table(rows, ("band", "road km share", "calls share", "inside 5th", "5th-6th", "seconds"))

    demand = expected_call_share(geo, band=SITING_BAND)
    candidates = default_candidates(model, demand)
    k = len(stations)

    def sited(weight: np.ndarray) -> tuple[list[int], list[int], dict[str, Any]]:
        cells = DemandCells(model, weight, band=SITING_BAND, budget_s=budget_s)
        problem = cells.problem(candidates)
        start = time.perf_counter()
        best = solve_siting(problem, k, time_limit_s=args.time_limit)
        greedy = greedy_siting(problem, k)
        return (
            list(best.sites),
            list(greedy.sites),
            {"gap": best.gap, "status": best.status, "seconds": time.perf_counter() - start},
        )

    road_km = model.length_km / model.length_km.sum()
    road_sites, _, road_run = sited(road_km)
    road_share = model.coverage(
        [candidates[j] for j in road_sites], band=SITING_BAND, budget_s=budget_s
    ).share
    rng = np.random.default_rng(0)
    random_share = float(
        np.median(
            [
                model.coverage(
                    [candidates[j] for j in rng.choice(len(candidates), k, replace=False)],
                    band=SITING_BAND,
                    budget_s=budget_s,
                ).share
                for _ in range(5)
            ]
        )
    )
    current = by_band[SITING_BAND]["share"]
    print(
        f"\nSiting {k} stations for the {SITING_BAND} by road km from {len(candidates)} "
        f"candidates ({road_run['seconds']:.1f} s, CP-SAT {road_run['status']}, "
        f"gap {road_run['gap']:.2%}):"
    )
    print_table(
        [
            ("CP-SAT sited", road_share, road_share / current),
            ("current stations", current, 1.0),
            ("random sites (median of 5)", random_share, random_share / current),
        ],
        ("stations", "road km share", "ratio to current"),
    )

    call_sites, greedy_sites, call_run = sited(demand)

    def demand_share(snaps: list[Snap]) -> float:
        return model.coverage(snaps, band=SITING_BAND, budget_s=budget_s, demand=demand).share

    sited_demand = demand_share([candidates[j] for j in call_sites])
    greedy_demand = demand_share([candidates[j] for j in greedy_sites])
    current_demand = demand_share(stations)
    print(
        f"\nSiting {k} stations for the {SITING_BAND} by expected calls "
        f"({call_run['seconds']:.1f} s, CP-SAT {call_run['status']}, proven gap "
        f"{call_run['gap']:.2%} on the cells):"
    )
    print_table(
        [
            ("CP-SAT sited", sited_demand, sited_demand / current_demand),
            ("greedy", greedy_demand, greedy_demand / current_demand),
            ("current stations", current_demand, 1.0),
        ],
        ("stations", "calls share", "ratio to current"),
    )

    timed = [candidates[j] for j in rng.choice(len(candidates), TIMED_STATIONS, replace=False)]
    one_search_s = _seconds(
        lambda: model.coverage(timed, band=SITING_BAND, budget_s=budget_s, demand=demand)
    )
    per_station_s = _seconds(
        lambda: np.min(
            [edge_midpoint_times(geo, s, band=SITING_BAND, max_s=budget_s) for s in timed],
            axis=0,
        )
    )
    print(
        f"\nCoverage of {TIMED_STATIONS} stations over the whole network (median of "
        f"{TIMING_RUNS}): {one_search_s * 1000:.1f} ms with one search from all of them, "
        f"{per_station_s * 1000:.1f} ms with one search per station"
    )
    write_json(
        args.json,
        {
            "stations": k,
            "budget_s": budget_s,
            "bands": by_band,
            "candidates": len(candidates),
            "sited_share": road_share,
            "current_share": current,
            "random_share": random_share,
            "siting_s": road_run["seconds"],
            "siting_gap": road_run["gap"],
            "sited_locations": [[candidates[j].lon, candidates[j].lat] for j in road_sites],
            "sited_demand_share": sited_demand,
            "greedy_demand_share": greedy_demand,
            "current_demand_share": current_demand,
            "gap": call_run["gap"],
            "demand_status": call_run["status"],
            "demand_siting_s": call_run["seconds"],
            "demand_sited_locations": [[candidates[j].lon, candidates[j].lat] for j in call_sites],
            "coverage_50_stations_s": one_search_s,
            "coverage_50_stations_per_station_s": per_station_s,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
