"""The member register (SERVICE_RULES §5): who holds a card, for which cars, until when.

A member is one row of ``members`` (card number, name, validity, the fee paid and its
receipt) with its phones (``member_phones``) and plates (``member_plates``). Card numbers,
phones and plates are checked and normalized exactly as at intake
(:mod:`optimizer.dispatch.identifiers`, ``[intake]`` of config/rules.toml), so the card a
dispatcher types matches the register's. Validity runs from ``valid_from`` to ``valid_to``,
both days included (Beijing dates, ``YYYY-MM-DD``).

Every change writes a ``record_log`` row in its transaction (``member_add`` here). The CSV
file is :mod:`records.member_csv`, the check at intake :mod:`records.card_check`, joining
during a call :mod:`records.enrolment`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Connection, Engine, func, insert, or_, select

from geo.errors import InputError
from optimizer.dispatch.identifiers import (
    IntakeRules,
    compact,
    normalize_member_card,
    normalize_phone,
    normalize_plate,
)
from optimizer.dispatch.rules import load_business_rules
from records import schema
from records.record_log import log_change
from records.store import EventStore

CardStatus = Literal["valid", "expired", "unknown", "plate_not_on_card"]
CARD_STATUSES: tuple[CardStatus, ...] = ("valid", "expired", "unknown", "plate_not_on_card")
CSV_COLUMNS = (
    "card_no",
    "name",
    "phones",
    "plates",
    "valid_from",
    "valid_to",
    "fee_paid_yuan",
    "receipt_no",
)
"""The columns of the register's CSV file, in order (the header line)."""
LIST_SEPARATOR = ";"
"""Between several phones or plates in one CSV cell."""
MAX_NAME_CHARS = 60
MAX_LIST_ITEMS = 10
"""Phones or plates of one card at most (a family's cars): more is a pasted column."""
RECEIPT_NO = re.compile(r"^[A-Za-z0-9-]{1,40}$")
MAX_FEE_YUAN = 100_000.0
MAX_IMPORT_ROWS = 100_000
ERRORS_NAMED = 5
"""A refused import names this many bad cells in its field (all are in ``errors``)."""
ISSUED_CARD_PREFIX = "BJ"
"""Cards issued during a call (join now without a card at hand): the issuing city's letters
as on the club's cards (``BJ12345678``), then the Beijing day and a sequence number
(``BJ202611250001``), which fits ``[intake] member_card_pattern``."""
RECEIPT_PREFIX = "R"
"""Receipts of the fees taken during a call: ``R`` + the Beijing day + a sequence number
(``R20261125-0001``)."""
MAX_DAILY_SEQUENCE = 9999
_ISO_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

Target = Engine | EventStore
"""Where member writes go: the server's store (writes serialized with its commands) or an
engine (the command line)."""


# ---------------------------------------------------------------------------- the member
@dataclass(frozen=True)
class Member:
    """One card of the register (normalized: card, phones and plates as intake keeps them;
    phones and plates sorted, as the register reads them back)."""

    card_no: str
    name: str
    phones: tuple[str, ...]
    plates: tuple[str, ...]
    valid_from: str
    valid_to: str
    """Last day of validity, included."""
    fee_paid_yuan: float
    receipt_no: str | None = None
    enrolled_job_id: str | None = None
    """The call during which the caller joined (join now), if so."""

    def to_json(self) -> dict[str, Any]:
        return {
            "card_no": self.card_no,
            "name": self.name,
            "phones": list(self.phones),
            "plates": list(self.plates),
            "valid_from": self.valid_from,
            "valid_to": self.valid_to,
            "fee_paid_yuan": self.fee_paid_yuan,
            "receipt_no": self.receipt_no,
            "enrolled_job_id": self.enrolled_job_id,
        }

    def csv_row(self) -> list[str]:
        return [
            self.card_no,
            self.name,
            LIST_SEPARATOR.join(self.phones),
            LIST_SEPARATOR.join(self.plates),
            self.valid_from,
            self.valid_to,
            f"{self.fee_paid_yuan:g}",
            self.receipt_no or "",
        ]


