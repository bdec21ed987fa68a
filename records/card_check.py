"""The card check at intake (SERVICE_RULES §5): what the dispatcher needs while the caller is
on the line, the card's status (:data:`records.members.CARD_STATUSES`: valid, expired,
unknown, plate not on the card) and the line to say (Chinese and English, from the message
catalogue). A member price needs a valid card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from geo.errors import InputError
from geo.i18n import N_, both
from optimizer.dispatch.identifiers import (
    IntakeRules,
    normalize_plate,
)
from records.members import (
    CardStatus,
    Target,
    _engine,
    _intake_rules,
    _members,
    check_card_no,
    parse_day,
)
from records.rules import RecordRules, load_record_rules


@dataclass(frozen=True)
class CardCheck:
    """What the register says of a card for a car on a day, and the line to say."""

    status: CardStatus
    card_no: str
    plate: str | None
    name: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    plates: tuple[str, ...] = ()
    script_zh: str = ""
    script_en: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "card_no": self.card_no,
            "plate": self.plate,
            "name": self.name,
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "plates": list(self.plates),
            "script_zh": self.script_zh,
            "script_en": self.script_en,
        }


def _script(check: CardCheck, membership_yuan: float) -> tuple[str, str]:
    if check.status == "valid" and check.plate is None:
        return both(
            N_("Member card valid: {name}, valid until {valid_to}."),
            name=check.name,
            valid_to=check.valid_to,
        )
    if check.status == "valid":
        return both(
            N_(
                "Member card valid and the plate matches: {name}, valid until {valid_to}; "
                "member prices apply."
            ),
            name=check.name,
            valid_to=check.valid_to,
        )
    if check.status == "expired":
        return both(
            N_(
                "Your membership expired on {valid_to}; you can renew now for {fee:g} yuan, "
                "effective at once, or we serve you at non-member prices."
            ),
            valid_to=check.valid_to,
            fee=membership_yuan,
        )
    if check.status == "plate_not_on_card":
        return both(
            N_(
                "Card {card} is valid, but the plate {plate} is not on it; member prices apply "
                "to the cars on the card only."
            ),
            card=check.card_no,
            plate=check.plate,
        )
    return both(
        N_(
            "We cannot find card {card} in the member register; please check the number. You "
            "can also join now for {fee:g} yuan, effective at once."
        ),
        card=check.card_no,
        fee=membership_yuan,
    )


def card_check(
    target: Target,
    card_no: str,
    plate: str | None,
    on_day: dt.date | str,
    *,
    rules: IntakeRules | None = None,
    record_rules: RecordRules | None = None,
) -> CardCheck:
    """The status of ``card_no`` for the car ``plate`` on ``on_day`` (Beijing day):

    - ``unknown``: not in the register;
    - ``expired``: ``on_day`` is outside ``valid_from`` .. ``valid_to`` (both included);
    - ``plate_not_on_card``: valid, but ``plate`` is not one of the card's plates;
    - ``valid``: valid that day (and ``plate``, when given, is on the card).

    Card and plate are normalized as at intake (:class:`InputError` ``member_card`` or
    ``vehicle.plate`` when they cannot be); the answer carries the line the dispatcher says.
    """
    rules = rules or _intake_rules()
    record_rules = record_rules or load_record_rules()
    card = check_card_no(card_no, rules, field_name="member_card")
    car = None
    if plate is not None and (not isinstance(plate, str) or plate.strip()):
        car = normalize_plate(plate if isinstance(plate, str) else str(plate), rules)
    day = parse_day(on_day, "on_day")
    with _engine(target).connect() as connection:
        found = _members(connection, [card])
    if not found:
        check = CardCheck("unknown", card, car)
    else:
        member = found[0]
        status: CardStatus
        if not member.valid_from <= day.isoformat() <= member.valid_to:
            status = "expired"
        elif car is not None and car not in member.plates:
            status = "plate_not_on_card"
        else:
            status = "valid"
        check = CardCheck(
            status,
            card,
            car,
            name=member.name,
            valid_from=member.valid_from,
            valid_to=member.valid_to,
            plates=member.plates,
        )
    zh, en = _script(check, record_rules.membership_yuan)
    return CardCheck(**{**check.__dict__, "script_zh": zh, "script_en": en})


def refusal(check: CardCheck) -> InputError:
    """The intake refusal (field ``member_card``) for a card that is not ``valid``: a member
    price needs a card valid that day for that car."""
    if check.status == "expired":
        return InputError(
            "member_card",
            check.card_no,
            "the membership expired on {valid_to}: the caller can renew now (join now) or be "
            "served as a non-member",
            valid_to=check.valid_to or "",
        )
    if check.status == "plate_not_on_card":
        return InputError(
            "member_card",
            check.card_no,
            "the plate {plate} is not on this card (its plates: {plates}): member prices are "
            "for the cars on the card",
            plate=check.plate or "",
            plates=", ".join(check.plates),
        )
    return InputError(
        "member_card",
        check.card_no,
        "is not in the member register: check the number, or the caller can join now (or be "
        "served as a non-member)",
    )
