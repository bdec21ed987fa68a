"""Join now (SERVICE_RULES §5): a caller who joins during the call, the membership fee of
``[fees] membership_yuan`` applying at once, for ``[records] membership_days`` from the call's
day. The card issued (or renewed) and the receipt are written in the intake event's
transaction (``member_enrol`` in ``record_log``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update

from geo.errors import InputError
from optimizer.dispatch.identifiers import (
    IntakeRules,
    normalize_phone,
    normalize_plate,
)
from records import schema
from records.days import beijing_day
from records.members import (
    ISSUED_CARD_PREFIX,
    MAX_DAILY_SEQUENCE,
    MAX_NAME_CHARS,
    RECEIPT_PREFIX,
    Member,
    Target,
    _engine,
    _insert_items,
    _insert_member,
    _intake_rules,
    _members,
    _run,
    check_card_no,
)
from records.record_log import log_change
from records.rules import RecordRules, load_record_rules


def _next_number(connection: Connection, column: Any, prefix: str) -> int:
    """1 + the largest sequence number after ``prefix`` in ``column`` (1 when none)."""
    values = connection.execute(select(column).where(column.like(prefix + "%"))).scalars()
    numbers = [
        int(v[len(prefix) :].lstrip("-"))
        for v in values
        if v and v[len(prefix) :].lstrip("-").isdigit()
    ]
    return max(numbers, default=0) + 1


def issue_card_no(connection: Connection, day: dt.date) -> str:
    """A new card number for ``day``: :data:`ISSUED_CARD_PREFIX` + ``YYYYMMDD`` + 4 digits."""
    prefix = ISSUED_CARD_PREFIX + day.strftime("%Y%m%d")
    number = _next_number(connection, schema.members.c.card_no, prefix)
    if number > MAX_DAILY_SEQUENCE:
        raise InputError("member_card", None, "no card numbers left for today: give a card number")
    return f"{prefix}{number:04d}"


def issue_receipt_no(connection: Connection, day: dt.date) -> str:
    """A new receipt number for ``day``: ``R`` + ``YYYYMMDD`` + ``-`` + a sequence number."""
    prefix = RECEIPT_PREFIX + day.strftime("%Y%m%d")
    number = _next_number(connection, schema.members.c.receipt_no, prefix)
    return f"{prefix}-{number:04d}"


@dataclass(frozen=True)
class EnrolmentPlan:
    """Who joins during a call: checked before the call is stored (the card goes into the
    intake), written by :func:`enrolment_write` in the intake's transaction."""

    card_no: str
    name: str
    phone: str
    plate: str
    valid_from: str
    valid_to: str
    fee_yuan: float
    renewal: bool
    """The card is in the register but expired: the membership is renewed on it."""
    issued: bool
    """The card number was issued by the system (none was given)."""


def plan_enrolment(
    target: Target,
    *,
    card_no: str | None,
    name: str,
    phone: str,
    plate: str,
    on_day: dt.date,
    rules: IntakeRules | None = None,
    record_rules: RecordRules | None = None,
) -> EnrolmentPlan:
    """Check a join-now: the caller's name, phone and plate (as intake checks them) and the
    card: none given issues a new one; an unknown card is the one handed to the caller; an
    expired card is renewed; a valid card (even for another car) is refused."""
    rules = rules or _intake_rules()
    record_rules = record_rules or load_record_rules()
    phone_no = normalize_phone(phone, rules)
    car = normalize_plate(plate, rules)
    if not isinstance(name, str) or not name.strip():
        raise InputError("caller.name", name, "is required")
    renewal = issued = False
    with _engine(target).connect() as connection:
        if card_no is None or not card_no.strip():
            card = issue_card_no(connection, on_day)
            issued = True
        else:
            card = check_card_no(card_no, rules, field_name="member_card")
            found = _members(connection, [card])
            if found:
                member = found[0]
                if member.valid_from <= on_day.isoformat() <= member.valid_to:
                    raise InputError(
                        "member_card",
                        card,
                        "is a valid card (until {valid_to}): join now is for a new or expired "
                        "card; leave the card number empty to issue a new one",
                        valid_to=member.valid_to,
                    )
                renewal = True
    valid_to = on_day + dt.timedelta(days=record_rules.membership_days - 1)
    return EnrolmentPlan(
        card_no=card,
        name=name.strip()[:MAX_NAME_CHARS],
        phone=phone_no,
        plate=car,
        valid_from=on_day.isoformat(),
        valid_to=valid_to.isoformat(),
        fee_yuan=record_rules.membership_yuan,
        renewal=renewal,
        issued=issued,
    )


