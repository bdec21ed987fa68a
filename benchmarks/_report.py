"""Shared output of the benchmarks: a printed table and an optional JSON file."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def median_ms(seconds: Sequence[float]) -> float:
    return statistics.median(seconds) * 1000.0


def percentile_ms(seconds: Sequence[float], pct: float) -> float:
    ordered = sorted(seconds)
    index = min(len(ordered) - 1, max(0, round(pct / 100.0 * (len(ordered) - 1))))
    return ordered[index] * 1000.0


def print_table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> None:
    cells = [
        [str(c) for c in header],
        *[[f"{c:.3f}" if isinstance(c, float) else str(c) for c in row] for row in rows],
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for n, row in enumerate(cells):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if n == 0:
            print("  ".join("-" * width for width in widths))


def provenance() -> dict[str, Any]:
    """Where and when a figure was measured: machine, date, commit."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "date": dt.date.today().isoformat(),
        "commit": commit or "unknown",
    }


def write_json(path: str | Path | None, result: dict[str, Any]) -> None:
    """Write ``result`` with its :func:`provenance` under ``"measured"``."""
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        document = {"measured": provenance(), **result}
        Path(path).write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
