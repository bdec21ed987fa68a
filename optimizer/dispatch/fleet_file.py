"""Read a fleet file (JSON) into a :class:`DispatchBoard`.

``{"trucks": [{"id", "kind", "plate", "crew", "home_base", "position", "state",
"work": [JOB, ...]}]}`` where ``state`` is ``idle`` or ``off_duty`` and each ``JOB`` is a
call in the intake format plus ``"id"``, ``"state"`` (``assigned``, ``en_route``,
``on_scene`` or ``towing``) and optional ``"state_since"`` (epoch s or ISO time). Work is
replayed through the job state machine, so a file can't describe an impossible state.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo.config import data_dir
from geo.errors import InputError
from geo.i18n import N_
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


MAX_JSON_BYTES = 64 * 2**20
"""The largest JSON file read (64 MiB). A fleet file is kilobytes and a 2,500-location
VROOM problem about 40 MB; anything larger is a mistake, and would take minutes and
gigabytes to parse."""
MAX_JSON_INTEGER = 2**64 - 1
"""The largest integer (in magnitude) a JSON file may hold: no field has a use for more
(VROOM ids are unsigned 64-bit), and refusing more while parsing keeps later conversions
(to float, to numpy or OR-Tools int64) from overflowing."""
_NUMBER_ECHO_CHARS = 24  # of a refused number, quoted in the reason


class _BadNumberError(ValueError):
    """A number JSON should not hold, met while parsing (the path is not known there)."""

    def __init__(self, text: str, reason: str, /, **params: Any) -> None:
        shown = text if len(text) <= _NUMBER_ECHO_CHARS else text[:_NUMBER_ECHO_CHARS] + "…"
        self.reason_id = reason
        self.params = {"number": shown, **params}
        super().__init__(reason.format(**self.params))


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumberError(text, N_("holds {number}: JSON numbers must be finite"))
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > len(str(MAX_JSON_INTEGER)) or abs(int(text)) > MAX_JSON_INTEGER:
        raise _BadNumberError(
            text,
            N_("holds {number}: integers must be at most {maximum} in magnitude"),
            maximum=MAX_JSON_INTEGER,
        )
    return int(text)


def _no_constant(text: str) -> Any:
    raise _BadNumberError(
        text, N_("holds {number}: not a JSON number (NaN and Infinity are refused)")
    )


def _read_bytes(path: Path, *, field: str) -> bytes:
    """The bytes of a regular file, at most :data:`MAX_JSON_BYTES`."""
    try:
        if path.exists() and not path.is_file():
            if path.is_dir():
                raise InputError(field, str(path), "cannot read: is a folder")
            raise InputError(field, str(path), "cannot read: is not a regular file")
        with path.open("rb") as file:
            data = file.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise InputError(field, str(path), "cannot read: file not found") from None
    except OSError as error:
        raise InputError(
            field, str(path), "cannot read: {error}", error=error.strerror or str(error)
        ) from None
    if len(data) > MAX_JSON_BYTES:
        raise InputError(field, str(path), "is larger than {mib} MiB", mib=MAX_JSON_BYTES // 2**20)
    return data


def read_json(path: Path, *, field: str, bound_integers: bool = True) -> Any:
    """The JSON value in the UTF-8 file ``path``, its numbers finite and, with
    ``bound_integers``, its integers within :data:`MAX_JSON_INTEGER` (without, the caller
    must bound every integer it reads).

    Raises
    ------
    geo.errors.InputError
        For ``field`` (the value: the path) when the file cannot be read, is too large,
        is not UTF-8 JSON, is nested too deeply, or holds a number refused above.
    """
    path = Path(path)
    try:
        text = _read_bytes(path, field=field).decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            field, str(path), "is not UTF-8 text (byte {byte} cannot be read)", byte=error.start
        ) from None
    try:
        return json.loads(
            text,
            parse_float=_finite_float,
            parse_int=_bounded_int if bound_integers else None,
            parse_constant=_no_constant,
        )
    except _BadNumberError as error:
        raise InputError(field, str(path), error.reason_id, **error.params) from None
    except json.JSONDecodeError as error:
        raise InputError(field, str(path), "is not valid JSON: {error}", error=str(error)) from None
    except ValueError:  # an integer of more digits than Python converts
        raise InputError(field, str(path), "holds a number too long to read") from None
    except RecursionError:
        raise InputError(field, str(path), "is nested too deeply") from None


def _identifier(value: Any, *, field: str) -> str:
    """An id given as text or an integer, as text."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(field, value, "must be text or an integer")
    return str(value)


