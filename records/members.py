"""The member register (SERVICE_RULES §5): who holds a card, for which cars, until when.

A member is one row of ``members`` (card number, name, validity, the fee paid and its
receipt) with its phones (``member_phones``) and plates (``member_plates``). Card numbers,
phones and plates are checked and normalized exactly as at intake
(:mod:`optimizer.dispatch.identifiers`, ``[intake]`` of config/rules.toml), so the card a
dispatcher types matches the register's. Validity runs from ``valid_from`` to ``valid_to``,
both days included (Beijing dates, ``YYYY-MM-DD``).

Every change writes a ``record_log`` row in its transaction: ``member_add`` (one member
added), ``member_import`` (a CSV file, all or nothing) and ``member_enrol`` (a caller who
joins during the call, §5: the membership fee of ``[fees] membership_yuan`` applies at
once, for ``[records] membership_days`` from the call's day).

:func:`card_check` answers what the dispatcher needs while the caller is on the line: the
card's status (:data:`CARD_STATUSES`) and the line to say (Chinese and English, from the
message catalogue).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update

from geo.errors import InputError
from geo.i18n import N_, both
from optimizer.dispatch.identifiers import (
    IntakeRules,
    compact,
    normalize_member_card,
    normalize_phone,
    normalize_plate,
)
from optimizer.dispatch.rules import load_business_rules
from records import schema
from records.days import beijing_day
from records.record_log import log_change
from records.rules import RecordRules, load_record_rules
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


def _existing_cards(connection: Connection, cards: Sequence[str]) -> set[str]:
    found: set[str] = set()
    table = schema.members
    for start in range(0, len(cards), 500):
        chunk = list(cards[start : start + 500])
        found.update(
            str(c)
            for c in connection.execute(
                select(table.c.card_no).where(table.c.card_no.in_(chunk))
            ).scalars()
        )
    return found


def _existing_receipts(connection: Connection, receipts: Sequence[str]) -> set[str]:
    found: set[str] = set()
    table = schema.members
    for start in range(0, len(receipts), 500):
        chunk = list(receipts[start : start + 500])
        found.update(
            str(r)
            for r in connection.execute(
                select(table.c.receipt_no).where(table.c.receipt_no.in_(chunk))
            ).scalars()
        )
    return found


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


# ---------------------------------------------------------------------------- CSV
def export_csv(target: Target) -> str:
    """The register as CSV (:data:`CSV_COLUMNS`; several phones or plates joined by ``;``)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for member in all_members(target):
        writer.writerow(member.csv_row())
    return out.getvalue()


@dataclass(frozen=True)
class CellError:
    """One bad cell of an imported file: its line (the header is line 1) and column."""

    line: int
    column: str
    value: Any
    reason_id: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"line {self.line}, column {self.column}"

    def to_json(self) -> dict[str, Any]:
        error = InputError(self.where, self.value, self.reason_id, **self.params)
        return {
            "line": self.line,
            "column": self.column,
            "value": error.value,
            "message": error.reason,
            "message_zh": error.message("zh"),
        }


class ImportRefusedError(InputError):
    """A CSV import refused, nothing imported: the field names the first few bad cells
    (``line 3, column valid_from; line 5, column card_no``), the value and reason are the
    first one's; :attr:`errors` lists them all."""

    def __init__(self, errors: Sequence[CellError]) -> None:
        first = errors[0]
        where = "; ".join(e.where for e in errors[:ERRORS_NAMED])
        if len(errors) > ERRORS_NAMED:
            where += f"; … ({len(errors)} in all)"
        super().__init__(where, first.value, first.reason_id, **first.params)
        self.errors = list(errors)


def _cell_error(line: int, error: InputError) -> CellError:
    """The cell of ``error`` (its field is the column: :func:`check_member` names them)."""
    return CellError(line, error.field, error.value, error.reason_id, dict(error.params))


