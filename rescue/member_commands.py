"""``rescue member add|import|export|show``: the member register (SERVICE_RULES §5).

- ``add``: one member from options (several ``--phone`` / ``--plate``);
- ``import FILE``: a CSV file (``records.members.CSV_COLUMNS``), all or nothing: every bad
  cell is named by line and column and nothing of the file is imported;
- ``export [--out FILE]``: the register as CSV (on stdout without ``--out``);
- ``show CARD [--plate P] [--day YYYY-MM-DD]``: the card check the dispatcher sees: status
  (valid, expired, unknown, plate_not_on_card), the member and the line to say. An unknown
  card is an answer, not an error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
import time
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.i18n import N_, translate
from records.card_check import card_check
from records.days import beijing_day
from records.member_csv import ImportRefusedError, export_csv, import_csv
from records.members import add_member, get_member, parse_day
from rescue.store_args import add_db_argument, opened_store

MAX_IMPORT_BYTES = 20 * 1024 * 1024
"""A register of 100,000 members is about 10 MB of CSV."""


def _user() -> str:
    """Who made the change (the record log's user): the system login running the command."""
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _add(args: argparse.Namespace) -> dict[str, Any]:
    data = {
        "card_no": args.card,
        "name": args.name,
        "phones": args.phone or [],
        "plates": args.plate or [],
        "valid_from": args.valid_from,
        "valid_to": args.valid_to,
        "fee_paid_yuan": args.fee,
        "receipt_no": args.receipt,
    }
    with opened_store(args) as store:
        member = add_member(store.engine, data, user=_user(), at_s=time.time())
    message = translate(N_("Member {card} added."), args.lang, card=member.card_no)
    return {"added": True, "member": member.to_json(), "message": message}


def _read_file(name: str) -> str:
    path = Path(name)
    if not path.is_file():
        raise InputError("file", name, "not a file")
    if path.stat().st_size > MAX_IMPORT_BYTES:
        raise InputError("file", name, "larger than {size} MB", size=MAX_IMPORT_BYTES // 2**20)
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("file", name, "is not UTF-8 text") from None


def _import(args: argparse.Namespace) -> dict[str, Any]:
    text = _read_file(args.file)
    with opened_store(args) as store:
        try:
            members = import_csv(store.engine, text, user=_user(), at_s=time.time())
        except ImportRefusedError as error:
            # All the bad cells on stderr first, then the refusal as every command's error.
            for cell in error.errors:
                print(
                    translate(
                        N_("line {line}, column {column}: {reason}"),
                        args.lang,
                        line=cell.line,
                        column=cell.column,
                        reason=translate(cell.reason_id, args.lang, **cell.params),
                    ),
                    file=sys.stderr,
                )
            raise
    message = translate(N_("{count} members imported."), args.lang, count=len(members))
    return {"imported": len(members), "cards": [m.card_no for m in members], "message": message}


def _export(args: argparse.Namespace) -> dict[str, Any] | None:
    with opened_store(args) as store:
        text = export_csv(store.engine)
    if args.out is None:
        sys.stdout.write(text)
        return None
    Path(args.out).write_text(text, encoding="utf-8")
    rows = text.count("\n") - 1
    return {"exported": rows, "file": args.out}


def _show(args: argparse.Namespace) -> dict[str, Any]:
    day = (
        parse_day(args.day, "--day")
        if args.day
        else dt.date.fromisoformat(beijing_day(time.time()))
    )
    with opened_store(args) as store:
        check = card_check(store.engine, args.card, args.plate, day)
        member = get_member(store.engine, check.card_no)
    answer = check.to_json()
    answer["day"] = day.isoformat()
    answer["member"] = None if member is None else member.to_json()
    answer["script"] = check.script_zh if args.lang == "zh" else check.script_en
    return answer


def register(subparsers: Any) -> None:
    member = subparsers.add_parser("member", help=N_("the member register (SERVICE_RULES §5)"))
    sub = member.add_subparsers(dest="member_command", required=True)

    add = sub.add_parser("add", help=N_("add a member"))
    add.add_argument("--card", required=True, help=N_("card number, e.g. BJ12345678"))
    add.add_argument("--name", required=True, help=N_("the member's name"))
    add.add_argument("--phone", action="append", help=N_("a phone number (repeat for several)"))
    add.add_argument(
        "--plate", action="append", help=N_("a plate on the card (repeat for several)")
    )
    add.add_argument("--valid-from", required=True, help=N_("first day of validity, YYYY-MM-DD"))
    add.add_argument(
        "--valid-to", required=True, help=N_("last day of validity (included), YYYY-MM-DD")
    )
    add.add_argument("--fee", required=True, help=N_("membership fee paid, yuan"))
    add.add_argument("--receipt", help=N_("receipt number of the fee"))
    add_db_argument(add)
    add.set_defaults(handler=_add)

    load = sub.add_parser("import", help=N_("import members from a CSV file: all rows or none"))
    load.add_argument("file", help=N_("CSV file with the header of `rescue member export`"))
    add_db_argument(load)
    load.set_defaults(handler=_import)

    out = sub.add_parser("export", help=N_("the register as CSV"))
    out.add_argument("--out", help=N_("write to this file (default: stdout)"))
    add_db_argument(out)
    out.set_defaults(handler=_export)

    show = sub.add_parser(
        "show", help=N_("a card's check: valid, expired, unknown or plate not on card")
    )
    show.add_argument("card", help=N_("card number"))
    show.add_argument("--plate", help=N_("the caller's plate"))
    show.add_argument("--day", help=N_("the day to check, YYYY-MM-DD (default: today in Beijing)"))
    add_db_argument(show)
    show.set_defaults(handler=_show)
