"""Parse and validate a call's intake (SERVICE_RULES §2) from JSON.

Every error is an :class:`InputError` naming the field path (``caller.phone``) and value.
The caller's phone, the plate and the member card are checked and normalized by
:mod:`optimizer.dispatch.identifiers` (the patterns of ``config/rules.toml`` ``[intake]``).
The fields a call's price depends on are parsed by :func:`parse_quote_request`, which
:func:`parse_intake` uses too, so a quote asked for on its own (``rescue quote``) reads
them exactly as intake does.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from geo.coords import to_wgs84
from geo.errors import InputError
from optimizer.dispatch.identifiers import (
    normalize_member_card,
    normalize_phone,
    normalize_plate,
)
from optimizer.dispatch.model import Caller, Intake, LonLat, Vehicle
from optimizer.dispatch.rules import Rules
from optimizer.dispatch.triage import required_kind

GENDERS = ("male", "female")

# Non-members: "record the customer's details in full" (SERVICE_RULES §2). The manual
# (../shared/seed/) says which: 确定为非会员时应详细记录客户信息 ... (客户信息:车型、车号、
# 联系人、联系电话、故障原因、客户需求), and its non-member script asks 贵姓? 车型? 颜色? 电话?
# Name, phone and plate are required of every call; a non-member's call also needs the
# fields below. The manual asks for no ID number or address at intake (the ID card is a
# claim document, §6), so ``customer_details`` stays optional free text.
NON_MEMBER_FIELDS = (
    "vehicle.model",  # 车型
    "vehicle.colour",  # 颜色
    "fault_symptoms",  # 故障原因 (what the caller reports)
    "customer_need",  # 客户需求
)


INTAKE_FIELDS: dict[str, Any] = {
    "caller": {"name": ("text", 60), "phone": ("text", 20), "gender": ("text", 10)},
    "vehicle": {"plate": ("text", 20), "model": ("text", 60), "colour": ("text", 30)},
    "member": "bool",
    "member_card": ("text", 40),
    "location": "point",
    "crs": ("text", 10),
    "landmarks": ("text", 500),
    "on_highway": "bool",
    "fault_symptoms": ("text", 500),
    "fault_category": ("text", 40),
    "customer_need": ("text", 500),
    "customer_details": ("text", 500),
    "tow_destination": "point",
    "tow_destination_name": ("text", 500),
    "accident": "bool",
    "insurer": ("text", 40),
}
"""The fields a dispatcher's intake may hold (``created_at`` is the server's to set), with
their JSON kind and, for text, the longest accepted; :func:`parse_intake` reads them with
the same limits (:func:`_max_chars`)."""


def _max_chars(path: str) -> int:
    spec: Any = INTAKE_FIELDS
    for part in path.split("."):
        spec = spec[part]
    return int(spec[1])


MAX_EPOCH_S = 95_617_584_000  # 5000-01-01: bounds a huge integer before float()
MAX_COORDINATE = 1e6
"""Beyond any projection's range: bounds a huge integer before it becomes a float."""


@dataclass(frozen=True)
class QuoteRequest:
    """The fields of a call its price depends on (the same names as on :class:`Intake`)."""

    member: bool
    location: LonLat
    on_highway_reported: bool | None
    fault_category: str | None
    """None only when a quote is asked for without a fault (no tow unless one is asked)."""
    tow_destination: LonLat | None
    tow_destination_name: str
    accident: bool
    insurer: str | None


def _prefix(value: Any, length: int = 20) -> Any:
    """A text value cut to its first ``length`` characters, for an error message."""
    if isinstance(value, str) and len(value) > length:
        return value[:length] + "..."
    return value


def _text(data: dict[str, Any], key: str, *, path: str, required: bool) -> str:
    """The text field ``key`` of ``data`` (``path`` in :data:`INTAKE_FIELDS`), stripped."""
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InputError(path, value, "is required")
        return ""
    if not isinstance(value, str):
        raise InputError(path, value, "must be text")
    max_chars = _max_chars(path)
    if len(value) > max_chars:
        raise InputError(path, value, "is longer than {max_chars} characters", max_chars=max_chars)
    return value.strip()


