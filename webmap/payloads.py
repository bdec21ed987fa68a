"""What each Socket.IO event accepts: a schema per event, checked whole before anything runs.

A payload is refused (:class:`geo.errors.InputError` naming the field and a short prefix
of the value) when it is not a JSON object, is larger than :data:`MAX_EVENT_BYTES`, nests
deeper than :data:`MAX_DEPTH`, holds a non-finite number, a text that is not valid UTF-8
(a lone surrogate such as ``"\\ud800"``) or longer than its field allows, a field the event
does not know, or a value of the wrong type. Only a payload that passes reaches the
center, so a refusal costs a walk over at most :data:`MAX_EVENT_BYTES` and never touches
the live state or the store.

The engine.io transport drops a message larger than :data:`MAX_TRANSPORT_BYTES` before any
handler sees it (the connection is closed); everything between that and
:data:`MAX_EVENT_BYTES` gets the refusal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from geo.errors import InputError, brief
from geo.i18n import N_
from optimizer.dispatch.cancel import MAX_NOTE_CHARS as MAX_CANCEL_NOTE_CHARS
from optimizer.dispatch.intake import INTAKE_FIELDS

MAX_EVENT_BYTES = 64 * 1024
"""A call's intake is under 4 KB; 64 KiB leaves room and bounds every refusal's cost."""
MAX_TRANSPORT_BYTES = 2 * 1024 * 1024
"""engine.io's cap on one message. Up to it a payload reaches the handler and gets the
refusal (a 1 MiB payload, a 900,000-character name: the cases an attacker tried), within
100 ms on this machine (``benchmarks/hostile.py``); the transport's cost grows with the
size (about 45 ms per MB, both ends), so beyond it engine.io closes the connection instead
of reading on."""
MAX_DEPTH = 4
"""The deepest payload of any event: intake -> caller -> name is 2; lists of points 3."""
MAX_TEXT_CHARS = 500
"""The longest free text of any field (the intake's descriptions)."""
MAX_INTEGER = 2**53
"""Integers beyond this do not survive JavaScript's numbers: no client sends them."""

Kind = Literal["text", "integer", "number", "bool", "object", "point"]


@dataclass(frozen=True)
class Field:
    """One field of a payload: its JSON kind, whether it must be there, its bounds."""

    kind: Kind
    required: bool = False
    max_chars: int = 80
    fields: Mapping[str, Field] = field(default_factory=dict)
    """The fields of an ``object``; any other key is refused."""
    minimum: float | None = None
    maximum: float | None = None

    def check(self, value: Any, path: str) -> None:
        if self.kind == "text":
            if not isinstance(value, str):
                raise InputError(path, value, "must be text")
            if len(value) > self.max_chars:
                raise InputError(
                    path, value, "is longer than {max_chars} characters", max_chars=self.max_chars
                )
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise InputError(path, value, "must be true or false")
        elif self.kind in ("integer", "number"):
            self._check_number(value, path)
        elif self.kind == "point":
            if not (isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))):
                raise InputError(path, value, "expected [lon, lat], two numbers")
        else:
            check_fields(value, self.fields, path=path)

    def _check_number(self, value: Any, path: str) -> None:
        integer = self.kind == "integer"
        if not (_is_number(value) and (not integer or isinstance(value, int))):
            if integer:
                raise InputError(path, value, "must be an integer")
            raise InputError(path, value, "must be a number")
        low = -math.inf if self.minimum is None else self.minimum
        high = math.inf if self.maximum is None else self.maximum
        if not low <= value <= high:
            if integer:
                raise InputError(
                    path, value, "must be an integer in [{low:g}, {high:g}]", low=low, high=high
                )
            raise InputError(
                path, value, "must be a number in [{low:g}, {high:g}]", low=low, high=high
            )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_fields(data: Any, fields: Mapping[str, Field], *, path: str = "") -> None:
    """``data`` is an object of exactly ``fields`` (``null`` counts as absent)."""
    where = path or "payload"
    if not isinstance(data, dict):
        raise InputError(where, data, "must be a JSON object")
    for key in data:
        if key not in fields:
            accepted = ", ".join(sorted(fields)) or "none"
            name = str(brief(f"{path}.{key}" if path else key))
            raise InputError(name, key, "unknown field ({accepted})", accepted=accepted)
    for name, spec in fields.items():
        value = data.get(name)
        full = f"{path}.{name}" if path else name
        if value is None:
            if spec.required:
                raise InputError(full, None, "is required")
            continue
        spec.check(value, full)


