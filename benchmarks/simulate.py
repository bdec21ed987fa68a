"""A simulated 1,000-call Beijing day under each dispatch policy, 60 trucks.

The fleet is data/fleet.json (46 trucks at 16 bases) plus 14 trucks added at its bases in
turn (the bases sorted by longitude, latitude), service and flatbed alternately. The calls
are drawn once (seed 1) over 24 hours from 00:00 and every policy gets the same calls
(:mod:`optimizer.simulate`). Per policy it prints the seconds the day took and its KPIs;
the target is at most 60 s per policy on two cores.

    python benchmarks/simulate.py [--calls 1000] [--trucks 60] [--seed 1] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import print_table, write_json

from geo.config import data_dir
from geo.places import load_geo
from optimizer.dispatch.fleet_file import read_json
from optimizer.dispatch.rules import load_business_rules
from optimizer.dispatch.shops import Shops
from optimizer.simulate.calls import day_start_s, draw_calls
from optimizer.simulate.day import simulate_policy
from optimizer.simulate.policies import POLICY_NAMES

TARGET_POLICY_S = 60.0
KINDS = ("service", "flatbed")


def grown_fleet(trucks: int) -> dict[str, Any]:
    """data/fleet.json with trucks added at its bases in turn up to ``trucks``."""
    fleet = read_json(data_dir() / "fleet.json", field="fleet")
    rows = list(fleet["trucks"])
    bases = sorted({tuple(row["home_base"]) for row in rows})
    for i in range(trucks - len(rows)):
        base = list(bases[i % len(bases)])
        rows.append(
            {"id": f"X{i + 1:02d}", "kind": KINDS[i % 2], "position": base, "home_base": base}
        )
    return {"trucks": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--trucks", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--policies", default=",".join(POLICY_NAMES))
    parser.add_argument("--json")
    args = parser.parse_args()
    rules = load_business_rules()
    geo = load_geo()
    shops = Shops.load(geo)
    fleet = grown_fleet(args.trucks)
    start_s = day_start_s("00:00")
    calls = draw_calls(geo, rules, count=args.calls, start_s=start_s, hours=24.0, seed=args.seed)
    seconds: dict[str, float] = {}
    kpis: dict[str, Any] = {}
    rows = []
    for name in args.policies.split(","):
        started = time.perf_counter()
        day = simulate_policy(
            name,
            fleet,
            calls,
            geo=geo,
            rules=rules,
            shops=shops,
            window_s=(start_s, start_s + 24 * 3600.0),
            seed=args.seed,
        )
        seconds[name] = round(time.perf_counter() - started, 2)
        kpis[name] = day.kpis
        k = day.kpis
        rows.append(
            (
                name,
                seconds[name],
                k["on_time_rate"],
                round(k["response_s_mean"] / 60.0, 1),
                round(k["response_s_p90"] / 60.0, 1),
                k["utilisation_by_kind"]["service"],
                k["utilisation_by_kind"]["flatbed"],
                k["tow_km"],
                k["revenue_yuan"],
            )
        )
        print(*rows[-1], flush=True)
    print(f"\n{args.calls} calls, {args.trucks} trucks, seed {args.seed}, 24 h from 00:00")
    print_table(
        rows,
        (
            "policy",
            "seconds",
            "on time",
            "mean min",
            "p90 min",
            "service util",
            "flatbed util",
            "tow km",
            "revenue",
        ),
    )
    slowest = max(seconds.values())
    print(f"slowest policy {slowest:.1f} s (target <= {TARGET_POLICY_S:.0f} s)")
    write_json(
        args.json,
        {
            "calls": args.calls,
            "trucks": args.trucks,
            "seed": args.seed,
            "seconds_per_policy": seconds,
            "target_policy_s": TARGET_POLICY_S,
            "kpis": kpis,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
