"""Calls that may repeat one already taken: the same caller's phone or the same plate
within the window of ``config/rules.toml`` ``[intake] duplicate_window_min``.

A warning, never a refusal: the call is registered, the dispatcher sees which calls it may
repeat and may cancel it with the reason ``duplicate``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from optimizer.dispatch.model import Job

DuplicateKind = Literal["duplicate_phone", "duplicate_plate"]


def duplicate_warnings(
    job: Job, others: Iterable[Job], *, now_s: float, window_s: float
) -> list[dict[str, Any]]:
    """``{"kind", "job_id", "at_s", "state"}`` for each other call received within
    ``window_s`` seconds before ``now_s`` with ``job``'s (normalized) phone or plate, in
    order of arrival; a call matching both gives both kinds."""
    phone, plate = job.intake.caller.phone, job.intake.vehicle.plate
    recent = [
        other
        for other in others
        if other.id != job.id and now_s - window_s <= other.created_at_s <= now_s
    ]
    warnings: list[dict[str, Any]] = []
    for other in sorted(recent, key=lambda j: (j.created_at_s, j.id)):
        kinds: list[DuplicateKind] = []
        if other.intake.caller.phone == phone:
            kinds.append("duplicate_phone")
        if other.intake.vehicle.plate == plate:
            kinds.append("duplicate_plate")
        warnings.extend(
            {
                "kind": kind,
                "job_id": other.id,
                "at_s": other.created_at_s,
                "state": other.state.value,
            }
            for kind in kinds
        )
    return warnings
