"""Intake validation: every bad field gets an error naming the field and the value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from geo.errors import InputError
from optimizer.dispatch.intake import parse_intake
from optimizer.dispatch.rules import Rules

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
TIANANMEN = (116.3975, 39.9087)


def test_a_full_call_parses(business_rules: Rules, make_call: MakeCall) -> None:
    intake = parse_intake(make_call(TIANANMEN, accident=True, insurer="ping_an"), business_rules)
    assert intake.caller.name == "王先生" and intake.vehicle.plate == "京N12345"
    assert intake.location == TIANANMEN and intake.insurer == "ping_an"


def test_gcj02_locations_are_converted(business_rules: Rules, make_call: MakeCall) -> None:
    intake = parse_intake(make_call((116.40374, 39.91010), crs="gcj02"), business_rules)
    assert intake.location == pytest.approx(TIANANMEN, abs=2e-5)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"fault_category": "alien_attack"},
            "fault_category='alien_attack': unknown; one of flat_battery",
        ),
        ({"location": "Tiananmen"}, "location='Tiananmen': expected [lon, lat]"),
        ({"location": [116.4, None]}, "expected two numbers"),
        ({"created_at": -5}, "created_at=-5: must be a non-negative time"),
        ({"created_at": "yesterday"}, "created_at='yesterday'"),
        ({"member_card": None}, "member_card=None: is required"),
        ({"member": "yes"}, "member='yes': must be true or false"),
        ({"caller": {"name": "王", "phone": "call me"}}, "caller.phone='call me'"),
        ({"caller": {"phone": "13800138000"}}, "caller.name=None: is required"),
        (
            {"caller": {"name": "王", "phone": "13800138000", "gender": "x"}},
            "caller.gender='x'",
        ),
        ({"vehicle": {"model": "Passat"}}, "vehicle.plate=None: is required"),
        ({"vehicle": "京N12345"}, "vehicle='京N12345': must be an object"),
        ({"insurer": "acme"}, "insurer='acme': unknown"),
        ({"crs": "bd09"}, "crs='bd09'"),
        ({"landmarks": 12}, "landmarks=12: must be text"),
    ],
)
def test_bad_field_gets_a_clear_error(
    business_rules: Rules, make_call: MakeCall, fields: dict[str, Any], message: str
) -> None:
    _refused(make_call(TIANANMEN, **fields), business_rules, message)


def test_missing_location_gets_a_clear_error(business_rules: Rules, make_call: MakeCall) -> None:
    call = make_call(TIANANMEN)
    del call["location"]
    _refused(call, business_rules, "location=None: is required")


def test_a_call_that_is_not_an_object_gets_a_clear_error(business_rules: Rules) -> None:
    _refused([1, 2], business_rules, "job='list': must be a JSON object")


def _refused(call: Any, rules: Rules, message: str) -> None:
    with pytest.raises(InputError) as error:
        parse_intake(call, rules)
    assert message in str(error.value)
