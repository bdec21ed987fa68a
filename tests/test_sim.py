"""The simulation: calls drawn over Beijing's roads by class and hour, trucks moving along
their road routes, crews taking jobs through the states of SERVICE_RULES §7, all through
the DispatchCenter (so every step is a stored, replayable command)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely

from geo.path import RoutePath
from geo.places import Geo
from optimizer.demand import HOURLY_PROFILE, DemandModel
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.model import JobState
from optimizer.dispatch.rules import load_business_rules
from records.store import EventStore
from tests.conftest import seed_member
from webmap.center import DispatchCenter
from webmap.clock import ManualClock
from webmap.sim import SIM_USER, SimConfig, Simulation

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
NO_RANDOM_CALLS = {"first_call_after_s": 1e9}
_M_PER_DEG = 111_000.0


@pytest.fixture
def center(geo: Geo, tmp_path: Path, clock: ManualClock) -> Iterator[DispatchCenter]:
    store = EventStore(tmp_path / "sim.sqlite")
    seed_member(store)
    yield DispatchCenter.open(store=store, geo=geo, rules=load_business_rules(), clock=clock)
    store.close()


def _run(
    sim: Simulation,
    clock: ManualClock,
    *,
    until,
    step_s: float = 5.0,
    limit_s: float = 4 * 3600.0,
    each=None,
) -> None:
    """Step the simulation until ``until()`` holds (fails after ``limit_s`` of sim time)."""
    start = clock.now()
    while not until():
        assert clock.now() - start < limit_s, "the simulation did not get there"
        clock.advance(step_s)
        sim.step()
        if each is not None:
            each()


def test_route_path_interpolates_by_length() -> None:
    path = RoutePath([[116.0, 40.0], [116.0, 40.01], [116.01, 40.01]])
    assert path.point_at(0.0) == (116.0, 40.0)
    assert path.point_at(1.0) == pytest.approx((116.01, 40.01))
    north_m, east_m = 1105.7, 0.01 * 111_320 * math.cos(math.radians(40.005))
    assert path.length_m == pytest.approx(north_m + east_m, rel=1e-3)
    lon, lat = path.point_at(0.5)  # half the length: still on the northward leg
    assert lon == 116.0
    assert lat == pytest.approx(40.0 + 0.01 * 0.5 * (north_m + east_m) / north_m, abs=1e-6)
    lon, lat = path.point_at(0.9)
    assert lat == 40.01
    assert lon == pytest.approx(116.0 + 0.01 * (0.9 * (north_m + east_m) - north_m) / east_m)
    assert path.point_at(7.0) == path.point_at(1.0)


def test_demand_draws_calls_on_reachable_roads_by_class_and_hour(geo: Geo, day: dt.date) -> None:
    demand = DemandModel(geo, calls_per_hour=30, rng=np.random.default_rng(7))
    net = geo.network
    peak = epoch_at_clock("08:00", day=day)
    night = epoch_at_clock("03:00", day=day)
    assert demand.rate_per_hour(peak) / demand.rate_per_hour(night) == pytest.approx(
        HOURLY_PROFILE[8] / HOURLY_PROFILE[3]
    )
    midnight = epoch_at_clock("00:30", day=day)
    day_rates = [demand.rate_per_hour(midnight + 3600 * h) for h in range(24)]
    assert np.mean(day_rates) == pytest.approx(30)  # 30 calls an hour over the day
    places = [demand.sample_place(peak) for _ in range(400)]
    lons, lats, _ = zip(*places, strict=True)
    snaps = geo.router.snap_many(lons, lats)
    assert max(s.distance_m for s in snaps) < 1.0  # on the road itself
    reachable = set(demand.edges.tolist())
    assert all(edge in reachable for *_, edge in places)

    def big_road_share(when: float, n: int = 4000) -> float:
        classes = Counter(net.edge_highway(demand.sample_edge(when)) for _ in range(n))
        return sum(v for k, v in classes.items() if k.startswith(("motorway", "trunk"))) / n

    length = net.length_m[demand.edges]
    big = np.isin(demand.edge_class, ["motorway", "motorway_link", "trunk", "trunk_link"])
    length_share = float(length[big].sum() / length.sum())
    assert big_road_share(night) > 1.5 * length_share  # busier roads, more breakdowns
    assert big_road_share(peak) > big_road_share(night)  # and more still at the peaks
    gaps = [demand.gap_s(peak) for _ in range(2000)]
    assert np.mean(gaps) == pytest.approx(3600 / demand.rate_per_hour(peak), rel=0.1)


def test_simulated_calls_are_valid_intakes(center: DispatchCenter) -> None:
    sim = Simulation(center, SimConfig(seed=3, **NO_RANDOM_CALLS))
    jobs = [sim.call(center.now()) for _ in range(12)]
    assert all(jobs) and sim.stats["calls"] == 12
    for job_id in jobs:
        job = center.board.jobs[job_id]
        assert job.state == JobState.ASSIGNED  # confirmed on the proposed best truck
        assert job.intake.fault_category in center.rules.fault_kinds
        assert job.quote is not None
    assert {e.user for e in center.store.events()} == {SIM_USER}


def test_trucks_drive_along_their_road_route_and_jobs_go_through_the_states(
    center: DispatchCenter, clock: ManualClock, make_call: MakeCall, centre: tuple[float, float]
) -> None:
    sim = Simulation(center, SimConfig(seed=1, tow_share=0.0, **NO_RANDOM_CALLS))
    answer = center.intake(make_call(centre, "flat_battery"), user="anna")
    job_id = answer["job"]["id"]
    truck_id = answer["proposal"]["best"]["truck"]
    center.dispatch(job_id, truck_id, user="anna")
    start = center.board.trucks[truck_id].position
    track: list[tuple[float, float]] = []
    legs = []

    def record() -> None:
        job = center.board.jobs[job_id]
        leg = center.drive(truck_id)
        if job.state == JobState.EN_ROUTE and leg is not None:
            legs.append(leg)
            track.append(center.board.trucks[truck_id].position)

    _run(
        sim, clock, until=lambda: center.board.jobs[job_id].state == JobState.ON_SCENE, each=record
    )
    assert len({id(leg) for leg in legs}) == 1  # one route, from departure to arrival
    leg = legs[0]
    assert leg.depart_s == pytest.approx(
        center.board.jobs[job_id].history[0].at_s + center.rules.prep_s, abs=5.0
    )
    line = shapely.LineString(leg.route.geometry["coordinates"])
    along = [line.project(shapely.Point(p)) for p in track]
    off_route_m = max(line.distance(shapely.Point(p)) for p in track) * _M_PER_DEG
    assert off_route_m < 1.0  # on the road route, not a straight line
    assert all(b >= a - 1e-12 for a, b in itertools.pairwise(along))  # forwards
    assert len(track) >= leg.route.travel_s / 5.0 - 2  # a position every tick
    end = leg.route.geometry["coordinates"][-1]
    assert math.dist(center.board.trucks[truck_id].position, end) < 1e-6  # arrived
    assert start != center.board.trucks[truck_id].position
    arrival = center.board.jobs[job_id].history[-1].at_s
    assert arrival == pytest.approx(leg.arrive_s, abs=5.0)

    _run(sim, clock, until=lambda: center.board.jobs[job_id].state == JobState.CLOSED)
    states = [h.state.value for h in center.board.jobs[job_id].history]
    assert states == ["assigned", "en_route", "on_scene", "fixed", "closed"]
    assert center.board.trucks[truck_id].state.value == "idle"
    assert center.drive(truck_id) is None


def test_a_job_the_crew_cannot_fix_is_towed_to_a_shop_by_a_flatbed(
    center: DispatchCenter, clock: ManualClock, make_call: MakeCall, centre: tuple[float, float]
) -> None:
    sim = Simulation(center, SimConfig(seed=2, tow_share=1.0, **NO_RANDOM_CALLS))
    answer = center.intake(make_call(centre, "flat_tyre"), user="anna")
    job_id = answer["job"]["id"]
    service = next(c["truck"] for c in answer["proposal"]["candidates"] if c["kind"] == "service")
    center.dispatch(job_id, service, user="anna")
    _run(sim, clock, step_s=10.0, until=lambda: center.board.jobs[job_id].state == JobState.CLOSED)
    job = center.board.jobs[job_id]
    assert [(h.state.value, h.note) for h in job.history] == [
        ("assigned", f"to {service}"),
        ("en_route", ""),
        ("on_scene", ""),
        ("received", "converted to tow: needs a flatbed"),  # a service vehicle cannot tow
        ("assigned", f"to {job.truck_id}"),
        ("en_route", ""),
        ("on_scene", ""),
        ("towing", ""),
        ("delivered", ""),
        ("closed", ""),
    ]
    flatbed = center.board.trucks[job.truck_id or ""]
    assert flatbed.kind == "flatbed" and flatbed.queue == []
    assert job.needs_tow and job.tow_destination_name and (job.tow_m or 0) > 0
    shop = job.tow_destination
    assert shop is not None
    assert math.dist(flatbed.position, shop) < 0.003  # the truck is at the shop
    assert sim.stats["converted_to_tow"] == 1 and sim.stats["dispatched"] == 1


def test_a_dispatcher_drag_wins_over_the_crew_and_the_sim_goes_on(
    center: DispatchCenter, clock: ManualClock
) -> None:
    sim = Simulation(center, SimConfig(seed=4, tow_share=0.0, **NO_RANDOM_CALLS))
    job_id = sim.call(center.now())
    assert job_id is not None
    job = center.board.jobs[job_id]
    old = job.truck_id
    other = next(
        t.id for t in center.board.trucks.values() if t.kind == job.required_kind and t.id != old
    )
    center.reassign(job_id, other, version=center.version(job_id), user="anna")
    _run(sim, clock, until=lambda: center.board.jobs[job_id].state == JobState.CLOSED)
    history = center.board.jobs[job_id].history
    assert center.board.jobs[job_id].truck_id == other
    assert [h.state.value for h in history] == [
        "assigned",
        "received",
        "assigned",
        "en_route",
        "on_scene",
        "fixed",
        "closed",
    ]
    assert center.board.trucks[old].queue == []


def test_an_hour_of_calls_replays_to_the_same_state(
    geo: Geo, center: DispatchCenter, clock: ManualClock
) -> None:
    sim = Simulation(center, SimConfig(seed=5, calls_per_hour=60))
    end = clock.now() + 3600
    _run(sim, clock, step_s=10.0, until=lambda: clock.now() >= end)
    assert sim.stats["calls"] >= 30
    states = Counter(j.state.value for j in center.board.jobs.values())
    assert states["closed"] > 0 and states["en_route"] + states["on_scene"] > 0
    center.flush_positions()
    again = DispatchCenter.open(
        store=center.store, geo=geo, rules=center.rules, clock=ManualClock(clock.now())
    )
    assert again.replay_report["skipped"] == []
    for job_id, job in center.board.jobs.items():
        twin = again.board.jobs[job_id]
        assert (twin.state, twin.truck_id, twin.history) == (job.state, job.truck_id, job.history)
    for truck_id, truck in center.board.trucks.items():
        assert again.board.trucks[truck_id].queue == truck.queue
        assert again.board.trucks[truck_id].position == pytest.approx(truck.position)
