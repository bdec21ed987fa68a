"""The fleet planners' simulated day (optimizer/simulate, ``rescue simulate``) on the real
Beijing network: a three-call day worked out by hand, every policy on a small day, the
coverage policy's choice, determinism and the command's refusals."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from geo.config import data_dir
from geo.errors import InputError
from geo.places import Geo
from optimizer.crews import CrewConfig
from optimizer.dispatch.fleet_file import board_from_fleet, read_json
from optimizer.dispatch.quote import billed_km
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.shops import Shops
from optimizer.simulate.calls import SimCall, day_start_s, draw_calls
from optimizer.simulate.day import PolicyDay, simulate_policy
from optimizer.simulate.policies import POLICY_NAMES, KeepCoverage, Nearest
from rescue.cli import main

MADIAN = (116.377198, 39.97133)  # a base of data/fleet.json
GUOMAO = (116.462061, 39.895827)  # another
XINJIEKOU = (116.354638, 39.94067)  # another, 4 km south-west of Madian
NO_CREW_CHANCE = CrewConfig(tow_share=0.0, service_spread=0.0)


def _truck(truck_id: str, kind: str, base: tuple[float, float]) -> dict[str, Any]:
    return {"id": truck_id, "kind": kind, "position": list(base), "home_base": list(base)}


def _non_member(**fields: Any) -> dict[str, Any]:
    return {"member": False, "customer_need": "fix or tow", **fields}


def _nearest_day(
    fleet: dict[str, Any],
    calls: list[SimCall],
    window_s: tuple[float, float],
    geo: Geo,
    rules: Rules,
    shops: Shops,
) -> PolicyDay:
    """The ``nearest`` policy's day with crews that take the rules' times exactly."""
    return simulate_policy(
        "nearest",
        fleet,
        calls,
        geo=geo,
        rules=rules,
        shops=shops,
        window_s=window_s,
        seed=1,
        crew=NO_CREW_CHANCE,
    )


def test_a_three_call_day_worked_out_by_hand(
    geo: Geo,
    business_rules: Rules,
    shops: Shops,
    make_call: Callable[..., dict[str, Any]],
) -> None:
    """A service truck at Madian, a flatbed at Guomao, on a weekday from 10:00 (daytime):

    1. 10:05 a member's flat battery 1.5 km east of Madian: the service truck (nearest),
       on scene after preparation plus the road time; member on site: free.
    2. 10:10 a non-member's engine failure near Guomao, towed to the customer's garage:
       the flatbed; call-out inside the 5th ring plus the billed tow km at the
       non-member's rate; tow km = the shortest road distance.
    3. 12:00 a non-member's flat tyre near Guomao: by then the flatbed has delivered the
       car and driven home, so it comes from its base (a flatbed may service); call-out.
    """
    start_s = day_start_s("10:00")
    scene1, scene2, garage, scene3 = (
        (116.392, 39.9745),
        (116.470, 39.902),
        (116.440, 39.925),
        (116.455, 39.889),
    )
    calls = [
        SimCall(start_s + 300, make_call(scene1, "flat_battery")),
        SimCall(
            start_s + 600,
            make_call(scene2, "engine_failure", **_non_member(tow_destination=list(garage))),
        ),
        SimCall(start_s + 7200, make_call(scene3, "flat_tyre", **_non_member())),
    ]
    fleet = {"trucks": [_truck("S1", "service", MADIAN), _truck("F1", "flatbed", GUOMAO)]}
    day = _nearest_day(fleet, calls, (start_s, start_s + 4 * 3600), geo, business_rules, shops)

    def road_s(origin: tuple[float, float], dest: tuple[float, float]) -> float:
        from_snap, to_snap = geo.router.snap(*origin), geo.router.snap(*dest)
        return float(geo.router.travel_times_from(from_snap, [to_snap], band="daytime")[0])

    prep_s, fees = business_rules.prep_s, business_rules.fees
    expected_s = [
        prep_s + road_s(MADIAN, scene1),
        prep_s + road_s(GUOMAO, scene2),
        prep_s + road_s(GUOMAO, scene3),
    ]
    tow_m = geo.router.shortest_length_m(geo.router.snap(*scene2), geo.router.snap(*garage))
    tow_km = billed_km(tow_m, fees)
    assert tow_km == math.ceil(round(tow_m / 1000.0, 1))
    expected_yuan = [
        fees.member_on_site_yuan,
        fees.non_member_callout_inside_5th_yuan + tow_km * fees.non_member_tow_per_km_yuan,
        fees.non_member_callout_inside_5th_yuan,
    ]
    got = day.outcomes
    assert [a.truck_id for a in day.result.assignments] == ["S1", "F1", "F1"]
    assert [c.response_s for c in got] == pytest.approx(expected_s, abs=0.01)
    assert [c.on_time for c in got] == [s <= business_rules.promise_s for s in expected_s]
    assert all(c.on_time for c in got)
    assert [c.revenue_yuan for c in got] == expected_yuan
    assert day.kpis["tow_km"] == round(tow_m / 1000.0, 1)
    assert day.kpis["revenue_yuan"] == sum(expected_yuan)
    assert day.kpis["on_time_rate"] == 1.0
    assert day.result.board.trucks["F1"].position == GUOMAO  # home again at the end
    assert day.result.board.trucks["S1"].position == MADIAN


@pytest.fixture(scope="module")
def small_day(geo: Geo, business_rules: Rules) -> tuple[list[SimCall], tuple[float, float]]:
    start_s = day_start_s("17:00")
    calls = draw_calls(geo, business_rules, count=40, start_s=start_s, hours=2.0, seed=5)
    return calls, (start_s, start_s + 2 * 3600.0)


@pytest.mark.parametrize("policy", POLICY_NAMES)
def test_every_policy_serves_every_call_of_a_small_day(
    policy: str,
    geo: Geo,
    business_rules: Rules,
    shops: Shops,
    small_day: tuple[list[SimCall], tuple[float, float]],
) -> None:
    calls, window_s = small_day
    fleet = read_json(data_dir() / "fleet.json", field="fleet")
    day = simulate_policy(
        policy,
        fleet,
        calls,
        geo=geo,
        rules=business_rules,
        shops=shops,
        window_s=window_s,
        seed=5,
    )
    assert day.kpis["calls"] == day.kpis["served"] == len(calls)
    assert day.kpis["unserved"] == 0
    assert 0.0 < day.kpis["on_time_rate"] <= 1.0
    assert all(j.state.value == "closed" for j in day.result.board.jobs.values())
    assert sum(z["calls"] for z in day.kpis["by_zone"].values()) == len(calls)
    assert sum(b["calls"] for b in day.kpis["by_band"].values()) == len(calls)
    assert set(day.kpis["by_band"]) == {"evening_peak"}
    if policy == "nearest_idle":
        assert not any(a.truck_was_busy for a in day.result.assignments)


def test_coverage_sends_the_truck_whose_base_stays_covered(
    geo: Geo,
    business_rules: Rules,
    shops: Shops,
    make_call: Callable[..., dict[str, Any]],
) -> None:
    """Two trucks at Madian, one at Xinjiekou; a call 1 km from Xinjiekou. Nearest sends
    the lone Xinjiekou truck; keep-coverage sends a Madian truck (it can keep the promise,
    and Madian stays covered by the other one), leaving Xinjiekou's area covered."""
    now_s = day_start_s("10:00")
    fleet = {
        "trucks": [
            _truck("M1", "service", MADIAN),
            _truck("M2", "service", MADIAN),
            _truck("X1", "service", XINJIEKOU),
        ]
    }
    board = board_from_fleet(fleet, geo=geo, rules=business_rules, shops=shops, now_s=now_s)
    board.register_call(make_call((116.348, 39.933)), now_s=now_s, job_id="C1")
    policy = KeepCoverage(geo, [MADIAN, XINJIEKOU])
    proposal = board.propose("C1", now_s=now_s)
    losses = dict(
        zip(
            [c.truck for c in proposal.candidates],
            policy.losses(board, proposal.candidates, now_s=now_s),
            strict=True,
        )
    )
    assert losses["M1"] == losses["M2"] == 0.0  # the other Madian truck still covers
    assert losses["X1"] > 0.0
    assert Nearest().choose(board, "C1", now_s=now_s) == "X1"
    chosen = policy.choose(board, "C1", now_s=now_s)
    assert chosen in ("M1", "M2")
    assert proposal.candidate(chosen) is not None
    assert proposal.candidate(chosen).status != "late"  # type: ignore[union-attr]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_same_seed_gives_the_same_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    argv = [
        "simulate", "--fleet", "data/fleet.json", "--calls", "25", "--start", "07:00",
        "--hours", "2", "--policy", "nearest,nearest_idle,replan,coverage", "--seed", "3",
    ]  # fmt: skip
    first, second = _run(argv, capsys), _run(argv, capsys)
    assert first[0] == second[0] == 0
    assert first[1] == second[1]
    answer = json.loads(first[1])
    assert list(answer["policies"]) == ["nearest", "nearest_idle", "replan", "coverage"]
    assert all(p["calls"] == 25 for p in answer["policies"].values())


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--calls", "0"),
        ("--calls", "-3"),
        ("--calls", "100000000"),
        ("--hours", "0"),
        ("--hours", "25"),
        ("--hours", "nan"),
        ("--start", "25:00"),
        ("--policy", "fastest"),
        ("--policy", "nearest,"),
        ("--fleet", "/nonexistent/fleet.json"),
        ("--seed", "x"),
    ],
)
def test_bad_input_is_refused_with_one_json_line(
    option: str, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = {"--fleet": "data/fleet.json", "--calls": "10", "--policy": "nearest"}
    argv[option] = value
    code, out, err = _run(["simulate", *[x for kv in argv.items() for x in kv]], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert option in json.loads(lines[0])["error"]


def test_work_in_hand_goes_on_and_is_not_a_call_of_the_day(
    geo: Geo,
    business_rules: Rules,
    shops: Shops,
    make_call: Callable[..., dict[str, Any]],
) -> None:
    """A truck already driving to a job of the fleet file finishes it first; the day's one
    call waits for it (queued), and only the day's call is counted."""
    start_s = day_start_s("10:00")
    work = {"id": "W1", "state": "en_route", **make_call((116.392, 39.9745))}
    fleet = {"trucks": [{**_truck("S1", "service", MADIAN), "work": [work]}]}
    calls = [SimCall(start_s + 60, make_call((116.380, 39.960)))]
    day = _nearest_day(fleet, calls, (start_s, start_s + 3600), geo, business_rules, shops)
    jobs = day.result.board.jobs
    assert jobs["W1"].state.value == jobs["C0001"].state.value == "closed"
    assert day.kpis["calls"] == day.kpis["served"] == 1
    assert day.result.assignments[0].truck_was_busy
    fixed_w1 = next(h.at_s for h in jobs["W1"].history if h.state.value == "fixed")
    assert day.outcomes[0].response_s is not None
    assert day.outcomes[0].response_s > fixed_w1 - (start_s + 60)


def test_a_fleet_job_with_a_day_call_id_is_refused_before_the_day(
    geo: Geo,
    business_rules: Rules,
    shops: Shops,
    make_call: Callable[..., dict[str, Any]],
) -> None:
    start_s = day_start_s("10:00")
    work = {"id": "C0001", "state": "en_route", **make_call((116.392, 39.9745))}
    fleet = {"trucks": [{**_truck("S1", "service", MADIAN), "work": [work]}]}
    calls = [SimCall(start_s + 60, make_call((116.380, 39.960)))]
    with pytest.raises(InputError, match="C0001"):
        _nearest_day(fleet, calls, (start_s, start_s + 3600), geo, business_rules, shops)
