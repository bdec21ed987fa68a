"""``rescue quote`` and ``rescue assign``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from geo.coords import CRS_NAMES, to_wgs84
from geo.errors import InputError
from geo.places import load_geo
from optimizer.coverage import CoverageModel, travel_budget_s
from optimizer.dispatch.clock import beijing_time, epoch_at_clock
from optimizer.dispatch.fleet_file import load_board, read_json
from optimizer.dispatch.quote import make_quote
from optimizer.dispatch.rules import load_business_rules
from optimizer.dispatch.shops import Shops, choose_tow_destination
from optimizer.dispatch.triage import required_kind
from rescue.args import lonlat


def _now_s(clock: str | None) -> float:
    return epoch_at_clock(clock) if clock else time.time()


def _quote(args: argparse.Namespace) -> dict[str, Any]:
    rules = load_business_rules()
    geo = load_geo()
    placement = geo.locate(*lonlat(args.location, field="--at"), crs=args.crs, field="--at")
    tow_to = None if args.tow_to is None else lonlat(args.tow_to, field="--tow-to")
    needs_tow = tow_to is not None or (
        args.fault is not None and required_kind(args.fault, rules) == "flatbed"
    )
    destination = None
    if needs_tow:
        if tow_to is not None:
            tow_to = to_wgs84(*tow_to, args.crs)
        destination = choose_tow_destination(
            geo,
            Shops.load(geo),
            placement.snap,
            chosen=tow_to,
            name="",
            band=geo.band_at(beijing_time(time.time())),
        )
    quote = make_quote(
        member=args.member is not None,
        zone=placement.zone,
        on_highway=placement.on_highway,
        tow_m=None if destination is None else destination.tow_m,
        rules=rules,
    )
    out = quote.to_json()
    if destination is not None:
        out["tow_destination"] = {"name": destination.name, "location": list(destination.lonlat)}
    return out


def _assign(args: argparse.Namespace) -> dict[str, Any]:
    rules = load_business_rules()
    geo = load_geo()
    now_s = _now_s(args.at)
    board = load_board(Path(args.fleet), geo=geo, rules=rules, now_s=now_s)
    job_data = read_json(Path(args.job), field="--job")
    if not isinstance(job_data, dict):
        raise InputError("--job", args.job, "must hold a JSON object")
    job_id = str(job_data.get("id", "new"))
    job = board.register_call(job_data, now_s=now_s, job_id=job_id)
    proposal = board.propose(job.id, now_s=now_s).to_json()
    return {
        "job": job.id,
        "required_kind": job.required_kind,
        "zone": job.placement.zone if job.placement else None,
        "tow_destination": job.tow_destination_name or None,
        **proposal,
    }


def _coverage(args: argparse.Namespace) -> dict[str, Any]:
    rules = load_business_rules()
    geo = load_geo()
    fleet = read_json(Path(args.fleet), field="--fleet")
    bases = sorted({tuple(t.get("home_base", t.get("position"))) for t in fleet.get("trucks", [])})
    stations = [geo.router.snap(*b, field="home_base") for b in bases]
    band = geo.band_at(args.at)
    cover = CoverageModel(geo).coverage(stations, band=band, budget_s=travel_budget_s(rules))
    return {
        "stations": len(stations),
        "band": band,
        "budget_s": cover.budget_s,
        "share": cover.share,
        "covered_km": cover.covered_km,
        "total_km": cover.total_km,
        "by_zone": cover.by_zone,
    }


def register(subparsers: Any) -> None:
    quote = subparsers.add_parser("quote", help="the fee quote for a call, before dispatch")
    quote.add_argument(
        "--at", dest="location", required=True, metavar="LON,LAT", help="where the car is"
    )
    who = quote.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", metavar="CARD", help="member card number")
    who.add_argument("--non-member", action="store_true")
    quote.add_argument(
        "--fault", metavar="CATEGORY", help="fault category (config/rules.toml [triage])"
    )
    quote.add_argument(
        "--tow-to", metavar="LON,LAT", help="tow destination (default: nearest group shop)"
    )
    quote.add_argument("--crs", choices=CRS_NAMES, default="wgs84")
    quote.set_defaults(handler=_quote)

    assign = subparsers.add_parser("assign", help="rank suitable trucks for a new job")
    assign.add_argument("--fleet", required=True, metavar="FLEET.json")
    assign.add_argument("--job", required=True, metavar="JOB.json")
    assign.add_argument("--at", metavar="HH:MM", help="Beijing clock time (default: now)")
    assign.set_defaults(handler=_assign)

    coverage = subparsers.add_parser(
        "coverage", help="road km the fleet's stations reach within the promise"
    )
    coverage.add_argument("--fleet", default="data/fleet.json", metavar="FLEET.json")
    coverage.add_argument(
        "--at", default="18:00", metavar="HH:MM", help="Beijing clock time (default 18:00)"
    )
    coverage.set_defaults(handler=_coverage)
