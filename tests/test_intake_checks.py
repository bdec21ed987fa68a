"""The call's phone, plate and member card are checked and normalized at intake
(SERVICE_RULES §2, rules.toml [intake]), and a call repeating a recent one's phone or plate
is taken with a warning naming it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_socketio.test_client import SocketIOTestClient
from hypothesis import given
from hypothesis import strategies as st

from geo.errors import InputError
from optimizer.dispatch.identifiers import (
    MEMBER_CARD_EXAMPLE,
    PHONE_EXAMPLES,
    PLATE_EXAMPLES,
    IntakeRules,
    normalize_member_card,
    normalize_phone,
    normalize_plate,
)
from optimizer.dispatch.intake import parse_intake
from optimizer.dispatch.rules import Rules
from webmap.clock import ManualClock

MakeCall = Callable[..., dict[str, Any]]  # the ``make_call`` fixture
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
DIGITS = "0123456789"

# ---------------------------------------------------------------------------- phones
GOOD_PHONES = [
    ("13800138000", "13800138000"),
    ("138 0013 8000", "13800138000"),
    ("138-0013-8000", "13800138000"),
    ("19912345678", "19912345678"),
    ("１３８００１３８０００", "13800138000"),  # full-width digits from a Chinese IME
    ("010-65123456", "01065123456"),
    ("01065123456", "01065123456"),
    ("010 65123456", "01065123456"),
    ("0755-12345678", "075512345678"),
    ("0311-1234567", "03111234567"),
    ("65123456", "01065123456"),  # Beijing, without its area code
]
BAD_PHONES = [
    "12800138000",  # no mobile numbers start 12
    "1380013800",  # 10 digits
    "138001380001",  # 12 digits
    "+8613800138000",
    "call me",
    "010-123456",  # 6 digits after the area code
    "12345678",  # 8 digits starting 1: neither mobile nor Beijing landline
    "06512345",
    "110",
]


@pytest.mark.parametrize(("typed", "stored"), GOOD_PHONES)
def test_good_phones_are_normalized(business_rules: Rules, typed: str, stored: str) -> None:
    assert normalize_phone(typed, business_rules.intake) == stored


@pytest.mark.parametrize("typed", BAD_PHONES)
def test_bad_phones_are_refused_naming_the_field(business_rules: Rules, typed: str) -> None:
    with pytest.raises(InputError) as error:
        normalize_phone(typed, business_rules.intake)
    assert error.value.field == "caller.phone" and error.value.value == typed
    assert error.value.reason_id == (
        "not a mainland mobile or landline number (e.g. {mobile} or {landline})"
    )
    assert "13800138000" in error.value.reason


@given(
    number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    cuts=st.lists(st.integers(1, 10), max_size=3, unique=True),
    separator=st.sampled_from([" ", "-", "  "]),
)
def test_any_mobile_number_typed_with_separators_is_its_digits(
    business_rules: Rules, number: str, cuts: list[int], separator: str
) -> None:
    typed = number
    for cut in sorted(cuts, reverse=True):
        typed = typed[:cut] + separator + typed[cut:]
    assert normalize_phone(typed, business_rules.intake) == number


@given(st.text(max_size=20))
def test_any_text_is_a_refused_phone_or_a_normalized_one(business_rules: Rules, text: str) -> None:
    """Whatever is typed: refused naming the field, or digits that check again unchanged."""
    try:
        phone = normalize_phone(text, business_rules.intake)
    except InputError as error:
        assert error.field == "caller.phone"
        return
    assert phone.isascii() and phone.isdigit()
    assert normalize_phone(phone, business_rules.intake) == phone


# ---------------------------------------------------------------------------- plates
GOOD_PLATES = [
    ("京A12345", "京A12345"),
    ("京a12345", "京A12345"),
    ("京A·12345", "京A12345"),
    ("京A 1234X", "京A1234X"),
    ("沪B5A123", "沪B5A123"),
    ("京AD12345", "京AD12345"),  # new energy, small: D or F first
    ("京AF12345", "京AF12345"),
    ("粤BDA1234", "粤BDA1234"),
    ("京A12345D", "京A12345D"),  # new energy, large: D or F last
    ("琼Ｅ12345", "琼E12345"),  # a full-width letter
]
BAD_PLATES = [
    "京I12345",  # I is never used
    "京A1O345",  # nor O
    "京A1234",  # too short
    "京A123456",  # 6 characters but no D or F
    "京AD12A45",  # new energy: the last 4 are digits
    "京A12345DD",
    "港A12345",  # not one of the 31 provinces
    "A12345",
    "京12345",
]


@pytest.mark.parametrize(("typed", "stored"), GOOD_PLATES)
def test_good_plates_are_normalized(business_rules: Rules, typed: str, stored: str) -> None:
    assert normalize_plate(typed, business_rules.intake) == stored


@pytest.mark.parametrize("typed", BAD_PLATES)
def test_bad_plates_are_refused_naming_the_field(business_rules: Rules, typed: str) -> None:
    with pytest.raises(InputError) as error:
        normalize_plate(typed, business_rules.intake)
    assert error.value.field == "vehicle.plate" and error.value.value == typed
    assert "京A12345" in error.value.reason


@given(
    province=st.sampled_from(PROVINCES),
    office=st.sampled_from(LETTERS),
    rest=st.text(LETTERS + DIGITS, min_size=5, max_size=5),
    lower=st.booleans(),
    dot=st.booleans(),
)
def test_every_ordinary_plate_of_the_31_provinces_is_taken(
    business_rules: Rules, province: str, office: str, rest: str, lower: bool, dot: bool
) -> None:
    plate = province + office + rest
    typed = province + office + ("·" if dot else "") + rest
    typed = typed.lower() if lower else typed
    assert normalize_plate(typed, business_rules.intake) == plate


# ---------------------------------------------------------------------------- cards
@pytest.mark.parametrize(
    ("typed", "stored"),
    [("BJ-000123", "BJ000123"), ("bj12345678", "BJ12345678"), ("12345678", "12345678")],
)
def test_good_member_cards_are_normalized(business_rules: Rules, typed: str, stored: str) -> None:
    assert normalize_member_card(typed, business_rules.intake) == stored


@pytest.mark.parametrize("typed", ["C1", "BJ-12", "ABC123456", "BJ1234567890123"])
def test_bad_member_cards_are_refused_naming_the_field(business_rules: Rules, typed: str) -> None:
    with pytest.raises(InputError) as error:
        normalize_member_card(typed, business_rules.intake)
    assert error.value.field == "member_card" and MEMBER_CARD_EXAMPLE in error.value.reason


def test_the_examples_in_the_refusals_are_accepted(business_rules: Rules) -> None:
    rules: IntakeRules = business_rules.intake
    for phone in PHONE_EXAMPLES.values():
        normalize_phone(phone, rules)
    for plate in PLATE_EXAMPLES.values():
        normalize_plate(plate, rules)
    normalize_member_card(MEMBER_CARD_EXAMPLE, rules)


# ---------------------------------------------------------------------------- intake
def test_intake_stores_the_normalized_values(business_rules: Rules, make_call: MakeCall) -> None:
    call = make_call(
        caller={"name": "王先生", "phone": "010 6512-3456"},
        vehicle={"plate": "京a·d12345"},
        member_card="bj-000123",
    )
    intake = parse_intake(call, business_rules)
    assert intake.caller.phone == "01065123456"
    assert intake.vehicle.plate == "京AD12345"
    assert intake.member_card == "BJ000123"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"caller": {"name": "王先生", "phone": "12345"}}, "caller.phone"),
        ({"vehicle": {"plate": "ABC-123"}}, "vehicle.plate"),
        ({"member_card": "card"}, "member_card"),
    ],
)
def test_intake_refuses_a_bad_phone_plate_or_card(
    business_rules: Rules, make_call: MakeCall, fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(InputError) as error:
        parse_intake(make_call(**fields), business_rules)
    assert error.value.field == field


# ---------------------------------------------------------------------------- duplicates
@pytest.fixture
def sio(
    new_app: Callable[..., Flask], tmp_path: Path, connect: Callable[..., SocketIOTestClient]
) -> SocketIOTestClient:
    return connect(new_app(tmp_path / "dispatch.sqlite"))


def _intake(sio: SocketIOTestClient, call: dict[str, Any]) -> dict[str, Any]:
    ack = sio.emit("intake", call, callback=True)
    assert ack["ok"], ack
    return ack


def test_a_call_repeating_a_phone_or_plate_is_taken_with_warnings(
    sio: SocketIOTestClient, make_call: MakeCall, clock: ManualClock
) -> None:
    first = _intake(sio, make_call())
    assert first["warnings"] == []
    clock.advance(120)
    other = _intake(
        sio,
        make_call(caller={"name": "李女士", "phone": "13900139000"}, vehicle={"plate": "京B54321"}),
    )
    assert other["warnings"] == []
    clock.advance(120)
    # the same phone typed differently, another plate: one warning
    same_phone = _intake(
        sio,
        make_call(
            caller={"name": "王先生", "phone": "138-0013-8000"}, vehicle={"plate": "京C11111"}
        ),
    )
    assert same_phone["job"]["state"] == "received"  # registered all the same
    assert same_phone["warnings"] == [
        {
            "kind": "duplicate_phone",
            "job_id": first["job"]["id"],
            "at_s": first["job"]["created_at_s"],
            "state": "received",
        }
    ]
    # the first call's phone and plate again: warnings for both calls that match
    again = _intake(sio, make_call())
    kinds = [(w["kind"], w["job_id"]) for w in again["warnings"]]
    assert kinds == [
        ("duplicate_phone", first["job"]["id"]),
        ("duplicate_plate", first["job"]["id"]),
        ("duplicate_phone", same_phone["job"]["id"]),
    ]


def test_a_call_an_hour_later_is_no_duplicate(
    sio: SocketIOTestClient, make_call: MakeCall, clock: ManualClock, business_rules: Rules
) -> None:
    _intake(sio, make_call())
    clock.advance(business_rules.intake.duplicate_window_s + 1)
    assert _intake(sio, make_call())["warnings"] == []
