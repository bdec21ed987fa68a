"""The dispatch board's operations on the real network: intake to delivery."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geo.errors import InputError
from geo.places import Geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.clock import epoch_at_clock
from optimizer.dispatch.fleet_file import board_from_fleet, load_board
from optimizer.dispatch.model import JobState, Truck, TruckState
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from rescue.cli import main

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
TIANANMEN = (116.3975, 39.9087)
QIANMEN = (116.3980, 39.8990)
NOW = epoch_at_clock("10:00")


@pytest.fixture
def board(geo: Geo, business_rules: Rules, shops: Shops) -> DispatchBoard:
    trucks = [
        Truck("S", "service", "京A·S1", ["王强"], QIANMEN, QIANMEN),
        Truck("F", "flatbed", "京A·F1", ["李军"], QIANMEN, QIANMEN),
    ]
    return DispatchBoard(geo, business_rules, shops, trucks)


def test_intake_places_triages_and_quotes(board: DispatchBoard, make_call: MakeCall) -> None:
    job = board.register_call(
        make_call(
            TIANANMEN,
            "gearbox_failure",
            member=False,
            member_card=None,
            customer_need="tow to a garage",
        ),
        now_s=NOW,
        job_id="J",
    )
    assert job.required_kind == "flatbed"
    assert job.placement is not None and job.placement.zone == "inside_5th_ring"
    assert job.tow_destination_name.startswith("示例维修店")  # nearest group shop (§4)
    assert job.quote is not None and job.quote.items[0].code == "callout"
    assert job.deadline_s == NOW + 40 * 60


def test_customer_named_tow_destination_wins(board: DispatchBoard, make_call: MakeCall) -> None:
    job = board.register_call(
        make_call(
            TIANANMEN, "flat_tyre", tow_destination=[116.3165, 39.9995], tow_destination_name="4S店"
        ),
        now_s=NOW,
        job_id="J",
    )
    assert job.required_kind == "flatbed" and job.tow_destination_name == "4S店"
    assert job.tow_m is not None and 12_000 < job.tow_m < 25_000


def test_service_job_unfixable_on_site_converts_to_a_tow_needing_a_flatbed(
    board: DispatchBoard, make_call: MakeCall
) -> None:
    board.register_call(make_call(TIANANMEN, "minor_electrical"), now_s=NOW, job_id="J")
    board.assign("J", "S", now_s=NOW)
    board.advance("J", "en_route", now_s=NOW + 60)
    board.advance("J", "on_scene", now_s=NOW + 600)
    assert board.trucks["S"].state == TruckState.ON_SCENE
    job = board.convert_to_tow("J", now_s=NOW + 900)
    assert (
        job.state == JobState.RECEIVED and job.required_kind == "flatbed" and job.truck_id is None
    )
    assert board.trucks["S"].queue == [] and board.trucks["S"].state == TruckState.IDLE
    assert job.quote is not None and job.quote.billed_tow_km is not None
    assert [c.truck for c in board.propose("J", now_s=NOW + 900).candidates] == ["F"]


def test_a_flatbed_on_scene_tows_the_car_itself(board: DispatchBoard, make_call: MakeCall) -> None:
    board.register_call(make_call(TIANANMEN, "flat_battery"), now_s=NOW, job_id="J")
    board.assign("J", "F", now_s=NOW)
    board.advance("J", "en_route", now_s=NOW)
    board.advance("J", "on_scene", now_s=NOW + 300)
    with pytest.raises(InputError, match="has no tow; convert it to a tow first"):
        board.advance("J", "towing", now_s=NOW + 400)
    board.convert_to_tow("J", now_s=NOW + 400)
    for state in ("towing", "delivered", "closed"):
        board.advance("J", state, now_s=NOW + 500)
    assert board.jobs["J"].state == JobState.CLOSED
    assert board.trucks["F"].queue == [] and board.trucks["F"].state == TruckState.IDLE


def test_reassign_moves_the_job_between_queues(board: DispatchBoard, make_call: MakeCall) -> None:
    board.register_call(make_call(TIANANMEN), now_s=NOW, job_id="J")
    board.assign("J", "S", now_s=NOW)
    board.advance("J", "en_route", now_s=NOW)
    board.reassign("J", "F", now_s=NOW + 30)
    assert board.jobs["J"].truck_id == "F" and board.jobs["J"].state == JobState.ASSIGNED
    assert board.trucks["S"].queue == [] and board.trucks["F"].queue == ["J"]
    assert board.trucks["S"].state == TruckState.IDLE
    with pytest.raises(InputError, match="already on this truck"):
        board.reassign("J", "F", now_s=NOW + 40)


def test_a_truck_finishes_its_current_job_first(board: DispatchBoard, make_call: MakeCall) -> None:
    for job_id in ("J1", "J2"):
        board.register_call(make_call(TIANANMEN), now_s=NOW, job_id=job_id)
        board.assign(job_id, "S", now_s=NOW)
    with pytest.raises(InputError, match="truck S must finish job J1 first"):
        board.advance("J2", "en_route", now_s=NOW)


def test_unknown_ids_are_named(board: DispatchBoard, make_call: MakeCall) -> None:
    with pytest.raises(InputError, match="job_id='nope': no such job"):
        board.advance("nope", "closed", now_s=NOW)
    board.register_call(make_call(TIANANMEN), now_s=NOW, job_id="J")
    with pytest.raises(InputError, match="truck_id=42: no such truck"):
        board.assign("J", 42, now_s=NOW)  # type: ignore[arg-type]


def test_fleet_file_replays_work_through_the_state_machine(
    geo: Geo, business_rules: Rules, shops: Shops, make_call: MakeCall
) -> None:
    fleet = {
        "trucks": [
            {
                "id": "F",
                "kind": "flatbed",
                "position": list(QIANMEN),
                "work": [{**make_call(TIANANMEN, "engine_failure"), "id": "W1", "state": "towing"}],
            }
        ]
    }
    board = board_from_fleet(fleet, geo=geo, rules=business_rules, shops=shops, now_s=NOW)
    assert (
        board.jobs["W1"].state == JobState.TOWING and board.trucks["F"].state == TruckState.TOWING
    )
    bad = {"trucks": [{"id": "F", "kind": "crane", "position": list(QIANMEN)}]}
    with pytest.raises(InputError, match=r"trucks\[0\]\.kind='crane'"):
        board_from_fleet(bad, geo=geo, rules=business_rules, shops=shops, now_s=NOW)


def test_sample_fleet_loads(geo: Geo, business_rules: Rules, shops: Shops) -> None:
    board = load_board(None, geo=geo, rules=business_rules, now_s=NOW, shops=shops)
    kinds = [t.kind for t in board.trucks.values()]
    assert 35 <= len(kinds) <= 50 and {"service", "flatbed"} == set(kinds)


def test_cli_assign(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make_call: MakeCall
) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps({"id": "J9", **make_call(TIANANMEN, "stuck")}), encoding="utf-8")
    assert (
        main(["assign", "--fleet", "data/fleet.json", "--job", str(job_file), "--at", "18:00"]) == 0
    )
    answer = json.loads(capsys.readouterr().out)
    assert answer["required_kind"] == "flatbed" and answer["band"] == "evening_peak"
    assert answer["best"]["kind"] == "flatbed"
    assert {"truck", "kind", "eta_s", "status", "reason"} <= set(answer["candidates"][0])
    job_file.write_text(json.dumps(make_call(TIANANMEN, "stuck", created_at=-1)), encoding="utf-8")
    assert main(["assign", "--fleet", "data/fleet.json", "--job", str(job_file)]) == 2
    assert "created_at=-1" in json.loads(capsys.readouterr().err)["error"]
    assert main(["assign", "--fleet", str(tmp_path / "none.json"), "--job", str(job_file)]) == 2
    assert "file not found" in json.loads(capsys.readouterr().err)["error"]


def test_the_fleet_view_kept_in_place_equals_one_built_afresh(
    geo: Geo, business_rules: Rules, shops: Shops, make_call: MakeCall
) -> None:
    """GPS moves, dispatches, jobs driven on, trucks off and on duty: after each, the view
    refreshed in place holds what a view built from scratch holds."""
    now = epoch_at_clock("18:00")
    board = load_board(None, geo=geo, rules=business_rules, now_s=now, shops=shops)
    rng = np.random.default_rng(11)
    ids = sorted(board.trucks)

    def assert_fresh() -> None:
        kept = board.view(now_s=now)
        board._fleet_changed()
        fresh = board.view(now_s=now)
        assert kept.truck_ids == fresh.truck_ids
        rows = [kept.row_of[t] for t in fresh.truck_ids]
        idle = np.array([not board.trucks[t].queue for t in fresh.truck_ids])
        np.testing.assert_array_equal(kept.free_at_s[rows][~idle], fresh.free_at_s[~idle])
        assert (kept.free_at_s[rows][idle] <= now).all()  # idle: free already
        for name in ("edge", "fraction", "twin"):
            np.testing.assert_array_equal(
                getattr(kept.free_snaps, name)[rows], getattr(fresh.free_snaps, name)
            )

    board.view(now_s=now)
    for step in range(12):
        now += 30.0
        moves = {
            t: (board.trucks[t].position[0] + float(dx), board.trucks[t].position[1] + float(dy))
            for t, (dx, dy) in zip(ids, rng.uniform(-3e-4, 3e-4, (len(ids), 2)), strict=True)
        }
        board.move_trucks(moves)
        assert_fresh()
        place = (TIANANMEN[0] + step * 0.01, TIANANMEN[1] - step * 0.005)
        board.register_call(make_call(place), now_s=now, job_id=f"J{step}")
        proposal = board.propose(f"J{step}", now_s=now)
        assert proposal.best is not None
        board.assign(f"J{step}", proposal.best.truck, now_s=now)
        assert_fresh()
        if step % 3 == 2:
            board.advance(f"J{step - 1}", "en_route", now_s=now)
            idle = next(t for t in ids if not board.trucks[t].queue)
            board.set_on_duty(idle, step % 2 == 0)
            assert_fresh()