def _intake_rules() -> IntakeRules:
    return load_business_rules().intake


def _renamed(error: InputError, field_name: str) -> InputError:
    """``error`` naming ``field_name`` instead (an intake check reused on a register field)."""
    return InputError(field_name, error.value, error.reason_id, **error.params)


def check_card_no(value: Any, rules: IntakeRules, *, field_name: str = "card_no") -> str:
    """A card number as intake keeps it (separators removed, uppercase), else InputError."""
    if not isinstance(value, str) or not value.strip():
        raise InputError(field_name, value, "is required")
    try:
        return normalize_member_card(value, rules)
    except InputError as error:
        raise _renamed(error, field_name) from None


def _items(value: Any, field_name: str) -> list[str]:
    """A list of texts, or one text of items separated by ``;`` (or ``,``)."""
    if value is None:
        return []
    if isinstance(value, str):
        parts = re.split(r"[;,，；]", value)
    elif isinstance(value, list | tuple):
        parts = list(value)
    else:
        raise InputError(field_name, value, "must be text or a list of texts")
    items = []
    for part in parts:
        if not isinstance(part, str):
            raise InputError(field_name, part, "must be text")
        if part.strip():
            items.append(part.strip())
    if len(items) > MAX_LIST_ITEMS:
        raise InputError(field_name, value, "at most {count} items", count=MAX_LIST_ITEMS)
    return items


def _phones(value: Any, rules: IntakeRules) -> tuple[str, ...]:
    phones = []
    for item in _items(value, "phones"):
        try:
            phones.append(normalize_phone(item, rules))
        except InputError as error:
            raise _renamed(error, "phones") from None
    return tuple(sorted(set(phones)))


def _plates(value: Any, rules: IntakeRules) -> tuple[str, ...]:
    plates = []
    for item in _items(value, "plates"):
        try:
            plates.append(normalize_plate(item, rules))
        except InputError as error:
            raise _renamed(error, "plates") from None
    if not plates:
        raise InputError("plates", value, "at least one plate: the card covers these cars")
    return tuple(sorted(set(plates)))


