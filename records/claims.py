"""Insurance accident records (SERVICE_RULES §6): who insures the car, which claim documents
the customer has in hand, and who towed it.

- ``insurer_tows``: the insurer of the accident car tows it; after the tow the owner signs
  the club's rescue work order (救援工作单).
- ``club_tows``: the insurer could not send a tow in time and the club towed: the customer
  pays on the spot and gets a formal invoice (number, title, amount, date) to claim back
  from the insurer; the invoice is required on this path.

The insurers and their 24-hour lines are ``[insurers]`` of config/rules.toml, the document
checklist and the paths ``[records] claim_documents`` and ``claim_paths``. A claim is one row
of ``claims`` per job, written with a ``record_log`` row in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from geo.errors import InputError
from geo.i18n import N_
from optimizer.dispatch.rules import Insurer, load_business_rules
from records import schema
from records.days import beijing_day
from records.record_log import log_change
from records.rules import RecordRules, load_record_rules
from records.sql import upsert
from records.store import EventStore

CLAIM_PATH_LABEL: Mapping[str, str] = {
    "insurer_tows": N_("The insurer tows; the owner signs the work order"),
    "club_tows": N_("The club tows; the customer pays on the spot and gets a formal invoice"),
}
"""What each ``[records] claim_paths`` code means, as the work order prints it."""
CLAIM_DOCUMENT_LABEL: Mapping[str, str] = {
    "liability_ruling": N_("Accident liability ruling"),
    "driving_licence": N_("Driving licence"),
    "vehicle_licence": N_("Vehicle licence"),
    "id_or_employer_certificate": N_("ID card or employer certificate"),
    "original_policy": N_("Original insurance policy"),
}
"""The labels of ``[records] claim_documents`` (SERVICE_RULES §6)."""

JOB_ID_CHARS = 40
INVOICE_NO = re.compile(r"^[A-Za-z0-9-]{1,40}$")
"""A formal invoice's number as printed on it: digits (8 on paper invoices, 20 on
electronic ones), with letters or dashes allowed for other formats."""
INVOICE_TITLE_CHARS = 100
NOTE_CHARS = 500
MAX_INVOICE_YUAN = 100_000.0
"""A bound against typing slips (no tow costs this), not a business rule."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Invoice:
    """The formal invoice the club gave for a ``club_tows`` claim."""

    number: str
    title: str
    amount_yuan: float
    date: str
    """``YYYY-MM-DD``."""

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "title": self.title,
            "amount_yuan": self.amount_yuan,
            "date": self.date,
        }


@dataclass(frozen=True)
class Claim:
    job_id: str
    insurer: str
    path: str
    documents: tuple[str, ...]
    """The checklist's codes in hand, in the checklist's order."""
    invoice: Invoice | None
    note: str
    updated_at_s: float
    updated_by: str

    def to_json(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "insurer": self.insurer,
            "path": self.path,
            "documents": list(self.documents),
            "invoice": None if self.invoice is None else self.invoice.to_json(),
            "note": self.note,
            "updated_at_s": self.updated_at_s,
            "updated_by": self.updated_by,
        }


# ---------------------------------------------------------------------------- checks
def check_job_id(job_id: Any) -> str:
    """``job_id`` as text, or :class:`InputError` (``job_id``)."""
    if not isinstance(job_id, str) or not job_id or len(job_id) > JOB_ID_CHARS:
        raise InputError("job_id", job_id, "unknown job")
    return job_id