@dataclass(frozen=True)
class Unreadable:
    """An event's payload that was not JSON the server could read (deeper than the parser
    goes, an integer of more than 4,300 digits): :func:`check_json` refuses it."""

    reason_id: str
    """The refusal: a text of the message catalogue, with ``params`` its placeholders."""
    params: Mapping[str, Any] = field(default_factory=dict)


_EVENT_NAME = re.compile(r'^\[\s*"([A-Za-z_]{1,40})"')


class SocketJson:
    """The JSON module Socket.IO reads events with (``SocketIO(json=SocketJson)``).

    The standard library's C parser: python-engineio's default parses every integer in
    Python, 0.4 s of the GIL for a 2 MB list of zeros. A text with more separators than
    :data:`MAX_EVENT_BYTES` is not parsed at all; one the parser refuses (an integer of
    more than 4,300 digits, nesting deeper than the parser goes) is not either. Both become
    the event with an :class:`Unreadable` payload, so the sender gets a refusal naming the
    event instead of silence.
    """

    @staticmethod
    def dumps(value: Any, **kwargs: Any) -> str:
        return json.dumps(value, **kwargs)

    @staticmethod
    def loads(text: str | bytes, **kwargs: Any) -> Any:
        separators = text.count(",") if isinstance(text, str) else text.count(b",")
        if separators > MAX_EVENT_BYTES:  # that many items are too large an event unread
            return _unreadable(
                text, N_("has over {maximum} items: too large an event"), maximum=MAX_EVENT_BYTES
            )
        try:
            return json.loads(text, **kwargs)
        except (ValueError, RecursionError) as error:
            return _unreadable(
                text, N_("is not JSON the server can read: {error}"), error=str(error)[:80]
            )


def _unreadable(text: str | bytes, reason: str, /, **params: Any) -> list[Any]:
    """``[event, Unreadable(reason)]`` for a Socket.IO event's text, named from its start."""
    head = text[:60] if isinstance(text, str) else text[:60].decode("utf-8", "replace")
    event = _EVENT_NAME.match(head)
    if event is None:
        raise ValueError(reason.format(**params)[:120])
    return [event.group(1), Unreadable(reason, params)]


def check_json(data: Any) -> None:
    """The payload as JSON: size, depth, finite numbers, valid UTF-8 text (see module doc).

    Walks the value without recursion and stops at the first fault, so a hostile payload
    costs at most a walk over :data:`MAX_EVENT_BYTES`.
    """
    if isinstance(data, Unreadable):
        raise InputError("payload", None, data.reason_id, **data.params)
    size = 0
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        where = path or "payload"
        if depth > MAX_DEPTH:
            raise InputError(where, value, "nests deeper than {depth} levels", depth=MAX_DEPTH)
        size += _scalar_size(value, where)
        if size > MAX_EVENT_BYTES:
            raise InputError(
                where, value, "the event is larger than {maximum} bytes", maximum=MAX_EVENT_BYTES
            )
        if isinstance(value, dict | list):  # a separator per item, counted before the walk
            size += len(value)
            if size > MAX_EVENT_BYTES:
                raise InputError(
                    where,
                    value,
                    "the event is larger than {maximum} bytes",
                    maximum=MAX_EVENT_BYTES,
                )
        if isinstance(value, dict):
            for key, item in value.items():
                size += _scalar_size(key, f"{where} (a key)")
                child = f"{path}.{key}" if path else str(key)
                stack.append((item, child[:120], depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))