def parse_day(value: Any, field_name: str) -> dt.date:
    """An ISO date ``YYYY-MM-DD`` (a :class:`datetime.date` as it is), else InputError."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InputError(
        field_name, value, "expected a date YYYY-MM-DD, e.g. {example}", example="2026-11-25"
    )


def _fee(value: Any) -> float:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text) if text else None
        except ValueError:
            raise InputError("fee_paid_yuan", value, "must be a number") from None
    if value is None:
        raise InputError("fee_paid_yuan", value, "is required")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError("fee_paid_yuan", value, "must be a number")
    fee = float(value)
    if not math.isfinite(fee) or not 0 <= fee <= MAX_FEE_YUAN:
        raise InputError(
            "fee_paid_yuan",
            value,
            "must be a number in [{low:g}, {high:g}]",
            low=0,
            high=MAX_FEE_YUAN,
        )
    return fee


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError("name", value, "is required")
    if len(value.strip()) > MAX_NAME_CHARS:
        raise InputError(
            "name", value, "is longer than {max_chars} characters", max_chars=MAX_NAME_CHARS
        )
    return value.strip()


def _receipt(value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not RECEIPT_NO.match(value.strip()):
        raise InputError("receipt_no", value, "1-40 letters, digits or '-'")
    return value.strip()


def check_member(data: Mapping[str, Any], rules: IntakeRules | None = None) -> Member:
    """A member from raw fields (:data:`CSV_COLUMNS`; phones and plates as lists or texts
    separated by ``;``), every field checked; :class:`InputError` names the first bad one."""
    if not isinstance(data, Mapping):
        raise InputError("member", data, "must be a JSON object")
    rules = rules or _intake_rules()
    unknown = sorted(set(data) - set(CSV_COLUMNS))
    if unknown:
        raise InputError(
            unknown[0],
            data[unknown[0]],
            "unknown field ({accepted})",
            accepted=", ".join(CSV_COLUMNS),
        )
    card_no = check_card_no(data.get("card_no"), rules)
    name = _name(data.get("name"))
    phones = _phones(data.get("phones"), rules)
    plates = _plates(data.get("plates"), rules)
    valid_from = parse_day(data.get("valid_from"), "valid_from")
    valid_to = parse_day(data.get("valid_to"), "valid_to")
    if valid_to < valid_from:
        raise InputError(
            "valid_to",
            data.get("valid_to"),
            "is before valid_from ({valid_from}): the last day of validity comes after the first",
            valid_from=valid_from.isoformat(),
        )
    return Member(
        card_no=card_no,
        name=name,
        phones=phones,
        plates=plates,
        valid_from=valid_from.isoformat(),
        valid_to=valid_to.isoformat(),
        fee_paid_yuan=_fee(data.get("fee_paid_yuan")),
        receipt_no=_receipt(data.get("receipt_no")),
    )


# ---------------------------------------------------------------------------- writing
def _run(target: Target, write: Callable[[Connection], None]) -> None:
    """``write`` in one transaction (the store's writes are serialized with its commands)."""
    if isinstance(target, EventStore):
        target.write(write)
    else:
        with target.begin() as connection:
            write(connection)


def _engine(target: Target) -> Engine:
    return target.engine if isinstance(target, EventStore) else target


def _insert_member(connection: Connection, member: Member, *, at_s: float, user: str) -> None:
    connection.execute(
        insert(schema.members),
        {
            "card_no": member.card_no,
            "name": member.name,
            "valid_from": member.valid_from,
            "valid_to": member.valid_to,
            "fee_paid_yuan": member.fee_paid_yuan,
            "receipt_no": member.receipt_no,
            "enrolled_job_id": member.enrolled_job_id,
            "created_at_s": at_s,
            "created_by": user,
        },
    )
    _insert_items(connection, member.card_no, member.phones, member.plates)


def _insert_items(
    connection: Connection, card_no: str, phones: Iterable[str], plates: Iterable[str]
) -> None:
    phone_rows = [{"card_no": card_no, "phone": p} for p in phones]
    plate_rows = [{"card_no": card_no, "plate": p} for p in plates]
    if phone_rows:
        connection.execute(insert(schema.member_phones), phone_rows)
    if plate_rows:
        connection.execute(insert(schema.member_plates), plate_rows)


def _existing(connection: Connection, column: Any, values: Sequence[str]) -> set[str]:
    """The ``values`` already in ``column`` of the register (asked 500 at a time)."""
    found: set[str] = set()
    for start in range(0, len(values), 500):
        chunk = list(values[start : start + 500])
        found.update(
            str(v) for v in connection.execute(select(column).where(column.in_(chunk))).scalars()
        )
    return found


def _existing_cards(connection: Connection, cards: Sequence[str]) -> set[str]:
    return _existing(connection, schema.members.c.card_no, cards)


def _existing_receipts(connection: Connection, receipts: Sequence[str]) -> set[str]:
    return _existing(connection, schema.members.c.receipt_no, receipts)


def add_member(
    target: Target,
    data: Mapping[str, Any],
    *,
    user: str,
    at_s: float,
    rules: IntakeRules | None = None,
) -> Member:
    """Add one member (checked by :func:`check_member`) with a ``member_add`` log row, in one
    transaction; a card (or a receipt number) already in the register is refused."""
    member = check_member(data, rules)

    def write(connection: Connection) -> None:
        if _existing_cards(connection, [member.card_no]):
            raise InputError("card_no", member.card_no, "already in the member register")
        if member.receipt_no and _existing_receipts(connection, [member.receipt_no]):
            raise InputError("receipt_no", member.receipt_no, "already used by another member")
        _insert_member(connection, member, at_s=at_s, user=user)
        log_change(
            connection,
            kind="member_add",
            at_s=at_s,
            user=user,
            card_no=member.card_no,
            payload=member.to_json(),
        )

    _run(target, write)
    return member


# ---------------------------------------------------------------------------- reading
def _members(connection: Connection, cards: Sequence[str]) -> list[Member]:
    """The members of ``cards`` (in that order), with their phones and plates."""
    if not cards:
        return []
    table = schema.members
    rows = {
        row.card_no: row
        for row in connection.execute(select(table).where(table.c.card_no.in_(list(cards))))
    }
    phones: dict[str, list[str]] = {}
    plates: dict[str, list[str]] = {}
    for card, phone in connection.execute(
        select(schema.member_phones.c.card_no, schema.member_phones.c.phone)
        .where(schema.member_phones.c.card_no.in_(list(cards)))
        .order_by(schema.member_phones.c.phone)
    ):
        phones.setdefault(card, []).append(phone)
    for card, plate in connection.execute(
        select(schema.member_plates.c.card_no, schema.member_plates.c.plate)
        .where(schema.member_plates.c.card_no.in_(list(cards)))
        .order_by(schema.member_plates.c.plate)
    ):
        plates.setdefault(card, []).append(plate)
    return [
        Member(
            card_no=row.card_no,
            name=row.name,
            phones=tuple(phones.get(card, ())),
            plates=tuple(plates.get(card, ())),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            fee_paid_yuan=float(row.fee_paid_yuan),
            receipt_no=row.receipt_no,
            enrolled_job_id=row.enrolled_job_id,
        )
        for card in cards
        if (row := rows.get(card)) is not None
    ]


def get_member(target: Target, card_no: str, rules: IntakeRules | None = None) -> Member | None:
    """The member of ``card_no`` (as typed: normalized first), None when not in the register."""
    card = check_card_no(card_no, rules or _intake_rules())
    with _engine(target).connect() as connection:
        found = _members(connection, [card])
    return found[0] if found else None


def member_count(target: Target) -> int:
    with _engine(target).connect() as connection:
        return int(
            connection.execute(select(func.count()).select_from(schema.members)).scalar_one()
        )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find_members(target: Target, query: str = "", *, limit: int = 50) -> list[Member]:
    """Members whose card, phone, plate or name contains ``query`` (card, phone and plate
    compared as intake normalizes them); all members (by card) for an empty query."""
    if not isinstance(query, str) or len(query) > 60:
        raise InputError("q", query, "must be text of at most {count} characters", count=60)
    table = schema.members
    statement = select(table.c.card_no).order_by(table.c.card_no).limit(limit)
    if query.strip():
        key = _like(compact(query))
        name = _like(query.strip())
        phones = select(schema.member_phones.c.card_no).where(
            schema.member_phones.c.phone.like(key, escape="\\")
        )
        plates = select(schema.member_plates.c.card_no).where(
            schema.member_plates.c.plate.like(key, escape="\\")
        )
        statement = statement.where(
            or_(
                table.c.card_no.like(key, escape="\\"),
                table.c.name.like(name, escape="\\"),
                table.c.card_no.in_(phones),
                table.c.card_no.in_(plates),
            )
        )
    with _engine(target).connect() as connection:
        cards = [str(c) for c in connection.execute(statement).scalars()]
        return _members(connection, cards)


def all_members(target: Target) -> list[Member]:
    """Every member, by card number."""
    with _engine(target).connect() as connection:
        cards = [
            str(c)
            for c in connection.execute(
                select(schema.members.c.card_no).order_by(schema.members.c.card_no)
            ).scalars()
        ]
        return _members(connection, cards)
