"""The rescue work order (救援工作单, SERVICE_RULES §6-§7) of a job, read from the records.

A work order gathers what the job's record holds (``jobs``: its number per Beijing day, the
intake, the quote's items, the times of each state, truck and crew, road km driven and
towed) and what the crew collects on site (``work_orders``: the payment and the customer's
sign-off), with the insurance claim of an accident (:mod:`records.claims`).

The crew collects the member card or the fees (``[records] payment_methods``) and the
owner's signature once the work is done. :func:`record_payment` and :func:`record_sign_off`
check everything before writing and commit each change with its ``record_log`` row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select

from geo.errors import InputError
from geo.i18n import N_
from optimizer.dispatch.model import JobState
from optimizer.dispatch.words import word
from records import schema
from records.claims import Claim, check_job_id, check_text, check_yuan, read_claim
from records.record_log import log_change
from records.rules import RecordRules, load_record_rules
from records.sql import upsert
from records.store import EventStore

PAYMENT_METHOD_LABEL: Mapping[str, str] = {
    "cash": N_("Cash"),
    "card": N_("Bank card"),
    "member": N_("Member card"),
}
"""The labels of ``[records] payment_methods`` (SERVICE_RULES §7: the member card or fees)."""

PAYABLE_STATES = frozenset(
    {JobState.ON_SCENE, JobState.FIXED, JobState.TOWING, JobState.DELIVERED, JobState.CLOSED}
)
"""The crew collects the fees on site: from its arrival on (§6: the customer of a club tow
pays on the spot)."""
SIGNABLE_STATES = frozenset({JobState.FIXED, JobState.DELIVERED, JobState.CLOSED})
"""The owner signs once the work is done: fixed on site, or the car delivered (§6, §7)."""
SIGNER_CHARS = 40
MAX_PAID_YUAN = 100_000.0
"""A bound against typing slips (no rescue costs this), not a business rule."""


@dataclass(frozen=True)
class FeeItem:
    code: str
    label: str
    """English; ``label_zh`` the Chinese (both from the quote)."""
    label_zh: str
    fee_yuan: float


@dataclass(frozen=True)
class StateTime:
    """A line of the job's history: the state it entered and when."""

    state: str
    at_s: float
    note: str = ""
    note_zh: str = ""


@dataclass(frozen=True)
class Payment:
    method: str
    paid_yuan: float


@dataclass(frozen=True)
class SignOff:
    name: str
    at_s: float


