"""Live re-planning of the board's open work on the real network."""

from __future__ import annotations

import pytest
from calls import make_call

from geo.places import Geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.model import JobState, Truck
from optimizer.dispatch.replan import apply_replan, build_live_problem, replan
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from optimizer.vrp.problem import parse_problem

NOW = epoch_at_clock("18:00")
PLACES = {
    "tiananmen": (116.3975, 39.9087),
    "qianmen": (116.3980, 39.8990),
    "zhongguancun": (116.3165, 39.9995),
    "guomao": (116.4590, 39.9087),
    "wangjing": (116.4700, 39.9970),
    "liuliqiao": (116.3090, 39.8830),
}


@pytest.fixture
def board(geo: Geo, business_rules: Rules, shops: Shops) -> DispatchBoard:
    trucks = [
        Truck("S1", "service", "", [], PLACES["qianmen"], PLACES["qianmen"]),
        Truck("S2", "service", "", [], PLACES["wangjing"], PLACES["wangjing"]),
        Truck("F1", "flatbed", "", [], PLACES["liuliqiao"], PLACES["liuliqiao"]),
        Truck("F2", "flatbed", "", [], PLACES["guomao"], PLACES["guomao"]),
    ]
    board = DispatchBoard(geo, business_rules, shops, trucks)
    board.register_call(
        make_call(PLACES["tiananmen"], "engine_failure"), now_s=NOW, job_id="TOWING"
    )
    board.assign("TOWING", "F2", now_s=NOW)
    for state in ("en_route", "on_scene", "towing"):
        board.advance("TOWING", state, now_s=NOW)
    board.register_call(make_call(PLACES["zhongguancun"], "flat_tyre"), now_s=NOW, job_id="ENROUTE")
    board.assign("ENROUTE", "S2", now_s=NOW)
    board.advance("ENROUTE", "en_route", now_s=NOW)
    for i, (name, fault) in enumerate(
        [
            ("tiananmen", "flat_battery"),
            ("guomao", "stuck"),
            ("wangjing", "out_of_fuel"),
            ("qianmen", "gearbox_failure"),
        ]
    ):
        board.register_call(make_call(PLACES[name], fault), now_s=NOW, job_id=f"NEW{i}")
    return board


def test_live_problem_is_valid_vroom_with_work_under_way(board: DispatchBoard) -> None:
    live = build_live_problem(board, now_s=NOW)
    problem = parse_problem(live.problem)
    vehicles = {live.truck_of_vehicle[v["id"]]: v for v in live.problem["vehicles"]}
    towing_steps = vehicles["F2"]["steps"]
    assert towing_steps[0]["type"] == "delivery"
    assert live.job_of_task[towing_steps[0]["id"]] == "TOWING"
    assert [live.job_of_task[s["id"]] for s in vehicles["S2"]["steps"]] == ["ENROUTE"]
    assert vehicles["S2"]["steps"][0]["pinned"] is True
    size = len(live.problem["matrices"]["car"]["durations"])
    assert problem.num_locations == size
    promises = {live.job_of_task[j["id"]]: j["promise"] for j in live.problem["jobs"]}
    assert promises["NEW0"] == 40 * 60


def test_replan_serves_every_call_with_suitable_trucks(board: DispatchBoard) -> None:
    result = replan(board, now_s=NOW, time_limit_s=2.0)
    assert result.unassigned == []
    planned = {job: truck for truck, jobs in result.queues.items() for job in jobs}
    for job_id in ("NEW1", "NEW3"):  # tows: flatbeds only
        assert planned[job_id] in ("F1", "F2")
    assert planned["ENROUTE"] == "S2"  # the crew on its way keeps its job
    moved = apply_replan(board, result.queues, now_s=NOW)
    assert set(moved) <= {"NEW0", "NEW1", "NEW2", "NEW3"}
    for job_id, truck_id in planned.items():
        assert board.jobs[job_id].truck_id == truck_id
        assert job_id in board.trucks[truck_id].queue
    assert board.trucks["F2"].queue[0] == "TOWING"  # the car on board is delivered first
    assert board.jobs["NEW0"].state == JobState.ASSIGNED


def test_a_dispatchers_choice_is_kept(board: DispatchBoard) -> None:
    board.assign("NEW0", "S2", now_s=NOW)
    board.reassign("NEW0", "S1", now_s=NOW)  # a drag pins it
    result = replan(board, now_s=NOW, time_limit_s=1.0)
    assert "NEW0" in result.queues["S1"]
