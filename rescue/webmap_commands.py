"""``rescue serve`` (the live dispatch map) and ``rescue user add`` (dispatcher logins)."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

from rescue.args import positive_number
from webmap.app import serve
from webmap.store import DEFAULT_DB_PATH, EventStore


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1-65535)")
    return int(text)


def _serve(args: argparse.Namespace) -> None:
    serve(
        host=args.host,
        port=args.port,
        db=args.db,
        sim=args.sim,
        speed=args.speed,
        fleet=args.fleet,
        seed=args.seed,
        calls_per_hour=args.calls_per_hour,
    )


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise ValueError("password: the two entries differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _user_add(args: argparse.Namespace) -> dict[str, Any]:
    store = EventStore(args.db)
    try:
        store.add_user(args.name, _read_password())
    finally:
        store.close()
    return {"user": args.name, "created": True, "db": str(args.db)}


def register(subparsers: Any) -> None:
    run = subparsers.add_parser("serve", help="the live dispatch map (Flask + Socket.IO)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=_port, default=8000)
    run.add_argument(
        "--sim",
        action="store_true",
        help="run the simulation: calls arrive, crews work, trucks move",
    )
    run.add_argument(
        "--speed",
        type=positive_number,
        default=1.0,
        help="clock speed: N simulated seconds per real second (default 1)",
    )
    run.add_argument(
        "--db",
        type=Path,
        default=DEFAULT_DB_PATH,
        help="SQLite store (default data/runtime/dispatch.sqlite)",
    )
    run.add_argument("--fleet", type=Path, help="fleet file (default data/fleet.json)")
    run.add_argument("--seed", type=int, help="random seed of the simulation")
    run.add_argument(
        "--calls-per-hour", type=positive_number, help="mean simulated calls per hour (default 30)"
    )
    run.set_defaults(handler=_serve)

    user = subparsers.add_parser("user", help="dispatcher logins of the live map")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="add a dispatcher; the password is read from stdin")
    add.add_argument("name")
    add.add_argument("--db", type=Path, default=DEFAULT_DB_PATH)
    add.set_defaults(handler=_user_add)
