"""Solomon VRPTW instances as VROOM-format problems.

A Solomon file holds a name line, a ``VEHICLE`` section (``NUMBER CAPACITY``) and a
``CUSTOMER`` section of rows ``CUST NO. XCOORD. YCOORD. DEMAND READY_TIME DUE_DATE
SERVICE_TIME``; customer 0 is the depot. Following VROOM's benchmarking convention,
travel times are Euclidean distances times :data:`SCALE` rounded to integers, and time
windows and service times are scaled alike: divide costs by :data:`SCALE` to compare
them with published results.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

SCALE = 1000


def read_solomon(path: str | Path) -> dict[str, Any]:
    """Read a Solomon instance file into a VROOM-format problem dict."""
    path = Path(path)
    return parse_solomon(path.read_text(encoding="utf-8"), source=str(path))


def parse_solomon(text: str, *, source: str = "<text>") -> dict[str, Any]:
    """Parse the text of a Solomon instance (``source`` names it in error messages).

    Raises
    ------
    ValueError
        If the vehicle or customer section is missing or malformed.
    """
    lines = [line.split() for line in text.splitlines()]
    vehicle_count, capacity = _vehicle_section(lines, source)
    customers = _customer_rows(lines, source)
    if [c[0] for c in customers] != list(range(len(customers))):
        raise ValueError(f"{source}: customers must be numbered 0 (depot), 1, 2, ...")
    points = [(c[1], c[2]) for c in customers]
    durations = [[round(math.dist(a, b) * SCALE) for b in points] for a in points]
    depot = customers[0]
    jobs = [
        {
            "id": round(number),
            "location_index": round(number),
            "delivery": [round(demand)],
            "service": round(service * SCALE),
            "time_windows": [[round(ready * SCALE), round(due * SCALE)]],
        }
        for number, _x, _y, demand, ready, due, service in customers[1:]
    ]
    vehicles = [
        {
            "id": vehicle_id,
            "start_index": 0,
            "end_index": 0,
            "capacity": [capacity],
            "time_window": [round(depot[4] * SCALE), round(depot[5] * SCALE)],
        }
        for vehicle_id in range(1, vehicle_count + 1)
    ]
    return {"vehicles": vehicles, "jobs": jobs, "matrices": {"car": {"durations": durations}}}


def _vehicle_section(lines: list[list[str]], source: str) -> tuple[int, int]:
    for position, words in enumerate(lines):
        if words[:2] == ["NUMBER", "CAPACITY"]:
            values = next((w for w in lines[position + 1 :] if w), [])
            try:
                return int(values[0]), int(values[1])
            except (IndexError, ValueError):
                break
    raise ValueError(f"{source}: no 'NUMBER CAPACITY' line followed by two integers")


def _customer_rows(lines: list[list[str]], source: str) -> list[tuple[float, ...]]:
    header = next((i for i, words in enumerate(lines) if words[:2] == ["CUST", "NO."]), None)
    if header is None:
        raise ValueError(f"{source}: no 'CUST NO.' header")
    rows = []
    for words in lines[header + 1 :]:
        if not words:
            continue
        if len(words) != 7:
            raise ValueError(f"{source}: customer row {' '.join(words)!r} needs 7 numbers")
        try:
            rows.append(tuple(float(word) for word in words))
        except ValueError:
            raise ValueError(f"{source}: customer row {' '.join(words)!r} is not numeric") from None
    if len(rows) < 2:
        raise ValueError(f"{source}: a depot and at least one customer are needed")
    return rows
