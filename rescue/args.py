"""Parsing of command-line values shared by the subcommands.

Options are spelt the same in every command: ``--at HH:MM`` is a Beijing clock time,
a place is ``LON,LAT`` (``--location``, ``--from``, ``--to``, ``--tow-to``) read in ``--crs``.
Every value is checked here, before any slow work (loading the road network), and a bad
one raises :class:`geo.errors.InputError` naming the option and the text given.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.speeds import parse_clock_min
from optimizer.dispatch.fleet_file import parse_fleet, read_json
from optimizer.dispatch.model import Truck

MAX_LON_DEG = 180.0
MAX_LAT_DEG = 90.0
MAX_PORT = 65535


def lonlat(text: str, *, field: str) -> tuple[float, float]:
    """``"LON,LAT"`` -> (lon, lat): finite degrees, longitude in -180..180, latitude in
    -90..90; whether the point is in the service area is checked when it is snapped."""
    parts = text.split(",")
    if len(parts) != 2:
        raise InputError(field, text, "expected LON,LAT (two numbers separated by a comma)")
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except ValueError:
        raise InputError(
            field, text, "expected LON,LAT (two numbers separated by a comma)"
        ) from None
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise InputError(field, text, "coordinates must be finite numbers")
    if abs(lon) <= MAX_LAT_DEG < abs(lat) <= MAX_LON_DEG:
        raise InputError(field, text, "looks like (lat, lon): give LON,LAT")
    if abs(lon) > MAX_LON_DEG or abs(lat) > MAX_LAT_DEG:
        raise InputError(field, text, "longitude must be in -180..180, latitude in -90..90")
    return lon, lat


def clock(text: str, *, field: str = "--at") -> str:
    """A Beijing clock time ``"HH:MM"``, checked; :class:`InputError` naming ``field``."""
    if "," in text:
        raise InputError(
            field, text, "expected a clock time HH:MM (a place is given with --location LON,LAT)"
        )
    parse_clock_min(text, field)
    return text


def positive_number(text: str, *, field: str, maximum: float = math.inf) -> float:
    """A finite number in ``(0, maximum]`` (seconds, a speed factor, a rate)."""
    try:
        value = float(text)
    except ValueError:
        raise InputError(field, text, "expected a number") from None
    if not (math.isfinite(value) and value > 0):
        raise InputError(field, text, "must be a positive finite number")
    if value > maximum:
        raise InputError(field, text, "must be at most {maximum:g}", maximum=maximum)
    return value


def whole_number(text: str, *, field: str, minimum: int, maximum: int) -> int:
    """An integer in ``[minimum, maximum]`` (a port, a random seed)."""
    stripped = text.strip()
    digits = stripped.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(maximum)):
        raise InputError(
            field,
            text,
            "expected a whole number in {minimum}..{maximum}",
            minimum=minimum,
            maximum=maximum,
        )
    value = int(stripped)
    if not minimum <= value <= maximum:
        raise InputError(
            field,
            text,
            "expected a whole number in {minimum}..{maximum}",
            minimum=minimum,
            maximum=maximum,
        )
    return value


def port(text: str) -> int:
    """A TCP port number, 1-65535."""
    return whole_number(text, field="--port", minimum=1, maximum=MAX_PORT)


def existing_path(text: str | None, *, field: str) -> Path | None:
    """``text`` as a path if given; :class:`InputError` when nothing is there."""
    if text is None:
        return None
    path = Path(text)
    try:
        exists = path.exists()
    except OSError as error:  # a name too long, a loop of links
        raise InputError(
            field, text, "cannot read: {error}", error=error.strerror or str(error)
        ) from None
    if not exists:
        raise InputError(field, text, "cannot read: file not found")
    return path


def fleet_file(text: str) -> tuple[Any, list[Truck]]:
    """The ``--fleet`` file's content and its trucks, the shape of every field checked
    (before the road network is loaded)."""
    data = read_json(Path(text), field="--fleet")
    if not isinstance(data, dict):
        raise InputError(
            "--fleet", text, "must hold a JSON object {example}", example='{"trucks": [...]}'
        )
    with within("--fleet"):
        return data, [truck for truck, _ in parse_fleet(data)]


@contextmanager
def options_for(fields: Mapping[str, str]) -> Iterator[None]:
    """Errors about a library's ``fields`` (keys) renamed to the options (values) the
    user typed, so a refusal names what the user can change."""
    try:
        yield
    except InputError as error:
        if error.field not in fields:
            raise
        raise InputError(
            fields[error.field], error.value, error.reason_id, **error.params
        ) from None


@contextmanager
def within(option: str) -> Iterator[None]:
    """Errors about fields of the file given with ``option`` name the option too:
    ``trucks[0].work`` becomes ``--fleet trucks[0].work``."""
    try:
        yield
    except InputError as error:
        if error.field.startswith(option):
            raise
        raise InputError(
            f"{option} {error.field}", error.value, error.reason_id, **error.params
        ) from None
