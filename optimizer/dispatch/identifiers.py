"""The caller's phone, the plate and the member card of a call (SERVICE_RULES §2): each
normalized (what a dispatcher types around it removed) and checked against the patterns
of ``config/rules.toml`` ``[intake]``; a value that does not fit is an :class:`InputError`
naming its field, with an example of what fits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from geo.errors import InputError

PHONE_EXAMPLES = {"mobile": "13800138000", "landline": "010-65123456"}
PLATE_EXAMPLES = {"ordinary": "京A12345", "new_energy": "京AD12345"}
MEMBER_CARD_EXAMPLE = "BJ12345678"
"""Shown in the refusals; ``tests/test_intake_checks.py`` checks that each one passes."""

_SEPARATORS = re.compile(r"[\s\-·]")
"""Spaces, dashes and the middle dot of 京A·12345: typed between the parts, not part of them."""


@dataclass(frozen=True)
class IntakeRules:
    """The ``[intake]`` table: the patterns over normalized text and the duplicate window."""

    mobile: re.Pattern[str]
    landline: re.Pattern[str]
    local_landline: re.Pattern[str]
    local_area_code: str
    plate: re.Pattern[str]
    member_card: re.Pattern[str]
    duplicate_window_s: float

    @classmethod
    def from_toml(cls, raw: Mapping[str, Any]) -> IntakeRules:
        section = raw["intake"]
        return cls(
            mobile=re.compile(section["mobile_pattern"]),
            landline=re.compile(section["landline_pattern"]),
            local_landline=re.compile(section["local_landline_pattern"]),
            local_area_code=str(section["local_area_code"]),
            plate=re.compile(section["plate_pattern"]),
            member_card=re.compile(section["member_card_pattern"]),
            duplicate_window_s=float(section["duplicate_window_min"]) * 60.0,
        )


def compact(text: str) -> str:
    """``text`` with full-width forms made ASCII (NFKC), separators removed, uppercase."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def normalize_phone(text: str, rules: IntakeRules) -> str:
    """A mobile or landline number as digits only (a Beijing number without its area code
    gets it), else :class:`InputError` for ``caller.phone``."""
    digits = compact(text)
    if rules.mobile.fullmatch(digits) or rules.landline.fullmatch(digits):
        return digits
    if rules.local_landline.fullmatch(digits):
        return rules.local_area_code + digits
    raise InputError(
        "caller.phone",
        text,
        "not a mainland mobile or landline number (e.g. {mobile} or {landline})",
        **PHONE_EXAMPLES,
    )


def normalize_plate(text: str, rules: IntakeRules) -> str:
    """An ordinary or new-energy plate without separators, uppercase, else
    :class:`InputError` for ``vehicle.plate``."""
    plate = compact(text)
    if rules.plate.fullmatch(plate):
        return plate
    raise InputError(
        "vehicle.plate",
        text,
        "not a mainland licence plate (e.g. {ordinary}, or {new_energy} for a new-energy car)",
        **PLATE_EXAMPLES,
    )


def normalize_member_card(text: str, rules: IntakeRules) -> str:
    """A member card number without separators, uppercase, else :class:`InputError` for
    ``member_card``."""
    card = compact(text)
    if rules.member_card.fullmatch(card):
        return card
    raise InputError(
        "member_card",
        text,
        "not a member card number (e.g. {example})",
        example=MEMBER_CARD_EXAMPLE,
    )
