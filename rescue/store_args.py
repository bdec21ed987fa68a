"""The ``--db`` option every command that reads or writes the records shares."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from geo.i18n import N_
from records.store import EventStore


def add_db_argument(parser: Any) -> None:
    parser.add_argument(
        "--db",
        default=None,
        help=N_(
            "the records database: an SQLite file or a postgresql:// URL "
            "(default $RESCUE_DB_URL, else data/runtime/dispatch.sqlite)"
        ),
    )


@contextmanager
def opened_store(args: argparse.Namespace) -> Iterator[EventStore]:
    """The ``--db`` store, closed afterwards; :class:`geo.errors.InputError` (``--db``)
    when it cannot be opened or is not one."""
    store = EventStore(args.db)
    try:
        yield store
    finally:
        store.close()