def _object(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise InputError(key, value, "must be an object")
    return value


def _bool(data: dict[str, Any], key: str, *, default: bool | None) -> bool | None:
    value = data.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise InputError(key, value, "must be true or false")
    return value


def parse_lonlat(value: Any, *, field: str, crs: str = "wgs84") -> LonLat:
    """``[lon, lat]`` (list, tuple or ``{"lon", "lat"}``) in ``crs`` -> WGS-84 tuple."""
    if isinstance(value, dict) and {"lon", "lat"} <= set(value):
        value = [value["lon"], value["lat"]]
    if not isinstance(value, list | tuple) or len(value) != 2:
        raise InputError(field, value, "expected [lon, lat]")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        raise InputError(field, value, "expected two numbers [lon, lat]")
    if not all(abs(v) < MAX_COORDINATE and math.isfinite(v) for v in value):
        raise InputError(field, value, "coordinates must be finite numbers (|x| < 1e6)")
    return to_wgs84(value[0], value[1], crs)


def parse_time_s(value: Any, *, field: str) -> float:
    """Epoch seconds from a number or an ISO 8601 text with a UTC offset."""
    if isinstance(value, bool):
        raise InputError(field, value, "expected epoch seconds or an ISO 8601 time")
    if isinstance(value, int | float):
        if abs(value) > MAX_EPOCH_S:
            raise InputError(field, value, "must be a time before the year 5000")
        seconds = float(value)
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise InputError(
                field, value, "expected an ISO 8601 time like 2026-11-29T18:00:00+08:00"
            ) from None
        if parsed.tzinfo is None:
            raise InputError(field, value, "needs a UTC offset, e.g. +08:00")
        seconds = parsed.timestamp()
    else:
        raise InputError(field, value, "expected epoch seconds or an ISO 8601 time")
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(field, value, "must be a non-negative time")
    return seconds


def parse_quote_request(data: Any, rules: Rules, *, fault_required: bool = True) -> QuoteRequest:
    """Validate the fields a call's price depends on; raise :class:`InputError` on the first
    bad one. ``location`` and ``tow_destination`` are read in ``crs`` and given in WGS-84."""
    if not isinstance(data, dict):
        raise InputError("job", type(data).__name__, "must be a JSON object")
    crs = data.get("crs", "wgs84")
    member = _bool(data, "member", default=None)
    if member is None:
        raise InputError("member", data.get("member"), "is required (true or false)")
    if "location" not in data:
        raise InputError("location", None, "is required: [lon, lat] of the car")
    fault = (
        _text(
            data,
            "fault_category",
            path="fault_category",
            required=fault_required,
        )
        or None
    )
    if fault is not None:
        required_kind(fault, rules)  # validates the category
    insurer = _text(data, "insurer", path="insurer", required=False) or None
    if insurer is not None and insurer not in rules.insurers:
        raise InputError(
            "insurer", insurer, "unknown; one of {names}", names=", ".join(rules.insurers)
        )
    tow_to = data.get("tow_destination")
    return QuoteRequest(
        member=member,
        location=parse_lonlat(data["location"], field="location", crs=crs),
        on_highway_reported=_bool(data, "on_highway", default=None),
        fault_category=fault,
        tow_destination=None
        if tow_to is None
        else parse_lonlat(tow_to, field="tow_destination", crs=crs),
        tow_destination_name=_text(
            data,
            "tow_destination_name",
            path="tow_destination_name",
            required=False,
        ),
        accident=bool(_bool(data, "accident", default=False)),
        insurer=insurer,
    )


def _check_non_member_details(given: dict[str, tuple[str, Any]]) -> None:
    """A non-member's details in full (:data:`NON_MEMBER_FIELDS`): each one given, with at
    least one letter or digit (not blank, not just "-" or "?"). ``given`` maps a field path
    to its parsed text and the value received."""
    for path in NON_MEMBER_FIELDS:
        text, received = given[path]
        if not any(ch.isalnum() for ch in text):
            raise InputError(
                path,
                _prefix(received),
                "is required for a non-member: record the customer's details in full "
                "(SERVICE_RULES §2: model, colour, plate, contact, phone, fault, need)",
            )


def parse_intake(data: Any, rules: Rules) -> Intake:
    """Validate a call's fields; raise :class:`InputError` on the first bad one."""
    if not isinstance(data, dict):
        raise InputError("job", type(data).__name__, "must be a JSON object")
    caller = _object(data, "caller")
    vehicle = _object(data, "vehicle")
    phone = normalize_phone(
        _text(caller, "phone", path="caller.phone", required=True), rules.intake
    )
    gender = (
        _text(
            caller,
            "gender",
            path="caller.gender",
            required=False,
        )
        or None
    )
    if gender is not None and gender not in GENDERS:
        raise InputError(
            "caller.gender", gender, "one of {names}, or leave it out", names=", ".join(GENDERS)
        )
    request = parse_quote_request(data, rules)
    assert request.fault_category is not None  # required above
    card = _text(data, "member_card", path="member_card", required=request.member)
    member_card = normalize_member_card(card, rules.intake) if card else None
    name = _text(caller, "name", path="caller.name", required=True)
    plate = normalize_plate(
        _text(vehicle, "plate", path="vehicle.plate", required=True), rules.intake
    )
    model = _text(vehicle, "model", path="vehicle.model", required=False)
    colour = _text(
        vehicle,
        "colour",
        path="vehicle.colour",
        required=False,
    )
    symptoms = _text(
        data,
        "fault_symptoms",
        path="fault_symptoms",
        required=False,
    )
    need = _text(
        data,
        "customer_need",
        path="customer_need",
        required=False,
    )
    if not request.member:
        _check_non_member_details(
            {
                "vehicle.model": (model, vehicle.get("model")),
                "vehicle.colour": (colour, vehicle.get("colour")),
                "fault_symptoms": (symptoms, data.get("fault_symptoms")),
                "customer_need": (need, data.get("customer_need")),
            }
        )
    return Intake(
        caller=Caller(name=name, phone=phone, gender=gender),
        vehicle=Vehicle(plate=plate, model=model, colour=colour),
        member=request.member,
        member_card=member_card,
        location=request.location,
        landmarks=_text(data, "landmarks", path="landmarks", required=False),
        on_highway_reported=request.on_highway_reported,
        fault_symptoms=symptoms,
        fault_category=request.fault_category,
        customer_need=need,
        tow_destination=request.tow_destination,
        tow_destination_name=request.tow_destination_name,
        accident=request.accident,
        insurer=request.insurer,
        customer_details=_text(
            data,
            "customer_details",
            path="customer_details",
            required=False,
        ),
        created_at_s=None
        if data.get("created_at") is None
        else parse_time_s(data["created_at"], field="created_at"),
    )
