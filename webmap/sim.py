"""The live room's simulation: the clock and the driving of the dispatch room.

Everything goes through :class:`webmap.center.DispatchCenter`, the same code path as the
dispatchers' commands: a call drawn from :mod:`optimizer.demand` is an ``intake`` (a member
caller is put in the member register first, :mod:`records.members`, so the card checks
valid), the simulated dispatcher confirms the proposed best truck (``dispatch``), the crews
of :mod:`optimizer.crews` ``advance`` their jobs (or ``convert_to_tow``), and the trucks
report GPS positions (``move_trucks``) along their current drives
(:mod:`optimizer.dispatch.legs`, computed by the center), once per tick.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from geo.errors import InputError
from optimizer.crews import CrewConfig, CrewModel
from optimizer.demand import MEMBER_SHARE, CallMaker, DemandModel
from optimizer.dispatch.model import JobState
from records.days import beijing_day
from records.members import add_member
from webmap.center import DispatchCenter

log = logging.getLogger(__name__)

SIM_USER = "sim"


@dataclass(frozen=True)
class SimConfig:
    calls_per_hour: float = 30.0
    """Mean calls per hour over the day (the hourly profile shapes it)."""
    tow_share: float = CrewConfig.tow_share
    """Share of on-site jobs the crew finds it cannot fix (they convert to tows)."""
    member_share: float = MEMBER_SHARE
    first_call_after_s: float = 5.0
    service_spread: float = CrewConfig.service_spread
    """On-site time varies by up to this share around the rules' figure."""
    close_after_s: float = CrewConfig.close_after_s
    """Paperwork after a fix (the owner's sign-off) before the job is closed."""
    redispatch_every_s: float = 60.0
    """How often a waiting simulated job is offered again to the best truck."""
    max_calls_per_step: int = 5
    seed: int | None = None

    @property
    def crew(self) -> CrewConfig:
        return CrewConfig(self.tow_share, self.service_spread, self.close_after_s)


