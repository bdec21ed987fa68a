"""Crew behaviour, for simulation: what a crew does next on the job in hand, and when.

A crew leaves after the preparation time once the job is first in its truck's queue,
is on scene when its drive arrives, spends the on-site service time (varied by up to
``service_spread`` either way) and then either fixes the car or, for a share
``tow_share`` of the service jobs, finds it cannot and converts the job to a tow; a
flatbed loads, tows, unloads, and the paperwork closes the job. Shared by the live room's
simulation and the fleet planners' day simulation.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from optimizer.dispatch.legs import Drive
from optimizer.dispatch.model import Job, JobState, Truck
from optimizer.dispatch.rules import Rules

CrewAction = tuple[str, Any]
"""``("advance", state)`` or ``("convert_to_tow", None)``: a board command and argument."""


@dataclass(frozen=True)
class CrewConfig:
    tow_share: float = 0.15
    """Share of on-site jobs the crew finds it cannot fix (they convert to tows)."""
    service_spread: float = 0.3
    """On-site time varies by up to this share around the rules' figure."""
    close_after_s: float = 120.0
    """Paperwork after a fix (the owner's sign-off) before the job is closed."""


class CrewModel:
    """Draws each job's on-site outcome once (seeded) and tells each crew's next move."""

    def __init__(self, rules: Rules, config: CrewConfig, rng: random.Random) -> None:
        self.rules = rules
        self.config = config
        self.rng = rng
        self._outcome: dict[str, tuple[float, bool]] = {}

    def service_outcome(self, job_id: str) -> tuple[float, bool]:
        """On-site time of a job and whether the crew will find it needs a tow."""
        if job_id not in self._outcome:
            spread = self.config.service_spread
            self._outcome[job_id] = (
                self.rules.on_site_service_s * self.rng.uniform(1.0 - spread, 1.0 + spread),
                self.rng.random() < self.config.tow_share,
            )
        return self._outcome[job_id]

    def next_action(
        self, job: Job, truck: Truck | None, drive: Drive | None, now_s: float
    ) -> CrewAction | None:
        """The crew's next move on ``job`` if it is due at ``now_s``; ``drive`` is the
        job's truck's current drive (None: nothing to drive, so arrival is immediate)."""
        rules, config = self.rules, self.config
        since = job.state_since_s()
        arrived = drive is None or (
            drive.job_id == job.id and drive.arrive_s is not None and now_s >= drive.arrive_s
        )
        due: dict[JobState, tuple[bool, CrewAction]] = {
            JobState.EN_ROUTE: (arrived, ("advance", "on_scene")),
            JobState.TOWING: (arrived, ("advance", "delivered")),
            JobState.FIXED: (now_s >= since + config.close_after_s, ("advance", "closed")),
            JobState.DELIVERED: (now_s >= since + rules.tow_unload_s, ("advance", "closed")),
        }
        if job.state in due:
            ready, action = due[job.state]
            return action if ready else None
        if job.state == JobState.ASSIGNED:
            first = truck is not None and bool(truck.queue) and truck.queue[0] == job.id
            return ("advance", "en_route") if first and now_s >= since + rules.prep_s else None
        if job.state == JobState.ON_SCENE and job.needs_tow:
            return ("advance", "towing") if now_s >= since + rules.tow_load_s else None
        if job.state == JobState.ON_SCENE:
            service_s, tow = self.service_outcome(job.id)
            if now_s < since + service_s:
                return None
            return ("convert_to_tow", None) if tow else ("advance", "fixed")
        return None
