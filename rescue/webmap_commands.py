"""``rescue serve`` (the live dispatch map) and ``rescue user add`` (dispatcher logins)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.i18n import N_, translate
from records.store import USER_NAME
from rescue.args import fleet_file, port, positive_number, whole_number
from rescue.store_args import add_db_argument, opened_store
from webmap.app import serve

MAX_SIM_SPEED = 3600.0
"""An hour of dispatch per real second: faster, trucks would cross town between two
updates of the map."""
MAX_CALLS_PER_HOUR = 3600.0
"""A call a second, far beyond what any dispatch room (or the sample fleet) can take."""
MAX_SEED = 2**32 - 1  # every seed up to this gives its own run; a longer one is a paste


def _serve(args: argparse.Namespace) -> None:
    """Check every option (and open the store) before the server starts."""
    seed, calls_per_hour = args.seed, args.calls_per_hour
    port_number = port(args.port)
    speed = positive_number(args.speed, field="--speed", maximum=MAX_SIM_SPEED)
    if seed is not None:
        seed = whole_number(seed, field="--seed", minimum=0, maximum=MAX_SEED)
    if calls_per_hour is not None:
        calls_per_hour = positive_number(
            calls_per_hour, field="--calls-per-hour", maximum=MAX_CALLS_PER_HOUR
        )
    if args.fleet is not None:
        fleet_file(args.fleet)
    with opened_store(args):
        pass
    serve(
        host=args.host,
        port=port_number,
        db=args.db,
        sim=args.sim,
        speed=speed,
        fleet=None if args.fleet is None else Path(args.fleet),
        seed=seed,
        calls_per_hour=calls_per_hour,
        secure_cookies=args.secure_cookies,
        lang=args.lang,
    )


def _read_password(lang: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(translate(N_("Password: "), lang))
        if getpass.getpass(translate(N_("Again: "), lang)) != first:
            raise InputError("password", None, "the two entries differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _user_add(args: argparse.Namespace) -> dict[str, Any]:
    if not USER_NAME.match(args.name):
        raise InputError("name", args.name, "1-40 letters, digits, '.', '_' or '-'")
    with opened_store(args) as store:
        store.add_user(args.name, _read_password(args.lang))
        shown = str(store.path or store.engine.url.render_as_string(hide_password=True))
    message = translate(N_("Dispatcher {user} added."), args.lang, user=args.name)
    return {"user": args.name, "created": True, "db": shown, "message": message}


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("serve", help=N_("the live dispatch map (Flask + Socket.IO)"))
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", default="8000", help=N_("TCP port (default 8000)"))
    run.add_argument(
        "--sim",
        action="store_true",
        help=N_("run the simulation: calls arrive, crews work, trucks move"),
    )
    run.add_argument(
        "--speed",
        default="1",
        help=N_("clock speed: N simulated seconds per real second (default 1, at most 3600)"),
    )
    add_db_argument(run)
    run.add_argument("--fleet", help=N_("fleet file (default data/fleet.json)"))
    run.add_argument("--seed", help=N_("random seed of the simulation (0 to 2**32 - 1)"))
    run.add_argument("--calls-per-hour", help=N_("mean simulated calls per hour (default 30)"))
    run.add_argument(
        "--secure-cookies",
        action="store_true",
        help=N_("send the session cookie over HTTPS only (when served behind TLS)"),
    )
    run.set_defaults(handler=_serve)

    user = subparsers.add_parser("user", help=N_("dispatcher logins of the live map"))
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help=N_("add a dispatcher; the password is read from stdin"))
    add.add_argument("name")
    add_db_argument(add)
    add.set_defaults(handler=_user_add)
