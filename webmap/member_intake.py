"""The member register at intake (SERVICE_RULES §5), on the live path only.

- ``member: true``: the card must be valid for the car that day (:func:`records.card_check.
  card_check`); an unknown, expired or other car's card is refused (field ``member_card``,
  naming the status) before anything is stored: a member price needs a valid card.
- ``join_now: true``: the caller joins during the call. The card handed over is the intake's
  ``member_card`` (a new card, or an expired one to renew); without one the system issues a
  number (:func:`records.enrolment.issue_card_no`). The call is then priced as a member's
  (``member`` set before pricing) and the enrolment (fee, receipt, ``member_enrol`` log) is
  written in the intake event's transaction.

Replaying stored events never comes here: a stored intake is a fact, whatever the register
says today.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from geo.errors import InputError
from optimizer.dispatch.identifiers import IntakeRules
from records.card_check import card_check, refusal
from records.days import beijing_day
from records.enrolment import Enrolment, enrolment_write, plan_enrolment
from records.rules import RecordRules
from records.store import EventStore, InTransaction


@dataclass
class MemberStep:
    """What the register adds to an intake: the call to store, the writes to commit with
    it, the enrolment (if any) and warnings for the dispatcher."""

    call: dict[str, Any]
    also: list[InTransaction] = field(default_factory=list)
    enrolment: Enrolment | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def event_payload(self, job_id: str) -> dict[str, Any]:
        """The intake event: the call, and what was enrolled during it."""
        payload: dict[str, Any] = {"job_id": job_id, "data": self.call}
        if self.enrolment is not None:
            plan = self.enrolment.plan
            payload["enrolment"] = {
                "card_no": plan.card_no,
                "valid_from": plan.valid_from,
                "valid_to": plan.valid_to,
                "fee_paid_yuan": plan.fee_yuan,
                "renewal": plan.renewal,
                "issued": plan.issued,
            }
        return payload

    def answer(self) -> dict[str, Any] | None:
        """The enrolment for the intake's answer (after the commit: with its receipt)."""
        if self.enrolment is None:
            return None
        plan = self.enrolment.plan
        return {
            "card_no": plan.card_no,
            "receipt_no": self.enrolment.receipt_no,
            "valid_from": plan.valid_from,
            "valid_to": plan.valid_to,
            "fee_paid_yuan": plan.fee_yuan,
            "renewal": plan.renewal,
            "issued": plan.issued,
        }


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(path, value, "is required")
    return value


def member_step(
    store: EventStore,
    data: dict[str, Any],
    *,
    job_id: str,
    now_s: float,
    user: str,
    rules: IntakeRules,
    record_rules: RecordRules,
) -> MemberStep:
    """Check the intake ``data`` (its shape already checked) against the register; see the
    module docstring. Raises :class:`InputError` with nothing written."""
    call = dict(data)
    join_now = call.pop("join_now", None)
    on_day = dt.date.fromisoformat(beijing_day(now_s))
    if join_now:
        caller = _object(call, "caller")
        vehicle = _object(call, "vehicle")
        card = call.get("member_card")
        plan = plan_enrolment(
            store,
            card_no=card if isinstance(card, str) and card.strip() else None,
            name=_text(caller.get("name"), "caller.name"),
            phone=_text(caller.get("phone"), "caller.phone"),
            plate=_text(vehicle.get("plate"), "vehicle.plate"),
            on_day=on_day,
            rules=rules,
            record_rules=record_rules,
        )
        call["member"] = True
        call["member_card"] = plan.card_no
        enrolment = enrolment_write(plan, at_s=now_s, user=user, job_id=job_id)
        return MemberStep(call, also=[enrolment], enrolment=enrolment)
    card = call.get("member_card")
    plate = (
        (call.get("vehicle") or {}).get("plate") if isinstance(call.get("vehicle"), dict) else None
    )
    if call.get("member") is not True or not isinstance(card, str) or not card.strip():
        return MemberStep(call)  # not a member's call, or intake refuses the missing card
    check = card_check(
        store,
        card,
        plate if isinstance(plate, str) and plate.strip() else None,
        on_day,
        rules=rules,
        record_rules=record_rules,
    )
    if check.status != "valid":
        raise refusal(check)
    return MemberStep(call)
