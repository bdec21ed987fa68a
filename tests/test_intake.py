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


# ---------------------------------------------------------------------------- non-members
# SERVICE_RULES §2: "Non-members: record all customer details". The manual lists them
# (客户信息: 车型、车号、联系人、联系电话、故障原因、客户需求; the non-member script asks
# 贵姓? 车型? 颜色? 电话?): name, phone and plate are required of every call, and a
# non-member's call also needs the model, colour, fault symptoms and need.
NON_MEMBER = {"member": False, "member_card": None, "customer_need": "拖到4S店 (tow)"}


def test_a_non_member_call_with_its_details_parses(
    business_rules: Rules, make_call: MakeCall
) -> None:
    intake = parse_intake(make_call(TIANANMEN, "engine_failure", **NON_MEMBER), business_rules)
    assert intake.member is False and intake.member_card is None
    assert (intake.vehicle.model, intake.vehicle.colour) == ("Volkswagen Passat", "black")
    assert intake.fault_symptoms == "won't start" and intake.customer_need == "拖到4S店 (tow)"
    assert intake.customer_details == ""  # free text, optional


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"vehicle": {"plate": "京N12345", "colour": "black"}},
            "vehicle.model=None: is required for a non-member",
        ),
        (
            {"vehicle": {"plate": "京N12345", "model": "Passat", "colour": "   "}},
            "vehicle.colour='   ': is required for a non-member",
        ),
        ({"fault_symptoms": ""}, "fault_symptoms='': is required for a non-member"),
        # A placeholder is no detail; the error shows the value's first 20 characters.
        (
            {"customer_need": "-------------------------------"},
            "customer_need='--------------------...': is required for a non-member",
        ),
        ({"customer_need": None}, "customer_need=None: is required for a non-member"),
    ],
)
def test_a_non_member_call_needs_the_customers_details_in_full(
    business_rules: Rules, make_call: MakeCall, fields: dict[str, Any], message: str
) -> None:
    _refused(make_call(TIANANMEN, **{**NON_MEMBER, **fields}), business_rules, message)


def test_a_member_call_needs_no_more_than_before(
    business_rules: Rules, make_call: MakeCall
) -> None:
    call = make_call(TIANANMEN, vehicle={"plate": "京N12345"})
    del call["fault_symptoms"]
    intake = parse_intake(call, business_rules)
    assert intake.member and intake.vehicle.model == "" and intake.customer_need == ""