@dataclass(frozen=True)
class WorkOrder:
    """Everything the paper work order shows (times epoch seconds, money yuan, metres)."""

    job_id: str
    order_no: str
    day: str
    state: str
    created_at_s: float
    deadline_s: float
    zone: str | None
    required_kind: str
    converted: bool
    member: bool
    member_card: str | None
    caller_name: str
    caller_gender: str | None
    phone: str
    plate: str
    vehicle_model: str
    vehicle_colour: str
    location: tuple[float, float] | None
    landmarks: str
    fault_category: str | None
    fault_symptoms: str
    customer_need: str
    accident: bool
    insurer: str | None
    tow_destination_name: str
    truck_id: str | None
    crew: str
    assigned_at_s: float | None
    arrived_at_s: float | None
    finished_at_s: float | None
    closed_at_s: float | None
    driven_m: float | None
    tow_m: float | None
    promise_kept: bool | None
    cancel_reason: str | None
    fees: tuple[FeeItem, ...]
    total_yuan: float
    notices: tuple[str, ...]
    notices_zh: tuple[str, ...]
    history: tuple[StateTime, ...]
    payment: Payment | None
    sign_off: SignOff | None
    claim: Claim | None
    updated_by: str | None = None
    """Who recorded the payment or sign-off last."""

    @property
    def finished(self) -> bool:
        """The work is done (fixed, delivered or closed): the owner can sign."""
        return self.state in SIGNABLE_STATES

    @property
    def payable(self) -> bool:
        return self.state in PAYABLE_STATES

    def to_json(self) -> dict[str, Any]:
        out = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("fees", "history", "payment", "sign_off", "claim")
        }
        out["location"] = None if self.location is None else list(self.location)
        out["notices"], out["notices_zh"] = list(self.notices), list(self.notices_zh)
        out["fees"] = [item.__dict__ for item in self.fees]
        out["history"] = [entry.__dict__ for entry in self.history]
        out["payment"] = None if self.payment is None else self.payment.__dict__
        out["sign_off"] = None if self.sign_off is None else self.sign_off.__dict__
        out["claim"] = None if self.claim is None else self.claim.to_json()
        return out


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _order(job: RowMapping, row: RowMapping | None, claim: Claim | None) -> WorkOrder:
    detail: dict[str, Any] = json.loads(job["detail"])
    caller, vehicle = detail.get("caller") or {}, detail.get("vehicle") or {}
    quote = detail.get("quote") or {}
    location = detail.get("location") or detail.get("reported_location")
    payment = sign_off = None
    if row is not None and row["payment_method"] is not None:
        payment = Payment(row["payment_method"], float(row["paid_yuan"] or 0.0))
    if row is not None and row["signed_by"] is not None:
        sign_off = SignOff(row["signed_by"], float(row["signed_at_s"]))
    return WorkOrder(
        job_id=job["job_id"],
        order_no=job["order_no"],
        day=job["day"],
        state=job["state"],
        created_at_s=float(job["created_at_s"]),
        deadline_s=float(job["deadline_s"]),
        zone=job["zone"],
        required_kind=job["required_kind"],
        converted=bool(job["converted"]),
        member=bool(job["member"]),
        member_card=job["member_card"],
        caller_name=job["caller_name"],
        caller_gender=caller.get("gender"),
        phone=job["phone"],
        plate=job["plate"],
        vehicle_model=_text(vehicle.get("model")),
        vehicle_colour=_text(vehicle.get("colour")),
        location=None if not location else (float(location[0]), float(location[1])),
        landmarks=_text(detail.get("landmarks")),
        fault_category=detail.get("fault_category"),
        fault_symptoms=_text(detail.get("fault_symptoms")),
        customer_need=_text(detail.get("customer_need")),
        accident=bool(job["accident"]),
        insurer=job["insurer"],
        tow_destination_name=_text(detail.get("tow_destination_name")),
        truck_id=job["truck_id"],
        crew=job["crew"] or "",
        assigned_at_s=job["assigned_at_s"],
        arrived_at_s=job["arrived_at_s"],
        finished_at_s=job["finished_at_s"],
        closed_at_s=job["closed_at_s"],
        driven_m=job["driven_m"],
        tow_m=job["tow_m"],
        promise_kept=detail.get("promise_kept"),
        cancel_reason=detail.get("cancel_reason"),
        fees=tuple(
            FeeItem(
                str(item["code"]),
                _text(item.get("label")),
                _text(item.get("label_zh")),
                float(item["fee_yuan"]),
            )
            for item in quote.get("items") or []
        ),
        total_yuan=float(job["total_yuan"]),
        notices=tuple(quote.get("notices") or ()),
        notices_zh=tuple(quote.get("notices_zh") or ()),
        history=tuple(
            StateTime(
                str(h["state"]),
                float(h["at_s"]),
                _text(h.get("note")),
                _text(h.get("note_zh")) or _text(h.get("note")),
            )
            for h in detail.get("history") or []
        ),
        payment=payment,
        sign_off=sign_off,
        claim=claim,
        updated_by=None if row is None else row["updated_by"],
    )


def read_work_order(connection: Connection, job_id: str) -> WorkOrder:
    jobs = schema.jobs
    details = schema.job_details
    job = (
        connection.execute(
            select(jobs, details.c.detail)
            .join(details, details.c.job_id == jobs.c.job_id)
            .where(jobs.c.job_id == job_id)
        )
        .mappings()
        .first()
    )
    if job is None:
        raise InputError("job_id", job_id, "unknown job")
    table = schema.work_orders
    row = connection.execute(select(table).where(table.c.job_id == job_id)).mappings().first()
    return _order(job, row, read_claim(connection, job_id))