def check_text(field: str, value: Any, *, max_chars: int, required: bool) -> str:
    """Text without control characters, trimmed, at most ``max_chars`` long."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InputError(field, value, "must be text")
    text = value.strip()
    if required and not text:
        raise InputError(field, value, "must not be empty")
    if len(text) > max_chars:
        raise InputError(field, value, "at most {count} characters", count=max_chars)
    if CONTROL.search(text):
        raise InputError(field, value, "must not contain control characters")
    return text


def check_yuan(field: str, value: Any, *, maximum: float, positive: bool = False) -> float:
    """An amount in yuan: a finite number (or its decimal text), not negative (``positive``:
    above zero), to the fen (0.01), at most ``maximum``."""
    amount: float
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InputError(field, value, "must be a number of yuan")
    if isinstance(value, str):
        if not re.fullmatch(r"\s*[0-9]{1,9}(?:\.[0-9]{1,2})?\s*", value):
            raise InputError(field, value, "must be a number of yuan")
        amount = float(value)
    else:
        amount = float(value)
    if not math.isfinite(amount) or amount < 0 or (positive and amount == 0):
        if positive:
            raise InputError(field, value, "must be above 0")
        raise InputError(field, value, "must be 0 or more")
    if amount > maximum:
        raise InputError(field, value, "at most {maximum:g} yuan", maximum=maximum)
    if abs(amount * 100 - round(amount * 100)) > 1e-6:
        raise InputError(field, value, "to the fen (0.01 yuan) at most")
    return round(amount, 2)


def _check_date(field: str, value: Any) -> dt.date:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise InputError(field, value, "a date YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(field, value, "a date YYYY-MM-DD") from None


def _check_documents(value: Any, checklist: Sequence[str]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple) or len(value) > len(checklist):
        raise InputError("documents", value, "a list of: {codes}", codes=", ".join(checklist))
    for code in value:
        if not isinstance(code, str) or code not in checklist:
            raise InputError("documents", code, "one of {codes}", codes=", ".join(checklist))
    if len(set(value)) != len(value):
        raise InputError("documents", value, "each document at most once")
    return tuple(code for code in checklist if code in value)


def _check_invoice(value: Any, *, path: str, job_day: str, today: str) -> Invoice | None:
    if path != "club_tows":
        if value not in (None, {}):
            raise InputError("invoice", value, "only when the club tows (club_tows)")
        return None
    if not isinstance(value, Mapping) or not value:
        raise InputError(
            "invoice", value, "required when the club tows: number, title, amount, date"
        )
    unknown = sorted(set(value) - {"number", "title", "amount_yuan", "date"})
    if unknown:
        raise InputError("invoice", unknown[0], "unknown field")
    number = value.get("number")
    if not isinstance(number, str) or not INVOICE_NO.match(number.strip()):
        raise InputError("invoice.number", number, "1-40 letters, digits or '-'")
    title = check_text(
        "invoice.title", value.get("title"), max_chars=INVOICE_TITLE_CHARS, required=True
    )
    amount = check_yuan(
        "invoice.amount_yuan", value.get("amount_yuan"), maximum=MAX_INVOICE_YUAN, positive=True
    )
    date = _check_date("invoice.date", value.get("date"))
    if date.isoformat() < job_day or date.isoformat() > today:
        raise InputError(
            "invoice.date",
            value.get("date"),
            "between the day of the call ({first}) and today ({last})",
            first=job_day,
            last=today,
        )
    return Invoice(number.strip(), title, amount, date.isoformat())


# ---------------------------------------------------------------------------- reading
def read_claim(connection: Connection, job_id: str) -> Claim | None:
    table = schema.claims
    row = connection.execute(select(table).where(table.c.job_id == job_id)).mappings().first()
    if row is None:
        return None
    invoice = None
    if row["invoice_no"] is not None:
        invoice = Invoice(
            row["invoice_no"],
            row["invoice_title"] or "",
            float(row["invoice_yuan"] or 0.0),
            row["invoice_date"] or "",
        )
    return Claim(
        job_id=row["job_id"],
        insurer=row["insurer"],
        path=row["path"],
        documents=tuple(json.loads(row["documents"])),
        invoice=invoice,
        note=row["note"] or "",
        updated_at_s=float(row["updated_at_s"]),
        updated_by=row["updated_by"],
    )


def claim(engine: Engine, job_id: Any) -> Claim | None:
    """The claim recorded for ``job_id``, if any."""
    with engine.connect() as connection:
        return read_claim(connection, check_job_id(job_id))


# ---------------------------------------------------------------------------- writing
def record_claim(
    store: EventStore,
    job_id: Any,
    *,
    insurer: Any,
    path: Any,
    documents: Any = None,
    invoice: Any = None,
    note: Any = None,
    user: str,
    at_s: float,
    rules: RecordRules | None = None,
    insurers: Mapping[str, Insurer] | None = None,
) -> Claim:
    """Record (or correct) the insurance claim of an accident job; every field is checked
    before anything is written, and the claim and its ``record_log`` row commit together.

    Parameters
    ----------
    insurer
        A key of ``[insurers]`` (``ping_an``...).
    path
        ``insurer_tows`` or ``club_tows`` (``[records] claim_paths``).
    documents
        The codes of ``[records] claim_documents`` the customer has in hand.
    invoice
        ``{"number", "title", "amount_yuan", "date"}``: required for ``club_tows``, refused
        otherwise.

    Raises
    ------
    InputError
        Naming the bad field (``job_id`` for an unknown job or one that is no accident).
    """
    rules = rules or load_record_rules()
    insurers = insurers if insurers is not None else load_business_rules().insurers
    job_id = check_job_id(job_id)
    if not isinstance(insurer, str) or insurer not in insurers:
        raise InputError("insurer", insurer, "unknown; one of {names}", names=", ".join(insurers))
    if not isinstance(path, str) or path not in rules.claim_paths:
        raise InputError("path", path, "one of {paths}", paths=", ".join(rules.claim_paths))
    in_hand = _check_documents(documents, rules.claim_documents)
    note_text = check_text("note", note, max_chars=NOTE_CHARS, required=False)
    if not math.isfinite(at_s):
        raise InputError("at_s", at_s, "must be a finite time")
    result: list[Claim] = []

    def write(connection: Connection) -> None:
        jobs = schema.jobs
        row = connection.execute(
            select(jobs.c.day, jobs.c.accident).where(jobs.c.job_id == job_id)
        ).first()
        if row is None:
            raise InputError("job_id", job_id, "unknown job")
        if not row.accident:
            raise InputError("job_id", job_id, "not an insurance accident (SERVICE_RULES §6)")
        bill = _check_invoice(invoice, path=path, job_day=row.day, today=beijing_day(at_s))
        values = {
            "job_id": job_id,
            "insurer": insurer,
            "path": path,
            "documents": json.dumps(list(in_hand)),
            "invoice_no": None if bill is None else bill.number,
            "invoice_title": None if bill is None else bill.title,
            "invoice_yuan": None if bill is None else bill.amount_yuan,
            "invoice_date": None if bill is None else bill.date,
            "note": note_text,
            "updated_at_s": at_s,
            "updated_by": user,
        }
        upsert(connection, schema.claims, [values])
        payload = {k: v for k, v in values.items() if k not in ("job_id", "updated_by")}
        payload["documents"] = list(in_hand)
        log_change(connection, kind="claim", at_s=at_s, user=user, job_id=job_id, payload=payload)
        saved = read_claim(connection, job_id)
        assert saved is not None
        result.append(saved)

    store.write(write)
    return result[0]
