"""Coverage for fleet planners: share of Beijing's road km reachable within the promise.

For the sample fleet's stations, by time-of-day band and zone; then where to put the same
number of stations for the evening peak (CP-SAT maximal covering over candidate sites),
printed beside the current stations and a random choice of as many sites.

    python benchmarks/coverage.py [--candidates 150] [--time-limit 10] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import print_table, write_json

from geo.places import load_geo
from optimizer.coverage import CoverageModel, travel_budget_s
from optimizer.dispatch.fleet_file import read_json
from optimizer.dispatch.rules import load_business_rules

BANDS = ("night", "daytime", "morning_peak", "evening_peak")
SITING_BAND = "evening_peak"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", default="data/fleet.json")
    parser.add_argument("--candidates", type=int, default=150)
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
        zones = cover.by_zone
        by_band[band] = {"share": cover.share, "by_zone": zones, "seconds": elapsed}
        rows.append(
            (
                band,
                cover.share,
                zones["inside_5th_ring"]["share"],
                zones.get("between_5th_and_6th_ring", {}).get("share", float("nan")),
                elapsed,
            )
        )
    print(
        f"{len(stations)} stations of {args.fleet}; budget {budget_s / 60:.0f} min of road time "
        f"({cover.total_km:.0f} road km in all)"
    )
    print_table(rows, ("band", "covered share", "inside 5th", "5th-6th", "seconds"))

    rng = np.random.default_rng(0)
    nodes = rng.choice(geo.network.node_count, size=args.candidates, replace=False)
    candidates = [geo.router.snap(geo.network.node_lon[n], geo.network.node_lat[n]) for n in nodes]
    start = time.perf_counter()
    chosen = model.site(
        candidates,
        stations=len(stations),
        band=SITING_BAND,
        budget_s=budget_s,
        time_limit_s=args.time_limit,
    )
    siting_s = time.perf_counter() - start
    sited = model.coverage(
        [candidates[j] for j in chosen], band=SITING_BAND, budget_s=budget_s
    ).share
    random_share = float(
        np.median(
            [
                model.coverage(
                    [
                        candidates[j]
                        for j in rng.choice(len(candidates), len(stations), replace=False)
                    ],
                    band=SITING_BAND,
                    budget_s=budget_s,
                ).share
                for _ in range(5)
            ]
        )
    )
    current = by_band[SITING_BAND]["share"]
    print(
        f"\nSiting {len(stations)} stations for the {SITING_BAND} "
        f"from {args.candidates} candidates ({siting_s:.1f} s):"
    )
    print_table(
        [
            ("CP-SAT sited", sited, sited / current),
            ("current stations", current, 1.0),
            ("random sites (median of 5)", random_share, random_share / current),
        ],
        ("stations", "covered share", "ratio to current"),
    )
    write_json(
        args.json,
        {
            "stations": len(stations),
            "budget_s": budget_s,
            "bands": by_band,
            "sited_share": sited,
            "current_share": current,
            "random_share": random_share,
            "siting_s": siting_s,
            "sited_locations": [[candidates[j].lon, candidates[j].lat] for j in chosen],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