def parse_truck(data: Any, index: int) -> Truck:
    where = f"trucks[{index}]"
    if not isinstance(data, dict):
        raise InputError(where, data, "must be an object")
    for key in ("id", "kind", "position"):
        if key not in data:
            raise InputError(f"{where}.{key}", None, "is required")
    if data["kind"] not in TRUCK_KINDS:
        raise InputError(
            f"{where}.kind", data["kind"], "one of {names}", names=", ".join(TRUCK_KINDS)
        )
    state = data.get("state", "idle")
    if state not in (TruckState.IDLE, TruckState.OFF_DUTY):
        raise InputError(f"{where}.state", state, "idle or off_duty (busy trucks list their work)")
    position = parse_lonlat(data["position"], field=f"{where}.position")
    crew = data.get("crew", [])
    if not isinstance(crew, list) or not all(isinstance(c, str) for c in crew):
        raise InputError(f"{where}.crew", crew, "must be a list of names")
    plate = data.get("plate", "")
    if not isinstance(plate, str):
        raise InputError(f"{where}.plate", plate, "must be text")
    return Truck(
        id=_identifier(data["id"], field=f"{where}.id"),
        kind=data["kind"],
        plate=plate,
        crew=crew,
        home_base=parse_lonlat(data.get("home_base", data["position"]), field=f"{where}.home_base"),
        position=position,
        state=TruckState(state),
    )


@dataclass(frozen=True)
class Work:
    """A job in a truck's ``work`` list: the call (intake format), checked when replayed."""

    id: str
    state: JobState
    since_s: float | None
    """When it reached ``state`` (epoch s); None: at the time the board is built."""
    call: dict[str, Any]
    where: str
    """Its place in the file (``trucks[0].work[1]``), for errors."""


def _parse_work(data: Any, where: str) -> Work:
    if not isinstance(data, dict):
        raise InputError(where, data, "must be an object (a call with its id and state)")
    if "id" not in data:
        raise InputError(f"{where}.id", None, "is required")
    states = tuple(state.value for state in _WORK_PATH)
    state = data.get("state", JobState.ASSIGNED.value)
    if state not in states:
        raise InputError(f"{where}.state", state, "one of {names}", names=", ".join(states))
    since = data.get("state_since")
    return Work(
        id=_identifier(data["id"], field=f"{where}.id"),
        state=JobState(state),
        since_s=None if since is None else parse_time_s(since, field=f"{where}.state_since"),
        call=data,
        where=where,
    )


def parse_fleet(data: Any) -> list[tuple[Truck, list[Work]]]:
    """Each truck of a fleet file's content, with its work; every field's shape is checked
    here, without the road network (the calls themselves are checked when replayed)."""
    if not isinstance(data, dict):
        raise InputError(
            "fleet",
            type(data).__name__,
            "expected an object {example}",
            example='{"trucks": [...]}',
        )
    if not isinstance(data.get("trucks"), list):
        raise InputError("trucks", data.get("trucks"), "expected a list of trucks")
    fleet = []
    for i, row in enumerate(data["trucks"]):
        truck = parse_truck(row, i)
        work = row.get("work", [])
        if not isinstance(work, list):
            raise InputError(f"trucks[{i}].work", work, "must be a list of jobs")
        fleet.append(
            (truck, [_parse_work(w, f"trucks[{i}].work[{j}]") for j, w in enumerate(work)])
        )
    return fleet


def _replay(board: DispatchBoard, truck: Truck, work: Work, *, now_s: float) -> None:
    """Register ``work`` and take it through the state machine up to its state."""
    since_s = now_s if work.since_s is None else work.since_s
    created = {"created_at": min(since_s, now_s), **work.call}
    try:
        board.register_call(created, now_s=since_s, job_id=work.id)
        board.assign(work.id, truck.id, now_s=since_s)
        for step in _WORK_PATH[work.state]:
            board.advance(work.id, step, now_s=since_s)
    except InputError as error:  # name the job in the file, not just its field
        raise InputError(
            f"{work.where}.{error.field}", error.value, error.reason_id, **error.params
        ) from None


def board_from_fleet(
    data: Any, *, geo: Geo, rules: Rules, shops: Shops, now_s: float
) -> DispatchBoard:
    """A board with the fleet's trucks and their work replayed up to ``now_s``."""
    fleet = parse_fleet(data)
    board = DispatchBoard(geo, rules, shops, [truck for truck, _ in fleet])
    for truck, work in fleet:
        for job in work:
            _replay(board, truck, job, now_s=now_s)
    return board


def load_board(
    path: Path | None, *, geo: Geo, rules: Rules, now_s: float, shops: Shops | None = None
) -> DispatchBoard:
    """Board from a fleet file (default ``data/fleet.json``) and the shops file."""
    data = read_json(path or data_dir() / DEFAULT_FLEET_FILE, field="fleet")
    return board_from_fleet(data, geo=geo, rules=rules, shops=shops or Shops.load(geo), now_s=now_s)
