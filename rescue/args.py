"""Parsing of command-line values shared by the subcommands.

Options are spelt the same in every command: ``--at HH:MM`` is a Beijing clock time,
a place is ``LON,LAT`` (``--location``, ``--from``, ``--to``, ``--tow-to``) read in ``--crs``.
"""

from __future__ import annotations

import argparse

from geo.errors import InputError
from geo.speeds import parse_clock_min


def lonlat(text: str, *, field: str) -> tuple[float, float]:
    """``"LON,LAT"`` -> (lon, lat) floats; range checks happen when the point is snapped."""
    parts = text.split(",")
    if len(parts) != 2:
        raise InputError(field, text, "expected LON,LAT (two numbers separated by a comma)")
    try:
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise InputError(
            field, text, "expected LON,LAT (two numbers separated by a comma)"
        ) from None


def clock(text: str, *, field: str = "--at") -> str:
    """A Beijing clock time ``"HH:MM"``, checked; :class:`InputError` naming ``field``."""
    if "," in text:
        raise InputError(
            field, text, "expected a clock time HH:MM (a place is given with --location LON,LAT)"
        )
    parse_clock_min(text, field)
    return text


def positive_number(text: str) -> float:
    """An argparse ``type`` for a positive number (seconds, a speed factor, a rate)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value