def _scalar_size(value: Any, path: str) -> int:
    """Bytes a scalar takes as JSON (about); refuses what JSON cannot carry safely."""
    if isinstance(value, str):
        if len(value) > MAX_EVENT_BYTES:
            raise InputError(
                path, value, "the event is larger than {maximum} bytes", maximum=MAX_EVENT_BYTES
            )
        try:
            return len(value.encode("utf-8")) + 2
        except UnicodeEncodeError:
            raise InputError(path, value, "is not valid UTF-8 text (a lone surrogate)") from None
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        if abs(value) > MAX_INTEGER:
            raise InputError(path, value, "integers beyond ±2**53 are not accepted")
        return 16
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(path, value, "must be a finite number")
        return 24
    return 2  # an object or a list: its brackets


def check_payload(event: str, data: Any) -> dict[str, Any]:
    """``data`` checked against ``event``'s schema (:data:`EVENTS`); returns it unchanged."""
    check_json(data)
    check_fields(data, EVENTS[event])
    assert isinstance(data, dict)  # check_fields refused anything else
    return data


def _object_fields(spec: Mapping[str, Any]) -> dict[str, Field]:
    """:data:`optimizer.dispatch.intake.INTAKE_FIELDS` as :class:`Field` objects."""
    fields: dict[str, Field] = {}
    for name, kind in spec.items():
        if isinstance(kind, Mapping):
            fields[name] = Field("object", fields=_object_fields(kind))
        elif isinstance(kind, tuple):  # ("text", max_chars)
            fields[name] = Field(kind[0], max_chars=kind[1])
        else:
            fields[name] = Field(kind)
    return fields


_JOB_ID = Field("text", required=True, max_chars=40)
_TRUCK_ID = Field("text", required=True, max_chars=40)
_VERSION = Field("integer", minimum=0, maximum=MAX_INTEGER)
_SECONDS = Field("number", minimum=0, maximum=1e12)
_PLAN_ID = Field("text", required=True, max_chars=40)
EVENTS: dict[str, dict[str, Field]] = {
    "sync": {},
    "intake": {**_object_fields(INTAKE_FIELDS), "join_now": Field("bool")},
    # join_now: the caller joins during the call (webmap/member_intake.py); live path only.
    "propose": {"job_id": _JOB_ID},
    "dispatch": {
        "job_id": _JOB_ID,
        "truck_id": _TRUCK_ID,
        "version": _VERSION,
        "eta_at_s": _SECONDS,
        "eta_s": _SECONDS,
        "status": Field("text", max_chars=20),
    },
    "reassign": {"job_id": _JOB_ID, "truck_id": _TRUCK_ID, "version": _VERSION},
    "advance": {"job_id": _JOB_ID, "state": Field("text", required=True), "version": _VERSION},
    "convert_to_tow": {
        "job_id": _JOB_ID,
        "destination": Field("point"),
        "destination_name": Field("text", max_chars=MAX_TEXT_CHARS),
        "crs": Field("text", max_chars=10),
        "version": _VERSION,
    },
    "cancel": {
        "job_id": _JOB_ID,
        "version": _VERSION,
        "reason": Field("text", required=True, max_chars=40),
        "note": Field("text", max_chars=MAX_CANCEL_NOTE_CHARS),
    },
    "replan": {"time_limit_s": Field("number"), "preview": Field("bool")},
    "replan_apply": {"plan_id": _PLAN_ID},
    "replan_discard": {"plan_id": _PLAN_ID},
    "replan_undo": {},
    "truck_duty": {"truck_id": _TRUCK_ID, "on_duty": Field("bool", required=True)},
}
"""Each client -> server event's fields (the center checks what they mean)."""