def work_order(engine: Engine, job_id: Any) -> WorkOrder:
    """The work order of ``job_id``; :class:`InputError` (``job_id``) for an unknown job."""
    job_id = check_job_id(job_id)
    with engine.connect() as connection:
        return read_work_order(connection, job_id)


# ---------------------------------------------------------------------------- writing
def _log(
    connection: Connection, *, at_s: float, user: str, kind: str, job_id: str, **what: Any
) -> None:
    log_change(connection, kind=kind, at_s=at_s, user=user, job_id=job_id, payload=what)


def _check_at(at_s: Any) -> float:
    if isinstance(at_s, bool) or not isinstance(at_s, int | float) or not math.isfinite(at_s):
        raise InputError("at_s", at_s, "must be a finite time")
    return float(at_s)


def record_payment(
    store: EventStore,
    job_id: Any,
    *,
    method: Any,
    paid_yuan: Any,
    user: str,
    at_s: float,
    rules: RecordRules | None = None,
) -> WorkOrder:
    """Record (or correct) how the customer paid: ``method`` one of ``[records]
    payment_methods`` (``member`` only for a member's job) and the amount in yuan.

    Raises
    ------
    InputError
        Naming the bad field; ``job_id`` for an unknown job or one the crew has not reached.
    """
    rules = rules or load_record_rules()
    job_id = check_job_id(job_id)
    methods = rules.payment_methods
    if not isinstance(method, str) or method not in methods:
        raise InputError("method", method, "one of {methods}", methods=", ".join(methods))
    amount = check_yuan("paid_yuan", paid_yuan, maximum=MAX_PAID_YUAN)
    at = _check_at(at_s)
    result: list[WorkOrder] = []

    def write(connection: Connection) -> None:
        order = read_work_order(connection, job_id)
        if order.state not in PAYABLE_STATES:
            raise InputError(
                "job_id",
                job_id,
                "job {job} is {state}: nothing to pay yet",
                job=job_id,
                state=word(order.state),
            )
        if method == "member" and not order.member:
            raise InputError("method", method, "the caller is not a member")
        upsert(
            connection,
            schema.work_orders,
            [
                {
                    "job_id": job_id,
                    "payment_method": method,
                    "paid_yuan": amount,
                    "updated_at_s": at,
                    "updated_by": user,
                }
            ],
        )
        _log(
            connection,
            at_s=at,
            user=user,
            kind="work_order.payment",
            job_id=job_id,
            method=method,
            paid_yuan=amount,
            total_yuan=order.total_yuan,
        )
        result.append(read_work_order(connection, job_id))

    store.write(write)
    return result[0]


def record_sign_off(
    store: EventStore,
    job_id: Any,
    *,
    name: Any,
    user: str,
    at_s: float,
) -> WorkOrder:
    """Record the customer's sign-off (``name`` as signed, at ``at_s``) on a finished job's
    work order; a work order is signed once.

    Raises
    ------
    InputError
        ``name`` empty or too long; ``job_id`` unknown, not finished or already signed.
    """
    job_id = check_job_id(job_id)
    signer = check_text("name", name, max_chars=SIGNER_CHARS, required=True)
    at = _check_at(at_s)
    result: list[WorkOrder] = []

    def write(connection: Connection) -> None:
        order = read_work_order(connection, job_id)
        if order.state not in SIGNABLE_STATES:
            raise InputError(
                "job_id",
                job_id,
                "job {job} is {state}: the work is not finished",
                job=job_id,
                state=word(order.state),
            )
        if order.sign_off is not None:
            raise InputError("job_id", job_id, "already signed by {name}", name=order.sign_off.name)
        upsert(
            connection,
            schema.work_orders,
            [
                {
                    "job_id": job_id,
                    "signed_by": signer,
                    "signed_at_s": at,
                    "updated_at_s": at,
                    "updated_by": user,
                }
            ],
        )
        _log(connection, at_s=at, user=user, kind="work_order.sign_off", job_id=job_id, name=signer)
        result.append(read_work_order(connection, job_id))

    store.write(write)
    return result[0]
