"""JSON shapes sent to the page: jobs, trucks, proposals. Presentation only, no decisions.

Places are ``[lon, lat]`` WGS-84, times epoch seconds, money yuan. Everything passes
through :func:`jsonable`, so no ``NaN``/``Infinity`` reaches a browser's ``JSON.parse``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from enum import Enum
from typing import Any

from optimizer.dispatch.assign import Proposal
from optimizer.dispatch.model import ALLOWED_TRANSITIONS, HistoryEntry, Job, JobState, Truck
from optimizer.dispatch.rules import Rules


def jsonable(value: Any) -> Any:
    """Plain JSON values: non-finite floats become None, tuples lists, enums their value."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return jsonable(asdict(value))
    if hasattr(value, "item"):  # numpy scalars
        return jsonable(value.item())
    return str(value)


def _lonlat(point: Any) -> list[float] | None:
    if point is None:
        return None
    return [round(float(point[0]), 7), round(float(point[1]), 7)]


def arrived_at_s(job: Job) -> float | None:
    """When the crew reached the car (first on-scene entry), if it has."""
    return next((h.at_s for h in job.history if h.state == JobState.ON_SCENE), None)


def _history_json(entry: HistoryEntry) -> dict[str, Any]:
    """A history line; ``note_zh`` only where the Chinese differs from the ``note``."""
    out: dict[str, Any] = {"at_s": entry.at_s, "state": entry.state.value, "note": entry.note}
    if entry.note_zh and entry.note_zh != entry.note:
        out["note_zh"] = entry.note_zh
    return out


def job_json(
    job: Job, *, version: int, promise: Mapping[str, Any] | None, rules: Rules
) -> dict[str, Any]:
    intake, placement = job.intake, job.placement
    arrived = arrived_at_s(job)
    insurer = rules.insurers.get(intake.insurer or "")
    return jsonable(
        {
            "id": job.id,
            "version": version,
            "state": job.state.value,
            "allowed_next": sorted(s.value for s in ALLOWED_TRANSITIONS[job.state]),
            "truck_id": job.truck_id,
            "pinned": bool(getattr(job, "pinned", False)),
            "cancel_reason": job.cancel_reason,
            "cancel_note": job.cancel_note,
            "required_kind": job.required_kind,
            "created_at_s": job.created_at_s,
            "deadline_s": job.deadline_s,
            "arrived_at_s": arrived,
            "promise_kept": None if arrived is None else arrived <= job.deadline_s,
            "location": _lonlat((placement.snap.lon, placement.snap.lat)) if placement else None,
            "reported_location": _lonlat(intake.location),
            "placement": placement.to_json() if placement else None,
            "caller": {
                "name": intake.caller.name,
                "phone": intake.caller.phone,
                "gender": intake.caller.gender,
            },
            "vehicle": {
                "plate": intake.vehicle.plate,
                "model": intake.vehicle.model,
                "colour": intake.vehicle.colour,
            },
            "member": intake.member,
            "member_card": intake.member_card,
            "customer_details": intake.customer_details,
            "landmarks": intake.landmarks,
            "on_highway_reported": intake.on_highway_reported,
            "fault_symptoms": intake.fault_symptoms,
            "fault_category": intake.fault_category,
            "customer_need": intake.customer_need,
            "accident": intake.accident,
            "insurer": intake.insurer,
            "insurer_line": None
            if insurer is None
            else {"name_zh": insurer.name_zh, "name_en": insurer.name_en, "phone": insurer.phone},
            "tow_destination": _lonlat(job.tow_destination),
            "tow_destination_name": job.tow_destination_name,
            "tow_km": None if job.tow_m is None else round(job.tow_m / 1000.0, 2),
            "quote": job.quote.to_json() if job.quote else None,
            "history": [_history_json(h) for h in job.history],
            "promise": promise,
        }
    )


def truck_json(truck: Truck, *, route: Mapping[str, Any] | None) -> dict[str, Any]:
    return jsonable(
        {
            "id": truck.id,
            "kind": truck.kind,
            "plate": truck.plate,
            "crew": truck.crew,
            "state": truck.state.value,
            "queue": truck.queue,
            "position": _lonlat(truck.position),
            "home_base": _lonlat(truck.home_base),
            "route": route,
        }
    )


def proposal_json(proposal: Proposal, *, now_s: float) -> dict[str, Any]:
    """The ranked trucks, each with its ETA in minutes and the predicted arrival time."""
    out = proposal.to_json()
    for row in [out["best"], *out["candidates"]]:
        if row:
            row["eta_min"] = math.ceil(row["eta_s"] / 60.0)
            row["eta_at_s"] = now_s + row["eta_s"]
    out["eta_at_s"] = out["best"]["eta_at_s"] if out["best"] else None
    return jsonable(out)
