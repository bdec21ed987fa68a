"""``rescue quote`` and ``rescue assign``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from geo.coords import CRS_NAMES
from geo.errors import InputError
from geo.i18n import N_
from geo.places import load_geo
from optimizer.dispatch.clock import beijing_time, epoch_at_clock
from optimizer.dispatch.fleet_file import board_from_fleet, read_json
from optimizer.dispatch.intake import parse_quote_request
from optimizer.dispatch.pricing import price_call
from optimizer.dispatch.rules import load_business_rules
from optimizer.dispatch.shops import Shops
from rescue.args import clock, fleet_file, lonlat, options_for, within

# Intake's field names as ``rescue quote`` spells them, so an error names the option.
_QUOTE_OPTIONS = {
    "location": "--location",
    "tow_destination": "--tow-to",
    "fault_category": "--fault",
    "insurer": "--insurer",
}


def _now_s(at: str | None) -> float:
    return epoch_at_clock(clock(at, field="--at")) if at else time.time()


def _quote(args: argparse.Namespace) -> dict[str, Any]:
    """The quote intake makes for the same call (:func:`optimizer.dispatch.pricing.price_call`)."""
    now_s = _now_s(args.at)
    where = lonlat(args.location, field="--location")
    tow_to = None if args.tow_to is None else lonlat(args.tow_to, field="--tow-to")
    rules = load_business_rules()
    geo = load_geo()
    band = geo.band_at(beijing_time(now_s))
    with options_for(_QUOTE_OPTIONS):
        request = parse_quote_request(
            {
                "member": args.member is not None,
                "location": list(where),
                "crs": args.crs,
                "on_highway": args.on_highway,
                "fault_category": args.fault,
                "tow_destination": None if tow_to is None else list(tow_to),
                "accident": args.accident,
                "insurer": args.insurer,
            },
            rules,
            fault_required=False,
        )
        priced = price_call(request, geo=geo, rules=rules, shops=Shops.load(geo), band=band)
    out = priced.quote.to_json()
    if priced.tow is not None:
        out["tow_destination"] = {"name": priced.tow.name, "location": list(priced.tow.lonlat)}
    out["toll_roads"] = list(priced.toll_roads)
    out["band"] = band
    out["estimated"] = priced.placement.estimated  # beyond the road data: tow km estimated
    return out


def _assign(args: argparse.Namespace) -> dict[str, Any]:
    now_s = _now_s(args.at)
    fleet, _ = fleet_file(args.fleet)
    job_data = read_json(Path(args.job), field="--job")
    if not isinstance(job_data, dict):
        raise InputError("--job", args.job, "must hold a JSON object")
    rules = load_business_rules()
    geo = load_geo()
    with within("--fleet"):
        board = board_from_fleet(fleet, geo=geo, rules=rules, shops=Shops.load(geo), now_s=now_s)
    with within("--job"):
        job = board.register_call(job_data, now_s=now_s, job_id=_job_id(job_data))
    proposal = board.propose(job.id, now_s=now_s).to_json()
    return {
        "job": job.id,
        "required_kind": job.required_kind,
        "zone": job.placement.zone if job.placement else None,
        "tow_destination": job.tow_destination_name or None,
        **proposal,
    }


def _job_id(job_data: dict[str, Any]) -> str:
    job_id = job_data.get("id", "new")
    if isinstance(job_id, bool) or not isinstance(job_id, str | int):
        raise InputError("--job id", job_id, "must be text or an integer")
    return str(job_id)


def register(subparsers: Any) -> None:
    quote = subparsers.add_parser("quote", help=N_("the fee quote for a call, before dispatch"))
    quote.add_argument("--location", required=True, metavar="LON,LAT", help=N_("where the car is"))
    quote.add_argument("--crs", choices=CRS_NAMES, default="wgs84")
    who = quote.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", metavar="CARD", help=N_("member card number"))
    who.add_argument("--non-member", action="store_true")
    quote.add_argument(
        "--fault", metavar="CATEGORY", help=N_("fault category (config/rules.toml [triage])")
    )
    quote.add_argument(
        "--tow-to", metavar="LON,LAT", help=N_("tow destination (default: nearest group shop)")
    )
    quote.add_argument(
        "--on-highway",
        action=argparse.BooleanOptionalAction,
        default=None,
        help=N_("the caller says the car is (or is not) on a highway (default: not stated)"),
    )
    quote.add_argument("--accident", action="store_true", help=N_("an insurance accident (§6)"))
    quote.add_argument(
        "--insurer",
        metavar="KEY",
        help=N_("the accident car's insurer (config/rules.toml [insurers])"),
    )
    quote.add_argument(
        "--at", metavar="HH:MM", help=N_("Beijing clock time of the call (default: now)")
    )
    quote.set_defaults(handler=_quote)

    assign = subparsers.add_parser("assign", help=N_("rank suitable trucks for a new job"))
    assign.add_argument("--fleet", required=True, metavar="FLEET.json")
    assign.add_argument("--job", required=True, metavar="JOB.json")
    assign.add_argument("--at", metavar="HH:MM", help=N_("Beijing clock time (default: now)"))
    assign.set_defaults(handler=_assign)
