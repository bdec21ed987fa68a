"""Intake validation: every bad field gets an error naming the field and the value."""

from __future__ import annotations

from typing import Any

import pytest
from calls import make_call

from geo.errors import InputError
from optimizer.dispatch.intake import parse_intake
from optimizer.dispatch.rules import Rules

TIANANMEN = (116.3975, 39.9087)


def test_a_full_call_parses(business_rules: Rules) -> None:
    intake = parse_intake(make_call(TIANANMEN, accident=True, insurer="ping_an"), business_rules)
    assert intake.caller.name == "王先生" and intake.vehicle.plate == "京N12345"
    assert intake.location == TIANANMEN and intake.insurer == "ping_an"


def test_gcj02_locations_are_converted(business_rules: Rules) -> None:
    intake = parse_intake(make_call((116.40374, 39.91010), crs="gcj02"), business_rules)
    assert intake.location == pytest.approx(TIANANMEN, abs=2e-5)


def _without(key: str) -> dict[str, Any]:
    call = make_call(TIANANMEN)
    del call[key]
    return call


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            make_call(TIANANMEN, fault_category="alien_attack"),
            "fault_category='alien_attack': unknown; one of flat_battery",
        ),
        (_without("location"), "location=None: is required"),
        (make_call(TIANANMEN, location="Tiananmen"), "location='Tiananmen': expected [lon, lat]"),
        (make_call(TIANANMEN, location=[116.4, None]), "expected two numbers"),
        (make_call(TIANANMEN, created_at=-5), "created_at=-5: must be a non-negative time"),
        (make_call(TIANANMEN, created_at="yesterday"), "created_at='yesterday'"),
        (make_call(TIANANMEN, member_card=None), "member_card=None: is required"),
        (make_call(TIANANMEN, member="yes"), "member='yes': must be true or false"),
        (make_call(TIANANMEN, caller={"name": "王", "phone": "call me"}), "caller.phone='call me'"),
        (make_call(TIANANMEN, caller={"phone": "13800138000"}), "caller.name=None: is required"),
        (
            make_call(TIANANMEN, caller={"name": "王", "phone": "13800138000", "gender": "x"}),
            "caller.gender='x'",
        ),
        (make_call(TIANANMEN, vehicle={"model": "Passat"}), "vehicle.plate=None: is required"),
        (make_call(TIANANMEN, vehicle="京N12345"), "vehicle='京N12345': must be an object"),
        (make_call(TIANANMEN, insurer="acme"), "insurer='acme': unknown"),
        (make_call(TIANANMEN, crs="bd09"), "crs='bd09'"),
        (make_call(TIANANMEN, landmarks=12), "landmarks=12: must be text"),
        ([1, 2], "job='list': must be a JSON object"),
    ],
)
def test_bad_input_gets_a_clear_error(business_rules: Rules, call: Any, message: str) -> None:
    with pytest.raises(InputError) as error:
        parse_intake(call, business_rules)
    assert message in str(error.value)
