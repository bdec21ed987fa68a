"""Live re-planning of the board's open work on the real network."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from geo.places import Geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.model import JobState, Truck
from optimizer.dispatch.replan import apply_replan, build_live_problem, replan
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from optimizer.vrp.problem import parse_problem
from optimizer.vrp.writer import problem_to_json

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
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
def board(geo: Geo, business_rules: Rules, shops: Shops, make_call: MakeCall) -> DispatchBoard:
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
    problem = parse_problem(problem_to_json(live.problem))  # VROOM JSON that parses back
    vehicles = {live.truck_of_vehicle[v.id]: v for v in problem.vehicles}
    towing_steps = vehicles["F2"].steps
    assert towing_steps[0].type == "delivery"
    assert live.job_of_task[towing_steps[0].id] == "TOWING"
    assert vehicles["S2"].steps == ()  # its crew is on its way: S2 starts at that job
    assert "ENROUTE" not in live.job_of_task.values()
    size = len(live.problem.matrices["car"].durations_s)
    assert problem.num_locations == size
    promises = {live.job_of_task[j.id]: j.promise_s for j in problem.jobs}
    assert promises["NEW0"] == 40 * 60


def test_replan_serves_every_call_with_suitable_trucks(board: DispatchBoard) -> None:
    result = replan(board, now_s=NOW, time_limit_s=2.0)
    assert result.unassigned == []
    planned = {job: truck for truck, jobs in result.queues.items() for job in jobs}
    for job_id in ("NEW1", "NEW3"):  # tows: flatbeds only
        assert planned[job_id] in ("F1", "F2")
    assert "ENROUTE" not in planned  # the crew on its way keeps its job...
    moved = apply_replan(board, result.queues, now_s=NOW)
    assert set(moved) <= {"NEW0", "NEW1", "NEW2", "NEW3"}
    for job_id, truck_id in planned.items():
        assert board.jobs[job_id].truck_id == truck_id
        assert job_id in board.trucks[truck_id].queue
    assert board.trucks["S2"].queue[0] == "ENROUTE"  # ...first on its truck
    assert board.trucks["F2"].queue[0] == "TOWING"  # the car on board is delivered first
    assert board.jobs["NEW0"].state == JobState.ASSIGNED


def test_a_dispatchers_choice_is_kept(board: DispatchBoard) -> None:
    board.assign("NEW0", "S2", now_s=NOW)
    board.reassign("NEW0", "S1", now_s=NOW)  # a drag pins it
    result = replan(board, now_s=NOW, time_limit_s=1.0)
    assert "NEW0" in result.queues["S1"]


def _dispatch_one_at_a_time(board: DispatchBoard) -> None:
    for job_id, job in list(board.jobs.items()):
        if job.state == JobState.RECEIVED:
            best = board.propose(job_id, now_s=NOW).best
            assert best is not None
            board.assign(job_id, best.truck, now_s=NOW)


def test_the_solvers_arrivals_are_the_boards_predictions(board: DispatchBoard) -> None:
    """One rule for a prediction: for the plan the re-plan returns, each job's arrival in
    the solver's answer (seconds from now) is the board's own prediction once applied,
    a crew already on its way included (no preparation added for it)."""
    result = replan(board, now_s=NOW, time_limit_s=1.0)
    live = build_live_problem(board, now_s=NOW)
    task_of_job = {job_id: task for task, job_id in live.job_of_task.items()}
    arrival_s = {
        live.job_of_task[step["id"]]: step["arrival"]
        for route in result.solution["routes"]
        for step in route["steps"]
        if step["type"] in ("job", "pickup")
    }
    apply_replan(board, result.queues, now_s=NOW)
    predicted: dict[str, float] = {}
    for truck_id in board.trucks:
        predicted.update(board.plan(truck_id, now_s=NOW).arrivals_s)
    predicted.pop("ENROUTE")  # the job in hand is the trucks' start, not a task
    assert set(arrival_s) == set(predicted) == {"NEW0", "NEW1", "NEW2", "NEW3"}
    assert task_of_job.keys() >= predicted.keys()
    for job_id, at_s in predicted.items():
        # the matrix holds whole seconds: one rounding per leg driven
        assert arrival_s[job_id] == pytest.approx(at_s - NOW, abs=3), job_id
    assert board.trucks["S2"].queue[0] == "ENROUTE"


def test_too_little_time_gives_the_boards_plan_back_unchanged(board: DispatchBoard) -> None:
    _dispatch_one_at_a_time(board)
    queues = {truck_id: list(truck.queue) for truck_id, truck in board.trucks.items()}
    result = replan(board, now_s=NOW, time_limit_s=0.001, min_solver_s=0.001)
    assert not result.improved
    assert result.score == result.board_score
    moved = apply_replan(board, result.queues, now_s=NOW)
    assert moved == []
    assert {t: list(truck.queue) for t, truck in board.trucks.items()} == queues


def test_a_plan_is_offered_only_when_it_beats_the_board(board: DispatchBoard) -> None:
    result = replan(board, now_s=NOW, time_limit_s=1.0)
    assert result.improved  # four calls waiting: serving them beats leaving them
    assert result.board_score.unserved == 4 and result.score.unserved == 0
    assert result.score.key() <= result.one_at_a_time_score.key()
    apply_replan(board, result.queues, now_s=NOW)
    again = replan(board, now_s=NOW, time_limit_s=1.0)
    assert again.board_score == result.score  # the plan applied is the plan scored
    assert again.score.key() <= again.board_score.key()
