"""What the dispatch room's clients read: jobs and trucks with their version, promise and
drive, alerts, and the whole-state snapshot. Read-only queries over the center's state;
the caller holds the center's lock."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from webmap.serialize import job_json, jsonable, truck_json

if TYPE_CHECKING:
    from webmap.center import DispatchCenter

REASON_TEXT = {
    "distance": "far from the nearest suitable truck",
    "congestion": "traffic congestion at this time of day",
    "all_suitable_busy": "the suitable trucks are busy with other rescues",
    "no_suitable_truck": "no suitable truck is on duty",
    "not_dispatched": "no truck has been dispatched yet",
    "converted_to_tow": "the repair on site failed: a flatbed must come",
}


def job_view(center: DispatchCenter, job_id: str) -> dict[str, Any]:
    job = center.board.job(job_id)
    check = center.promises.get(job_id)
    return job_json(
        job,
        version=center.versions[job_id],
        promise=check.to_json() if check else None,
        rules=center.rules,
    )


def truck_view(center: DispatchCenter, truck_id: str) -> dict[str, Any]:
    truck = center.board.truck(truck_id)
    drive = center.drive_book.get(truck_id)
    return truck_json(truck, route=drive.to_json() if drive else None)


def alert_view(center: DispatchCenter, job_id: str, *, now_s: float) -> dict[str, Any]:
    job, check = center.board.job(job_id), center.promises.get(job_id)
    assert check is not None, f"job {job_id} has no promise check"
    why = "; ".join(REASON_TEXT.get(r, r) for r in check.reasons)
    if check.status == "on_time":  # waiting for a dispatch: on time only if sent now
        waited_s = center.board.delays(job, now_s=now_s).get("not_dispatched", 0.0)
        message = f"Job {job_id} has waited {int(waited_s // 60)} min without a truck"
    else:
        when = "will be late" if check.status == "late" else "is at risk"
        message = f"Job {job_id} {when}" + (f": {why}" if why else "")
    return jsonable(
        {
            "job_id": job_id,
            "at_s": now_s,
            **check.to_json(),
            "caller": {"name": job.intake.caller.name, "phone": job.intake.caller.phone},
            "message": message,
        }
    )


def snapshot_view(center: DispatchCenter, *, now_s: float) -> dict[str, Any]:
    """The whole live state, as sent on connect and on ``sync``."""
    return {
        "now_s": now_s,
        "server_time": time.time(),
        "speed": center.clock.speed,
        "band": center.board.band_at(now_s),
        "promise_min": center.rules.promise_s / 60.0,
        "trucks": [truck_view(center, t) for t in sorted(center.board.trucks)],
        "jobs": [job_view(center, j) for j in center.active_job_ids()],
        "alerts": [alert_view(center, j, now_s=now_s) for j in center.promises.alerting()],
    }