def parse_csv(
    text: str, rules: IntakeRules | None = None
) -> tuple[list[tuple[int, Member]], list[CellError]]:
    """The members of a CSV file with their lines, and every bad cell (by line and column):
    a bad header, malformed values, a card twice in the file."""
    rules = rules or _intake_rules()
    if not isinstance(text, str):
        raise InputError("file", None, "must be text")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if header is None or [h.strip() for h in header] != list(CSV_COLUMNS):
        shown = ",".join(header or [])
        return [], [
            CellError(
                1,
                "header",
                shown,
                N_("the header must be {columns}"),
                {"columns": ",".join(CSV_COLUMNS)},
            )
        ]
    members: list[tuple[int, Member]] = []
    errors: list[CellError] = []
    first_line: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(members) + len(errors) >= MAX_IMPORT_ROWS:
            errors.append(
                CellError(
                    line, "card_no", None, N_("more than {count} rows"), {"count": MAX_IMPORT_ROWS}
                )
            )
            break
        if len(row) != len(CSV_COLUMNS):
            errors.append(
                CellError(
                    line,
                    CSV_COLUMNS[min(len(row), len(CSV_COLUMNS) - 1)],
                    ",".join(row),
                    N_("expected {count} columns, found {found}"),
                    {"count": len(CSV_COLUMNS), "found": len(row)},
                )
            )
            continue
        data = dict(zip(CSV_COLUMNS, row, strict=True))
        try:
            member = check_member(data, rules)
        except InputError as error:
            errors.append(_cell_error(line, error))
            continue
        if member.card_no in first_line:
            errors.append(
                CellError(
                    line,
                    "card_no",
                    member.card_no,
                    N_("is in the file twice (first on line {line})"),
                    {"line": first_line[member.card_no]},
                )
            )
            continue
        first_line[member.card_no] = line
        members.append((line, member))
    return members, errors


def import_csv(
    target: Target,
    text: str,
    *,
    user: str,
    at_s: float,
    rules: IntakeRules | None = None,
) -> list[Member]:
    """Import a CSV file of members, all or nothing: every bad cell (and every card already
    in the register) is reported by :class:`ImportRefusedError` and nothing is written;
    otherwise all members and one ``member_import`` log row commit together."""
    lined, errors = parse_csv(text, rules)
    members = [member for _, member in lined]
    line_of = {member.card_no: line for line, member in lined}

    def write(connection: Connection) -> None:
        found = list(errors)
        taken = _existing_cards(connection, [m.card_no for m in members])
        for member in members:
            if member.card_no in taken:
                found.append(
                    CellError(
                        line_of[member.card_no],
                        "card_no",
                        member.card_no,
                        "already in the member register",
                    )
                )
        receipts = [m.receipt_no for m in members if m.receipt_no]
        used = _existing_receipts(connection, receipts)
        seen: dict[str, str] = {}
        for member in members:
            receipt = member.receipt_no
            if receipt and (receipt in used or receipt in seen):
                found.append(
                    CellError(
                        line_of[member.card_no],
                        "receipt_no",
                        receipt,
                        "already used by another member",
                    )
                )
            elif receipt:
                seen[receipt] = member.card_no
        if found:
            raise ImportRefusedError(sorted(found, key=_cell_order))
        if not members:
            raise InputError("file", None, "has no member rows")
        for member in members:
            _insert_member(connection, member, at_s=at_s, user=user)
        log_change(
            connection,
            kind="member_import",
            at_s=at_s,
            user=user,
            card_no=None,
            payload={"count": len(members), "cards": [m.card_no for m in members]},
        )

    _run(target, write)
    return members


def _cell_order(error: CellError) -> tuple[int, int]:
    columns = list(CSV_COLUMNS)
    return error.line, columns.index(error.column) if error.column in columns else -1


# ---------------------------------------------------------------------------- card check
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


# ---------------------------------------------------------------------------- join now
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
