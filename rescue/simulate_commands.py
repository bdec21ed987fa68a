"""``rescue simulate``: a fleet planner's day under each dispatch policy
(:mod:`optimizer.simulate`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from geo.errors import InputError
from geo.i18n import N_
from geo.places import load_geo
from optimizer.dispatch.rules import load_business_rules
from optimizer.dispatch.shops import Shops
from optimizer.simulate.calls import day_start_s, draw_calls
from optimizer.simulate.day import simulate_policy
from optimizer.simulate.policies import POLICY_NAMES
from optimizer.simulate.report import write_report
from rescue.args import clock, fleet_file, positive_number, whole_number, within

MAX_CALLS = 10_000
MAX_HOURS = 24.0
MAX_SEED = 2**32 - 1


def policy_names(text: str) -> list[str]:
    """``all`` or a comma list of :data:`optimizer.simulate.policies.POLICY_NAMES`."""
    names = list(POLICY_NAMES) if text == "all" else text.split(",")
    for name in names:
        if name not in POLICY_NAMES:
            raise InputError(
                "--policy", text, "one of {names}, or all", names=", ".join(POLICY_NAMES)
            )
    return list(dict.fromkeys(names))


def _simulate(args: argparse.Namespace) -> dict[str, Any]:
    calls_count = whole_number(args.calls, field="--calls", minimum=1, maximum=MAX_CALLS)
    hours = positive_number(args.hours, field="--hours", maximum=MAX_HOURS)
    start_s = day_start_s(clock(args.start, field="--start"))
    seed = whole_number(args.seed, field="--seed", minimum=0, maximum=MAX_SEED)
    names = policy_names(args.policy)
    fleet, _ = fleet_file(args.fleet)
    rules = load_business_rules()
    geo = load_geo()
    shops = Shops.load(geo)
    calls = draw_calls(geo, rules, count=calls_count, start_s=start_s, hours=hours, seed=seed)
    window_s = (start_s, start_s + hours * 3600.0)
    days = []
    with tqdm(total=calls_count * len(names), file=sys.stderr, unit="call") as bar:
        for name in names:
            bar.set_description(name)
            with within("--fleet"):
                days.append(
                    simulate_policy(
                        name,
                        fleet,
                        calls,
                        geo=geo,
                        rules=rules,
                        shops=shops,
                        window_s=window_s,
                        seed=seed,
                        on_call=bar.update,
                    )
                )
    out: dict[str, Any] = {
        "calls": calls_count,
        "start": args.start,
        "hours": hours,
        "seed": seed,
        "promise_s": rules.promise_s,
        "policies": {day.name: day.kpis for day in days},
    }
    if args.out:
        out["report"] = str(write_report(Path(args.out), days, geo=geo, summary=out))
    return out


def register(subparsers: Any) -> None:
    simulate = subparsers.add_parser(
        "simulate", help=N_("a simulated day of calls under each dispatch policy")
    )
    simulate.add_argument("--fleet", required=True, metavar="FLEET.json")
    simulate.add_argument("--calls", required=True, metavar="N", help=N_("calls in the day"))
    simulate.add_argument(
        "--start", default="00:00", metavar="HH:MM", help=N_("Beijing clock time the day starts")
    )
    simulate.add_argument("--hours", default="24", metavar="H", help=N_("length of the day"))
    simulate.add_argument(
        "--policy",
        default="all",
        metavar="NAME[,NAME]",
        help=f"{', '.join(POLICY_NAMES)} or all (default)",
    )
    simulate.add_argument("--seed", default="1", metavar="S", help=N_("random seed (default 1)"))
    simulate.add_argument("--out", metavar="DIR", help=N_("write DIR/report.html"))
    simulate.set_defaults(handler=_simulate)