class Enrolment:
    """The write of a join-now (a callable for ``EventStore.append(..., also=[...])``): the
    member (or its renewal), the receipt number issued in the same transaction, and a
    ``member_enrol`` log row. After the commit, :attr:`receipt_no` holds the receipt."""

    def __init__(self, plan: EnrolmentPlan, *, at_s: float, user: str, job_id: str | None) -> None:
        self.plan = plan
        self.at_s = at_s
        self.user = user
        self.job_id = job_id
        self.receipt_no: str | None = None

    def __call__(self, connection: Connection) -> None:
        plan = self.plan
        day = dt.date.fromisoformat(beijing_day(self.at_s))
        receipt = issue_receipt_no(connection, day)
        table = schema.members
        existing = connection.execute(
            select(table.c.valid_to).where(table.c.card_no == plan.card_no)
        ).scalar()
        if existing is not None and (not plan.renewal or existing >= plan.valid_from):
            raise InputError("member_card", plan.card_no, "already in the member register")
        if existing is None and plan.renewal:
            raise InputError("member_card", plan.card_no, "is not in the member register")
        if plan.renewal:
            connection.execute(
                update(table)
                .where(table.c.card_no == plan.card_no)
                .values(
                    valid_from=plan.valid_from,
                    valid_to=plan.valid_to,
                    fee_paid_yuan=plan.fee_yuan,
                    receipt_no=receipt,
                    enrolled_job_id=self.job_id,
                )
            )
            phones = connection.execute(
                select(schema.member_phones.c.phone).where(
                    and_(
                        schema.member_phones.c.card_no == plan.card_no,
                        schema.member_phones.c.phone == plan.phone,
                    )
                )
            ).first()
            plates = connection.execute(
                select(schema.member_plates.c.plate).where(
                    and_(
                        schema.member_plates.c.card_no == plan.card_no,
                        schema.member_plates.c.plate == plan.plate,
                    )
                )
            ).first()
            _insert_items(
                connection,
                plan.card_no,
                [] if phones else [plan.phone],
                [] if plates else [plan.plate],
            )
        else:
            member = Member(
                card_no=plan.card_no,
                name=plan.name,
                phones=(plan.phone,),
                plates=(plan.plate,),
                valid_from=plan.valid_from,
                valid_to=plan.valid_to,
                fee_paid_yuan=plan.fee_yuan,
                receipt_no=receipt,
                enrolled_job_id=self.job_id,
            )
            _insert_member(connection, member, at_s=self.at_s, user=self.user)
        payload = {
            "card_no": plan.card_no,
            "name": plan.name,
            "phone": plan.phone,
            "plate": plan.plate,
            "valid_from": plan.valid_from,
            "valid_to": plan.valid_to,
            "fee_paid_yuan": plan.fee_yuan,
            "receipt_no": receipt,
            "renewal": plan.renewal,
            "issued": plan.issued,
        }
        log_change(
            connection,
            kind="member_enrol",
            at_s=self.at_s,
            user=self.user,
            card_no=plan.card_no,
            payload=payload,
            job_id=self.job_id,
        )
        self.receipt_no = receipt


def enrolment_write(
    plan: EnrolmentPlan, *, at_s: float, user: str, job_id: str | None = None
) -> Enrolment:
    """The callable writing ``plan`` in a transaction (``store.append(..., also=[...])``,
    or ``store.write``); its ``receipt_no`` is set once it has run."""
    return Enrolment(plan, at_s=at_s, user=user, job_id=job_id)


def enrol_now(
    target: Target,
    *,
    card_no: str | None,
    name: str,
    phone: str,
    plate: str,
    at_s: float,
    user: str,
    job_id: str | None = None,
) -> Enrolment:
    """Join now on its own (not with an intake): plan and write in one go."""
    plan = plan_enrolment(
        target,
        card_no=card_no,
        name=name,
        phone=phone,
        plate=plate,
        on_day=dt.date.fromisoformat(beijing_day(at_s)),
    )
    write = enrolment_write(plan, at_s=at_s, user=user, job_id=job_id)
    _run(target, write)
    return write
