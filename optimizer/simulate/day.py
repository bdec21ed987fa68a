"""One day under each policy: the same calls, a fresh board and the same crews for each."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from geo.errors import InputError
from geo.places import Geo
from optimizer.crews import CrewConfig, CrewModel
from optimizer.dispatch.fleet_file import board_from_fleet
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from optimizer.simulate.calls import SimCall
from optimizer.simulate.engine import DayResult, DaySimulation, call_job_id
from optimizer.simulate.kpis import CallOutcome, RingBands, day_kpis, outcomes
from optimizer.simulate.policies import Policy, make_policy


@dataclass(frozen=True)
class PolicyDay:
    name: str
    result: DayResult
    outcomes: list[CallOutcome]
    kpis: dict[str, Any]


def simulate_policy(
    policy_name: str,
    fleet: Any,
    calls: Sequence[SimCall],
    *,
    geo: Geo,
    rules: Rules,
    shops: Shops,
    window_s: tuple[float, float],
    seed: int,
    crew: CrewConfig | None = None,
    policy: Policy | None = None,
    on_call: Callable[[], None] | None = None,
) -> PolicyDay:
    """The day of ``calls`` for the fleet file's content ``fleet`` under ``policy_name``
    (or the ``policy`` given). The crews' on-site outcomes are drawn from ``seed`` per
    call in call order before the day starts, so every policy meets the same crews.
    ``window_s``: the day's (start, end), epoch seconds, for utilisation."""
    start_s, end_s = window_s
    board = board_from_fleet(fleet, geo=geo, rules=rules, shops=shops, now_s=start_s)
    day_ids = [call_job_id(index) for index in range(len(calls))]
    clash = sorted(set(day_ids) & set(board.jobs))
    if clash:
        raise InputError(
            "job_id", clash[0], "a job of the fleet file has an id the day's calls use (C0001…)"
        )
    crews = CrewModel(rules, crew or CrewConfig(), random.Random(seed))
    # Every job's on-site outcome drawn now, in a fixed order: the fleet file's work too,
    # so every policy meets the same crews whatever order jobs reach the scene in.
    for job_id in [*day_ids, *sorted(board.jobs)]:
        crews.service_outcome(job_id)
    chosen = policy or make_policy(policy_name, board)
    result = DaySimulation(board, chosen, crews).run(
        calls, start_s=start_s, end_s=end_s, on_call=on_call
    )
    zones = RingBands(geo.zones.rings.values())
    called = outcomes(result, zones)
    return PolicyDay(chosen.name, result, called, day_kpis(result, called, zones))
