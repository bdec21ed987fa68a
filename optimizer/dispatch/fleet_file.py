"""Read a fleet file (JSON) into a :class:`DispatchBoard`.

``{"trucks": [{"id", "kind", "plate", "crew", "home_base", "position", "state",
"work": [JOB, ...]}]}`` where ``state`` is ``idle`` or ``off_duty`` and each ``JOB`` is a
call in the intake format plus ``"id"``, ``"state"`` (``assigned``, ``en_route``,
``on_scene`` or ``towing``) and optional ``"state_since"`` (epoch s or ISO time). Work is
replayed through the job state machine, so a file can't describe an impossible state.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from geo.config import data_dir
from geo.errors import InputError
from geo.places import Geo
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.intake import parse_lonlat, parse_time_s
from optimizer.dispatch.model import JobState, Truck, TruckState
from optimizer.dispatch.rules import TRUCK_KINDS, Rules
from optimizer.dispatch.shops import Shops

DEFAULT_FLEET_FILE = "fleet.json"
_WORK_PATH = {
    JobState.ASSIGNED: (),
    JobState.EN_ROUTE: (JobState.EN_ROUTE,),
    JobState.ON_SCENE: (JobState.EN_ROUTE, JobState.ON_SCENE),
    JobState.TOWING: (JobState.EN_ROUTE, JobState.ON_SCENE, JobState.TOWING),
}


def read_json(path: Path, *, field: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"{field}: file not found: {path}") from None
    except json.JSONDecodeError as error:
        raise InputError(field, str(path), f"is not valid JSON: {error}") from None


def parse_truck(data: Any, index: int) -> Truck:
    where = f"trucks[{index}]"
    if not isinstance(data, dict):
        raise InputError(where, data, "must be an object")
    for key in ("id", "kind", "position"):
        if key not in data:
            raise InputError(f"{where}.{key}", None, "is required")
    if data["kind"] not in TRUCK_KINDS:
        raise InputError(f"{where}.kind", data["kind"], f"one of {', '.join(TRUCK_KINDS)}")
    state = data.get("state", "idle")
    if state not in (TruckState.IDLE, TruckState.OFF_DUTY):
        raise InputError(f"{where}.state", state, "idle or off_duty (busy trucks list their work)")
    position = parse_lonlat(data["position"], field=f"{where}.position")
    crew = data.get("crew", [])
    if not isinstance(crew, list) or not all(isinstance(c, str) for c in crew):
        raise InputError(f"{where}.crew", crew, "must be a list of names")
    return Truck(
        id=str(data["id"]),
        kind=data["kind"],
        plate=str(data.get("plate", "")),
        crew=crew,
        home_base=parse_lonlat(data.get("home_base", data["position"]), field=f"{where}.home_base"),
        position=position,
        state=TruckState(state),
    )


def board_from_fleet(
    data: Any, *, geo: Geo, rules: Rules, shops: Shops, now_s: float
) -> DispatchBoard:
    """A board with the fleet's trucks and their work replayed up to ``now_s``."""
    if not isinstance(data, dict) or not isinstance(data.get("trucks"), list):
        raise InputError("fleet", type(data).__name__, 'expected {"trucks": [...]}')
    rows = data["trucks"]
    board = DispatchBoard(geo, rules, shops, [parse_truck(row, i) for i, row in enumerate(rows)])
    for i, row in enumerate(rows):
        for j, work in enumerate(row.get("work", [])):
            where = f"trucks[{i}].work[{j}]"
            if not isinstance(work, dict) or "id" not in work:
                raise InputError(f"{where}.id", None, "is required")
            try:
                state = JobState(work.get("state", "assigned"))
            except ValueError:
                raise InputError(
                    f"{where}.state", work.get("state"), "assigned, en_route, on_scene or towing"
                ) from None
            if state not in _WORK_PATH:
                raise InputError(
                    f"{where}.state", state.value, "assigned, en_route, on_scene or towing"
                )
            since_s = parse_time_s(work.get("state_since", now_s), field=f"{where}.state_since")
            job_id = str(work["id"])
            created = {"created_at": min(since_s, now_s), **work}
            board.register_call(created, now_s=since_s, job_id=job_id)
            board.assign(job_id, board.trucks[str(row["id"])].id, now_s=since_s)
            for step in _WORK_PATH[state]:
                board.advance(job_id, step, now_s=since_s)
    return board


def load_board(
    path: Path | None, *, geo: Geo, rules: Rules, now_s: float, shops: Shops | None = None
) -> DispatchBoard:
    """Board from a fleet file (default ``data/fleet.json``) and the shops file."""
    data = read_json(path or data_dir() / DEFAULT_FLEET_FILE, field="fleet")
    return board_from_fleet(data, geo=geo, rules=rules, shops=shops or Shops.load(geo), now_s=now_s)
