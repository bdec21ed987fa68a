"""``rescue report --from DATE --to DATE [--format json|csv]``: the rescue statistics of a
range of Beijing days (SERVICE_RULES §8, :mod:`records.report`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from geo.errors import InputError
from geo.i18n import N_
from records.report import build_report, load_report_rules, parse_range, report_csv
from rescue.store_args import add_db_argument, opened_store

FORMATS = ("json", "csv")


def _report(args: argparse.Namespace) -> dict[str, Any] | None:
    """Check every option before the store is opened; the CSV goes to stdout as it is."""
    first, last = parse_range(args.day_from, args.day_to)
    if args.format not in FORMATS:
        raise InputError("--format", args.format, "one of {names}", names=", ".join(FORMATS))
    rules = load_report_rules()
    with opened_store(args) as store:
        report = build_report(store.engine, first, last, rules=rules)
    if args.format == "csv":
        sys.stdout.write(report_csv(report))
        return None
    return report


def register(subparsers: Any) -> None:
    command = subparsers.add_parser(
        "report", help=N_("rescue statistics of a range of days (JSON or CSV)")
    )
    command.add_argument(
        "--from", dest="day_from", required=True, help=N_("first Beijing day, YYYY-MM-DD")
    )
    command.add_argument(
        "--to", dest="day_to", required=True, help=N_("last Beijing day (included), YYYY-MM-DD")
    )
    command.add_argument("--format", default="json", help=N_("json (default) or csv"))
    add_db_argument(command)
    command.set_defaults(handler=_report)
