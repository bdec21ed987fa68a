"""When will a truck be free, and where? Its remaining work, leg by leg.

A truck's queue is walked in order from where it is now: the rest of the current job
(travel to the scene, time on scene, a tow under way to its delivery) and then every
queued job. The result also gives the predicted arrival at each queued job, for
promise tracking. Computed when a truck's work changes, not per assignment query.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from geo.places import Geo
from geo.router import Snap
from optimizer.dispatch.legs import Leg
from optimizer.dispatch.model import Job, JobState, Truck
from optimizer.dispatch.rules import Rules


@dataclass(frozen=True)
class TruckPlan:
    """``free_at_s``: when the truck has finished all its work; ``free_snap``: where."""

    free_at_s: float
    free_snap: Snap
    leaving_s: float = 0.0
    """When free at a scene beyond the road data: the estimated way back to ``free_snap``."""
    legs: dict[str, Leg] = field(default_factory=dict)
    """The drive to each queued job not yet reached."""

    @property
    def arrivals_s(self) -> dict[str, float]:
        """Predicted arrival at the scene of each queued job not yet reached."""
        return {job_id: leg.arrival_s for job_id, leg in self.legs.items()}


def _travel_s(geo: Geo, origin: Snap, dest: Snap, band: str) -> float:
    return float(geo.router.travel_times_from(origin, [dest], band=band)[0])


def _off_network_s(geo: Geo, job: Job, band: str) -> float:
    """The estimated way between a scene beyond the road data and its road point."""
    return 0.0 if job.placement is None else geo.off_network_s(job.placement, band)


def plan_truck(
    truck: Truck,
    position: Snap,
    jobs: Mapping[str, Job],
    *,
    now_s: float,
    band: str,
    rules: Rules,
    geo: Geo,
) -> TruckPlan:
    """Walk ``truck.queue`` from ``position`` at ``now_s``; see the module docstring."""
    clock_s, here = now_s, position
    leaving_s = 0.0  # the estimated way back to the road from a scene beyond the road data
    legs: dict[str, Leg] = {}
    for job_id in truck.queue:
        job = jobs[job_id]
        if job.state in (JobState.ASSIGNED, JobState.EN_ROUTE):
            prep_s = rules.prep_s if job.state == JobState.ASSIGNED else 0.0  # not left yet
            off_s = _off_network_s(geo, job, band)
            travel_s = leaving_s + _travel_s(geo, here, job.snap, band) + off_s
            leg = Leg(clock_s, here, prep_s, travel_s)
            legs[job.id] = leg
            clock_s, here, leaving_s = leg.arrival_s, job.snap, off_s
            clock_s += rules.tow_load_s if job.needs_tow else rules.on_site_service_s
        elif job.state == JobState.ON_SCENE:
            planned_s = rules.tow_load_s if job.needs_tow else rules.on_site_service_s
            clock_s += max(0.0, planned_s - (now_s - job.state_since_s()))
            leaving_s = _off_network_s(geo, job, band)
        if (
            job.needs_tow
            and job.destination_snap is not None
            and job.state
            in (JobState.ASSIGNED, JobState.EN_ROUTE, JobState.ON_SCENE, JobState.TOWING)
        ):
            clock_s += leaving_s + _travel_s(geo, here, job.destination_snap, band)
            clock_s += rules.tow_unload_s
            here, leaving_s = job.destination_snap, 0.0
    return TruckPlan(free_at_s=clock_s, free_snap=here, leaving_s=leaving_s, legs=legs)