class Simulation:
    """Calls and crews over a :class:`DispatchCenter`; call :meth:`step` once per tick."""

    def __init__(self, center: DispatchCenter, config: SimConfig | None = None) -> None:
        self.center = center
        self.config = config or SimConfig()
        self.rng = random.Random(self.config.seed)
        self._member_rng = random.Random(self.config.seed)
        """Draws the simulated members' join days (apart: the calls' draws stay as seeded)."""
        self.demand = DemandModel(
            center.geo,
            calls_per_hour=self.config.calls_per_hour,
            rng=np.random.default_rng(self.config.seed),
        )
        self.calls = CallMaker(
            self.demand,
            fault_kinds=dict(center.rules.fault_kinds),
            insurers=tuple(center.rules.insurers),
            member_share=self.config.member_share,
            rng=self.rng,
        )
        self.crew_model = CrewModel(center.rules, self.config.crew, self.rng)
        self.stats: Counter[str] = Counter()
        self._next_call_s: float | None = None
        self._sent: dict[str, tuple[float, float]] = {}
        self._offered: dict[str, float] = {}

    # ------------------------------------------------------------------ one tick
    def step(self) -> None:
        now_s = self.center.now()
        self.move_trucks(now_s)
        self.crews(now_s)
        self.new_calls(now_s)

    def move_trucks(self, now_s: float) -> None:
        """GPS of every truck driving, one batch."""
        positions = {}
        for truck_id, drive in self.center.drives().items():
            if drive.depart_s is None:
                continue
            point = drive.position_at(now_s)
            if self._sent.get(truck_id) != point:
                positions[truck_id] = point
        if positions:
            self.center.move_trucks(positions)
            self._sent.update(positions)

    def _actions(self, now_s: float) -> list[tuple[str, str, int, Any]]:
        """What the crews and the simulated dispatcher do now:
        ``(command, job_id, version, argument)`` per job."""
        center = self.center
        actions = []
        with center.lock:
            drives = center.drives()
            for job_id in center.active_job_ids():
                job = center.board.jobs[job_id]
                truck = center.board.trucks.get(job.truck_id or "")
                action = self.crew_model.next_action(
                    job, truck, drives.get(job.truck_id or ""), now_s
                )
                if action is None and self._waiting_for_us(job_id, job.state, now_s):
                    action = ("dispatch", None)
                if action is not None:
                    actions.append((action[0], job_id, center.version(job_id), action[1]))
        return actions

    def _waiting_for_us(self, job_id: str, state: JobState, now_s: float) -> bool:
        """A received job the simulation left waiting (its own call, or a tow it converted;
        also after a restart), due to be offered again. A dispatcher's received jobs wait
        for the dispatcher."""
        if state != JobState.RECEIVED or self.center.last_change(job_id)[0] != SIM_USER:
            return False
        return now_s >= self._offered.get(job_id, -math.inf) + self.config.redispatch_every_s

    def crews(self, now_s: float) -> None:
        for command, job_id, version, argument in self._actions(now_s):
            try:
                if command == "advance":
                    self.center.advance(job_id, argument, version=version, user=SIM_USER)
                elif command == "convert_to_tow":
                    self.center.convert_to_tow(job_id, version=version, user=SIM_USER)
                    self.stats["converted_to_tow"] += 1
                else:
                    self._dispatch_best(job_id, version, now_s)
                    continue
                self.stats[f"advanced_{argument or command}"] += 1
            except InputError as error:
                # A dispatcher changed the job first (stale version) or the move is not
                # allowed any more: look again on the next tick.
                self.stats["refused"] += 1
                log.debug("sim %s %s refused: %s", command, job_id, error)

    def _dispatch_best(self, job_id: str, version: int, now_s: float) -> None:
        self._offered[job_id] = now_s
        best = self.center.propose(job_id)["best"]
        if best is None:
            self.stats["no_truck"] += 1
            return
        self.center.dispatch(job_id, best["truck"], version=version, user=SIM_USER)
        self.stats["dispatched"] += 1

    def new_calls(self, now_s: float) -> None:
        if self._next_call_s is None:
            self._next_call_s = now_s + self.config.first_call_after_s
        made = 0
        while now_s >= self._next_call_s and made < self.config.max_calls_per_step:
            made += 1
            self._next_call_s += self.demand.gap_s(self._next_call_s)
            self.call(now_s)
        if now_s >= self._next_call_s:  # after a pause: don't flood the room
            self._next_call_s = now_s + self.demand.gap_s(now_s)

    def _register_member(self, call: dict[str, Any], now_s: float) -> None:
        """A simulated member is in the register (card, phone, plate), valid today: joined
        some day within the last membership year, by the same write as the records pages."""
        days = self.center.record_rules.membership_days
        today = dt.date.fromisoformat(beijing_day(now_s))
        since = today - dt.timedelta(days=self._member_rng.randrange(days))
        member = {
            "card_no": call["member_card"],
            "name": call["caller"]["name"],
            "phones": [call["caller"]["phone"]],
            "plates": [call["vehicle"]["plate"]],
            "valid_from": since.isoformat(),
            "valid_to": (since + dt.timedelta(days=days - 1)).isoformat(),
            "fee_paid_yuan": self.center.record_rules.membership_yuan,
        }
        try:
            add_member(self.center.store, member, user=SIM_USER, at_s=now_s)
            self.stats["members_registered"] += 1
        except InputError as error:  # the drawn card is taken: the intake check decides
            log.debug("simulated member not registered: %s", error)

    def call(self, now_s: float) -> str | None:
        """One simulated call: intake, then the best truck confirmed. Returns the job id."""
        call = self.calls.make(now_s)
        if call.get("member"):
            self._register_member(call, now_s)
        try:
            answer = self.center.intake(call, user=SIM_USER)
        except InputError as error:
            self.stats["call_refused"] += 1
            log.info("simulated call refused: %s", error)
            return None
        job = answer["job"]
        self.stats["calls"] += 1
        self._offered[job["id"]] = now_s
        best = answer["proposal"]["best"]
        if best is None:
            self.stats["no_truck"] += 1
            return job["id"]
        try:
            self.center.dispatch(job["id"], best["truck"], version=job["version"], user=SIM_USER)
            self.stats["dispatched"] += 1
        except InputError as error:
            self.stats["refused"] += 1
            log.debug("sim dispatch of %s refused: %s", job["id"], error)
        return job["id"]
