"""Random Beijing dispatch scenarios shared by the benchmarks (seeded, reproducible)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from calls import make_call

from geo.places import Geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.model import Truck
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops


def random_places(geo: Geo, count: int, rng: np.random.Generator) -> list[tuple[float, float]]:
    net = geo.network
    nodes = rng.integers(net.node_count, size=count)
    jitter = rng.uniform(-5e-4, 5e-4, size=(count, 2))
    return [
        (float(net.node_lon[n] + dx), float(net.node_lat[n] + dy))
        for n, (dx, dy) in zip(nodes, jitter, strict=True)
    ]


def busy_board(
    geo: Geo, rules: Rules, *, trucks: int, now_s: float, rng: np.random.Generator
) -> DispatchBoard:
    """``trucks`` trucks at random places, a third of them flatbeds, a third en route to a job."""
    fleet = [
        Truck(f"T{i}", "flatbed" if i % 3 == 0 else "service", f"京A·{i}", [], spot, spot)
        for i, spot in enumerate(random_places(geo, trucks, rng))
    ]
    board = DispatchBoard(geo, rules, Shops.load(geo), fleet)
    for i, place in enumerate(random_places(geo, trucks // 3, rng)):
        board.register_call(make_call(place, "flat_tyre"), now_s=now_s, job_id=f"busy{i}")
        board.assign(f"busy{i}", fleet[i * 3 + 1].id, now_s=now_s)
        board.advance(f"busy{i}", "en_route", now_s=now_s)
    return board


def add_open_calls(
    board: DispatchBoard, count: int, *, now_s: float, rng: np.random.Generator
) -> list[str]:
    """``count`` calls received in the last 20 minutes, all fault categories in turn."""
    faults = board.rules.fault_categories
    job_ids = []
    for i, place in enumerate(random_places(board.geo, count, rng)):
        created = now_s - float(rng.uniform(0, 1200))
        job = board.register_call(
            make_call(place, faults[i % len(faults)], created_at=created),
            now_s=now_s,
            job_id=f"C{i}",
        )
        job_ids.append(job.id)
    return job_ids
