"""The member register as a CSV file (SERVICE_RULES §5): export, and an import that is all
or nothing: every bad cell is reported by line and column, and nothing of a file with one is
imported (``member_import`` in ``record_log``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection

from geo.errors import InputError
from geo.i18n import N_
from optimizer.dispatch.identifiers import (
    IntakeRules,
)
from records.members import (
    CSV_COLUMNS,
    ERRORS_NAMED,
    MAX_IMPORT_ROWS,
    Member,
    Target,
    _existing_cards,
    _existing_receipts,
    _insert_member,
    _intake_rules,
    _run,
    all_members,
    check_member,
)
from records.record_log import log_change


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
