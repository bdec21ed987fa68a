"""Assigning one job on the real network: ETAs with remaining work, skills, the promise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from geo.errors import InputError
from geo.places import Geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.fleet_file import load_board
from optimizer.dispatch.model import JobState, Truck, TruckState
from optimizer.dispatch.promise import check_promise
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
TIANANMEN = (116.3975, 39.9087)
QIANMEN = (116.3980, 39.8990)
ZHONGGUANCUN = (116.3165, 39.9995)
SHANGDI = (116.305, 40.033)
TONGZHOU_WEST = (116.59, 39.90)


def _truck(
    truck_id: str, kind: str, at: tuple[float, float], *, state: TruckState = TruckState.IDLE
) -> Truck:
    return Truck(
        id=truck_id,
        kind=kind,
        plate=f"京A·{truck_id}",
        crew=["张伟"],
        home_base=at,
        position=at,
        state=state,
    )  # type: ignore[arg-type]


@pytest.fixture
def board_of(geo: Geo, business_rules: Rules, shops: Shops):  # type: ignore[no-untyped-def]
    def build(*trucks: Truck) -> DispatchBoard:
        return DispatchBoard(geo, business_rules, shops, trucks)

    return build


def _travel_s(geo: Geo, a: object, b: object, band: str) -> float:
    return float(geo.router.travel_times_from(a, [b], band=band)[0])  # type: ignore[arg-type]


def test_a_busy_trucks_eta_counts_its_remaining_work(
    board_of, geo: Geo, business_rules: Rules, make_call: MakeCall
) -> None:  # type: ignore[no-untyped-def]
    now = epoch_at_clock("03:00")
    board = board_of(_truck("A", "service", TIANANMEN), _truck("B", "service", TIANANMEN))
    board.register_call(make_call(ZHONGGUANCUN), now_s=now, job_id="J0")
    board.assign("J0", "A", now_s=now)
    board.advance("J0", "en_route", now_s=now)
    job = board.register_call(make_call(QIANMEN), now_s=now, job_id="J1")
    proposal = board.propose("J1", now_s=now)

    by_truck = {c.truck: c for c in proposal.candidates}
    here = board.truck_snap("A")
    far = board.jobs["J0"].snap
    expected_wait = _travel_s(geo, here, far, "night") + business_rules.on_site_service_s
    assert by_truck["A"].wait_s == pytest.approx(expected_wait, rel=1e-9)
    expected_eta = expected_wait + business_rules.prep_s + _travel_s(geo, far, job.snap, "night")
    assert by_truck["A"].eta_s == pytest.approx(expected_eta, rel=1e-9)
    assert by_truck["B"].wait_s == 0
    assert by_truck["B"].eta_s == pytest.approx(
        business_rules.prep_s + _travel_s(geo, here, job.snap, "night"), rel=1e-9
    )
    assert proposal.best is not None and proposal.best.truck == "B"


def test_a_tow_under_way_counts_until_delivery(
    board_of, geo: Geo, business_rules: Rules, make_call: MakeCall
) -> None:  # type: ignore[no-untyped-def]
    now = epoch_at_clock("03:00")
    board = board_of(_truck("F", "flatbed", TIANANMEN))
    board.register_call(make_call(TIANANMEN, "engine_failure"), now_s=now, job_id="J0")
    board.assign("J0", "F", now_s=now)
    for state in ("en_route", "on_scene", "towing"):
        board.advance("J0", state, now_s=now)
    assert board.trucks["F"].state == TruckState.TOWING
    tow = board.jobs["J0"]
    board.register_call(make_call(QIANMEN), now_s=now, job_id="J1")
    best = board.propose("J1", now_s=now).best
    assert best is not None
    to_shop = _travel_s(geo, board.truck_snap("F"), tow.destination_snap, "night")
    assert best.wait_s == pytest.approx(to_shop + business_rules.tow_unload_s, rel=1e-9)


def test_skills_a_service_vehicle_never_gets_a_tow(board_of, make_call: MakeCall) -> None:  # type: ignore[no-untyped-def]
    now = epoch_at_clock("12:00")
    board = board_of(
        _truck("S", "service", QIANMEN),
        _truck("F", "flatbed", ZHONGGUANCUN),
        _truck("OFF", "flatbed", QIANMEN, state=TruckState.OFF_DUTY),
    )
    board.register_call(make_call(TIANANMEN, "accident_damage"), now_s=now, job_id="TOW")
    board.register_call(make_call(TIANANMEN, "flat_tyre"), now_s=now, job_id="FIX")
    assert [c.truck for c in board.propose("TOW", now_s=now).candidates] == ["F"]
    assert [c.truck for c in board.propose("FIX", now_s=now).candidates] == ["S", "F"]
    with pytest.raises(
        InputError, match="truck_id='S': is a service truck and job TOW needs a flatbed"
    ):
        board.assign("TOW", "S", now_s=now)
    with pytest.raises(InputError, match="truck_id='OFF': is off duty"):
        board.assign("TOW", "OFF", now_s=now)
    assert board.jobs["TOW"].state == JobState.RECEIVED and board.trucks["S"].queue == []


def test_no_suitable_truck(board_of, make_call: MakeCall) -> None:  # type: ignore[no-untyped-def]
    now = epoch_at_clock("12:00")
    board = board_of(_truck("S", "service", QIANMEN))
    board.register_call(make_call(TIANANMEN, "overturned"), now_s=now, job_id="J")
    proposal = board.propose("J", now_s=now)
    assert (
        proposal.best is None
        and proposal.status == "late"
        and proposal.reason == "no_suitable_truck"
    )
    assert "没有可派" in proposal.script_zh


def test_congestion_breaks_the_promise_at_the_evening_peak(
    board_of, business_rules: Rules, make_call: MakeCall
) -> None:  # type: ignore[no-untyped-def]
    # Zhongguancun -> Tiananmen: about 25 min at night, over 50 min at the evening peak.
    board = board_of(_truck("Z", "service", ZHONGGUANCUN))
    night, peak = epoch_at_clock("03:00"), epoch_at_clock("18:00")
    board.register_call(make_call(TIANANMEN), now_s=night, job_id="NIGHT")
    assert board.propose("NIGHT", now_s=night).status == "on_time"
    board.register_call(make_call(TIANANMEN), now_s=peak, job_id="PEAK")
    proposal = board.propose("PEAK", now_s=peak)
    assert proposal.status == "late" and proposal.reason == "congestion"
    assert "堵车" in proposal.script_zh and "congestion" in proposal.script_en


def test_distance_breaks_the_promise_even_at_night(board_of, make_call: MakeCall) -> None:  # type: ignore[no-untyped-def]
    night = epoch_at_clock("03:00")
    board = board_of(_truck("FAR", "service", SHANGDI))
    board.register_call(make_call(TONGZHOU_WEST), now_s=night, job_id="J")
    proposal = board.propose("J", now_s=night)
    assert proposal.status in ("at_risk", "late") and proposal.reason == "distance"


def test_all_suitable_busy(board_of, make_call: MakeCall) -> None:  # type: ignore[no-untyped-def]
    night = epoch_at_clock("03:00")
    board = board_of(_truck("A", "service", TIANANMEN))
    board.register_call(make_call(TONGZHOU_WEST), now_s=night, job_id="J0")
    board.assign("J0", "A", now_s=night)
    board.register_call(make_call(QIANMEN), now_s=night, job_id="J1")
    proposal = board.propose("J1", now_s=night)
    assert proposal.status == "late" and proposal.reason == "all_suitable_busy"
    assert "正在执行救援任务" in proposal.script_zh


def test_at_risk_within_five_minutes_of_the_deadline(
    board_of, business_rules: Rules, make_call: MakeCall
) -> None:  # type: ignore[no-untyped-def]
    now = epoch_at_clock("12:00")
    board = board_of(_truck("Z", "service", ZHONGGUANCUN))
    board.register_call(make_call(TIANANMEN), now_s=now, job_id="PROBE")
    eta_s = board.propose("PROBE", now_s=now).candidates[0].eta_s
    # A call that came in earlier, so that arrival falls 2 minutes before its deadline.
    created = now + eta_s + 120 - business_rules.promise_s
    board.register_call(make_call(TIANANMEN, created_at=created), now_s=now, job_id="J")
    proposal = board.propose("J", now_s=now)
    assert proposal.status == "at_risk"
    assert proposal.reason in ("congestion", "distance")


def test_candidates_are_the_best_and_the_next_five(
    geo: Geo, business_rules: Rules, shops: Shops, make_call: MakeCall
) -> None:
    now = epoch_at_clock("12:00")
    board = load_board(None, geo=geo, rules=business_rules, now_s=now, shops=shops)
    board.register_call(make_call(TIANANMEN), now_s=now, job_id="J")
    proposal = board.propose("J", now_s=now)
    etas = [c.eta_s for c in proposal.candidates]
    assert len(etas) == 6 and etas == sorted(etas)
    assert proposal.best == proposal.candidates[0]


def test_promise_of_an_assigned_job_behind_other_work(board_of, make_call: MakeCall) -> None:  # type: ignore[no-untyped-def]
    night = epoch_at_clock("03:00")
    board = board_of(_truck("A", "service", TIANANMEN))
    board.register_call(make_call(TONGZHOU_WEST), now_s=night, job_id="FIRST")
    board.register_call(make_call(QIANMEN), now_s=night, job_id="SECOND")
    board.assign("FIRST", "A", now_s=night)
    board.assign("SECOND", "A", now_s=night)
    first = check_promise(board, board.jobs["FIRST"], now_s=night)
    second = check_promise(board, board.jobs["SECOND"], now_s=night)
    assert first is not None and second is not None
    assert second.status == "late" and second.reason == "all_suitable_busy"
    assert second.eta_at_s == board.plan("A", now_s=night).arrivals_s["SECOND"]
    assert first.eta_at_s is not None and first.eta_at_s < second.eta_at_s
    board.advance("FIRST", "en_route", now_s=night)
    board.advance("FIRST", "on_scene", now_s=night + 1)
    assert check_promise(board, board.jobs["FIRST"], now_s=night + 1) is None  # reached
