"""Random Beijing dispatch scenarios shared by the benchmarks (seeded, reproducible)."""

from __future__ import annotations

import functools
import random
from collections.abc import Sequence
from typing import Any

import numpy as np

from geo.config import load_rules
from geo.places import Geo, load_geo
from optimizer.demand import CallMaker, DemandModel
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.model import Truck
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops

CALL_SEED = 7  # callers and cars; the places come from the scenario's own generator


def call_maker(geo: Geo, rules: Rules, *, seed: int) -> CallMaker:
    """The project's simulated-call generator (the live map's simulation uses it too)."""
    demand = DemandModel(geo, calls_per_hour=30, rng=np.random.default_rng(seed))
    return CallMaker(
        demand,
        fault_kinds=dict(rules.fault_kinds),
        insurers=tuple(rules.insurers),
        member_share=0.7,
        rng=random.Random(seed),
    )


@functools.cache
def _default_call_maker() -> CallMaker:
    """A call maker on the Beijing network and the business rules, made on first use."""
    raw = load_rules()
    return call_maker(load_geo(rules=raw), Rules.from_toml(raw), seed=CALL_SEED)


def make_call(
    where: tuple[float, float],
    fault: str = "flat_battery",
    *,
    maker: CallMaker | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A valid intake (SERVICE_RULES §2) at ``where`` (``[lon, lat]``) with the fault ``fault``,
    an invented caller and car from ``maker`` (default: one on the Beijing network);
    ``fields`` override or add fields."""
    call = (maker or _default_call_maker()).make_at(where, fault=fault)
    call.update(fields)
    return call


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
    maker = call_maker(geo, rules, seed=CALL_SEED)
    for i, place in enumerate(random_places(geo, trucks // 3, rng)):
        call = make_call(place, "flat_tyre", maker=maker)
        board.register_call(call, now_s=now_s, job_id=f"busy{i}")
        board.assign(f"busy{i}", fleet[i * 3 + 1].id, now_s=now_s)
        board.advance(f"busy{i}", "en_route", now_s=now_s)
    return board


def add_open_calls(
    board: DispatchBoard,
    count: int,
    *,
    now_s: float,
    rng: np.random.Generator,
    faults: Sequence[str] | None = None,
) -> list[str]:
    """``count`` calls received in the last 20 minutes, ``faults`` (default: all fault
    categories) in turn."""
    faults = faults or board.rules.fault_categories
    maker = call_maker(board.geo, board.rules, seed=CALL_SEED)
    job_ids = []
    for i, place in enumerate(random_places(board.geo, count, rng)):
        created = now_s - float(rng.uniform(0, 1200))
        job = board.register_call(
            make_call(place, faults[i % len(faults)], maker=maker, created_at=created),
            now_s=now_s,
            job_id=f"C{i}",
        )
        job_ids.append(job.id)
    return job_ids
