"""A VROOM-format routing problem: typed dataclasses and a validating parser.

The input is the JSON of VROOM's ``docs/API.md`` restricted to custom matrices
(``location_index`` into ``matrices.{profile}.durations``), with a few extensions for
re-planning a roadside-assistance fleet. Supported VROOM keys:

- ``jobs[]``: ``id``, ``location_index``, ``service``, ``delivery``, ``pickup``,
  ``skills``, ``priority`` (0-100), ``time_windows``;
- ``shipments[]``: ``amount``, ``skills``, ``priority``, and ``pickup`` / ``delivery``
  objects with ``id``, ``location_index``, ``service``, ``time_windows``;
- ``vehicles[]``: ``id``, ``profile`` (default ``"car"``), ``start_index``,
  ``end_index`` (at least one of the two), ``capacity``, ``skills``, ``time_window``,
  ``max_tasks``, ``steps`` (``type`` start / job / pickup / delivery / end, ``id``);
- ``matrices.{profile}.durations`` (seconds, required) and ``.distances`` (metres,
  optional: reported in the output when given).

Other keys (``description``...) are ignored, as VROOM ignores unknown keys.

As in VROOM, a job's ``delivery`` amount is on board from the vehicle's start, a
missing ``capacity`` is zero in every dimension, and a vehicle's ``steps`` seed the
search with its current route (the search may then change it).

Project extensions:

- ``promise`` on a job or a shipment ``pickup``: a soft deadline for the *arrival*
  there, in seconds on the same clock as the time windows. The solver minimises the
  total lateness past promises first (``lateness_cost_per_s`` per second late) and
  travel time second; the output gives ``late_s`` per step and ``broken_promises``.
- ``pinned: true`` on an entry of a vehicle's ``steps`` keeps that task on that vehicle
  (work in progress: a crew on its way, a car being loaded); the pinned steps of a
  vehicle keep their relative order. A pinned task is left unassigned only if it
  cannot be served at all.
- a load already on board (a car on a flatbed): a vehicle step of type ``delivery``
  whose pickup is absent, either from that vehicle's steps (the pickup is done) or
  from the shipment itself (``pickup`` omitted; its ``delivery`` must then be a step
  of one vehicle). Such a delivery is pinned to its vehicle, whose load starts with
  the amount, and comes before any other task of the vehicle; the done pickup is no
  longer a task (:attr:`Shipment.pickup` is None after parsing).
- ``direct: true`` on a shipment: nothing comes between its pickup and its delivery (a
  tow: the flatbed takes the car straight to its destination).
- top level ``lateness_cost_per_s`` (integer, default 100: one second late costs as
  much as 100 s of driving) and ``unassigned_penalty`` (integer cost of leaving one
  task unassigned; by default larger than any lateness or travel saving, so tasks are
  dropped only when they cannot be served). A task of priority ``p`` costs
  ``(1 + p) * unassigned_penalty`` when left out.

VROOM keys that change the meaning of a plan but are not supported here (``breaks``,
``setup``, ``costs``, coordinates without a matrix...) are refused with a
:class:`ProblemError`, whose message names the object and its id. VROOM answers
such input errors with ``code: 2``.

Every number is an integer, bounded as VROOM bounds it: times (durations, service, time
windows, promises), distances, amounts, capacities, skills, ``max_tasks`` and
``lateness_cost_per_s`` are in ``[0, MAX_VALUE]`` (2**32 - 1), ids in ``[0, MAX_ID]``
(2**64 - 1), ``unassigned_penalty`` in ``[1, MAX_UNASSIGNED_PENALTY]``. So the solver's
sums of them (a horizon, a route's load) stay far inside OR-Tools' int64.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

TaskKind = Literal["job", "pickup", "delivery"]
StepKind = Literal["start", "job", "pickup", "delivery", "end"]
TimeWindow = tuple[int, int]

DEFAULT_PROFILE = "car"
DEFAULT_LATENESS_COST_PER_S = 100
MAX_PRIORITY = 100
MAX_VALUE = 2**32 - 1
"""The largest time (s), distance (m), amount, skill or cost: VROOM's own limit (its user
durations, distances and costs are uint32). The solver adds millions of them at most, in
OR-Tools' int64, which stays far from overflowing."""
MAX_ID = 2**64 - 1
"""VROOM's ids are uint64."""
MAX_UNASSIGNED_PENALTY = 10**12
"""Times ``2 + MAX_PRIORITY`` (a pinned task), still a millionth of int64's range, so
OR-Tools can add up the penalties of many tasks."""
# A value quoted in an error is cut to this many characters.
_ECHO_CHARS = 60

_UNSUPPORTED_TASK_KEYS = ("setup", "setup_per_type", "service_per_type")
_UNSUPPORTED_VEHICLE_KEYS = (
    "breaks",
    "costs",
    "speed_factor",
    "max_travel_time",
    "max_distance",
    "type",
)
_UNSUPPORTED_STEP_KEYS = ("service_at", "service_after", "service_before")
_STEP_KINDS: tuple[StepKind, ...] = ("start", "job", "pickup", "delivery", "end")


class ProblemError(ValueError):
    """An invalid problem; the message names the offending object and its id."""


@dataclass(frozen=True)
class Job:
    """A single task: visit ``location_index`` and work there ``service_s``."""

    id: int
    location_index: int
    service_s: int = 0
    delivery: tuple[int, ...] = ()
    pickup: tuple[int, ...] = ()
    skills: frozenset[int] = frozenset()
    priority: int = 0
    time_windows: tuple[TimeWindow, ...] = ()
    promise_s: int | None = None


@dataclass(frozen=True)
class ShipmentStep:
    """The pickup or the delivery half of a shipment."""

    id: int
    location_index: int
    service_s: int = 0
    time_windows: tuple[TimeWindow, ...] = ()
    promise_s: int | None = None


@dataclass(frozen=True)
class Shipment:
    """Carry ``amount`` from ``pickup`` to ``delivery`` on one vehicle.

    ``pickup`` is None for a load already on board a vehicle (see ``Vehicle.steps``).
    """

    pickup: ShipmentStep | None
    delivery: ShipmentStep
    amount: tuple[int, ...] = ()
    skills: frozenset[int] = frozenset()
    priority: int = 0
    direct: bool = False
    """Nothing between the pickup and the delivery."""

    @property
    def on_board(self) -> bool:
        return self.pickup is None


@dataclass(frozen=True)
class VehicleStep:
    """An entry of a vehicle's current route; ``id`` is None for start and end."""

    type: StepKind
    id: int | None = None
    pinned: bool = False


@dataclass(frozen=True)
class Vehicle:
    """A vehicle; ``start_index`` / ``end_index`` None means an open route."""

    id: int
    start_index: int | None
    end_index: int | None
    profile: str = DEFAULT_PROFILE
    capacity: tuple[int, ...] = ()
    skills: frozenset[int] = frozenset()
    time_window: TimeWindow | None = None
    steps: tuple[VehicleStep, ...] = ()
    max_tasks: int | None = None


@dataclass(frozen=True)
class Matrix:
    """Square travel matrices of one profile (``int64``)."""

    durations_s: np.ndarray
    distances_m: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.durations_s.shape[0])


@dataclass(frozen=True)
class Problem:
    """A validated problem; every amount and capacity has ``amount_size`` components."""

    jobs: tuple[Job, ...]
    shipments: tuple[Shipment, ...]
    vehicles: tuple[Vehicle, ...]
    matrices: Mapping[str, Matrix]
    amount_size: int = 0
    lateness_cost_per_s: int = DEFAULT_LATENESS_COST_PER_S
    unassigned_penalty: int | None = None

    @property
    def num_locations(self) -> int:
        return next(iter(self.matrices.values())).size

    def matrix_of(self, vehicle: Vehicle) -> Matrix:
        return self.matrices[vehicle.profile]


def parse_problem(data: Any) -> Problem:
    """Validate a VROOM-format problem (a parsed JSON object) into a :class:`Problem`.

    Raises
    ------
    ProblemError
        On any invalid or unsupported input; the message names the object and its id.
    """
    return _Parser(data).parse()


def build_problem(
    jobs: tuple[Job, ...],
    shipments: tuple[Shipment, ...],
    vehicles: tuple[Vehicle, ...],
    matrices: Mapping[str, Matrix],
    *,
    amount_size: int,
    lateness_cost_per_s: int = DEFAULT_LATENESS_COST_PER_S,
    unassigned_penalty: int | None = None,
) -> Problem:
    """A :class:`Problem` from objects built in process (the parser's last step too):
    amounts padded to ``amount_size``, ids unique, vehicle steps consistent (see the
    module docstring), a delivery listed without its pickup made a load on board.

    Raises
    ------
    ProblemError
        When the objects do not make a valid problem.
    """
    jobs = tuple(_pad_job(job, amount_size) for job in jobs)
    shipments = tuple(_pad_shipment(shipment, amount_size) for shipment in shipments)
    vehicles = tuple(_pad_vehicle(vehicle, amount_size) for vehicle in vehicles)
    _check_unique("job", [job.id for job in jobs])
    _check_unique("pickup", [s.pickup.id for s in shipments if s.pickup is not None])
    _check_unique("delivery", [s.delivery.id for s in shipments])
    _check_unique("vehicle", [vehicle.id for vehicle in vehicles])
    shipments = _picked_up(shipments, vehicles)
    _check_steps(jobs, shipments, vehicles)
    return Problem(
        jobs=jobs,
        shipments=shipments,
        vehicles=vehicles,
        matrices=matrices,
        amount_size=amount_size,
        lateness_cost_per_s=lateness_cost_per_s,
        unassigned_penalty=unassigned_penalty,
    )


# --------------------------------------------------------------------------- helpers


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def _is_count(value: Any, maximum: int = MAX_VALUE) -> bool:
    """An integer in ``[0, maximum]``."""
    return _is_int(value) and 0 <= value <= maximum


def _brief(value: Any) -> str:
    """``repr`` of a value for an error, cut to a few dozen characters; a long array or
    object, or one holding others, is described by its size instead."""
    if isinstance(value, Mapping | list):
        items = value.values() if isinstance(value, Mapping) else value
        if len(value) > _ECHO_CHARS or any(isinstance(v, Mapping | list) for v in items):
            kind = "object" if isinstance(value, Mapping) else "array"
            return f"<{kind} of {len(value)} items>"
    elif _is_int(value) and abs(value) > MAX_ID:
        return f"<integer of {int(value).bit_length()} bits>"
    return _cut(repr(value))


def _cut(text: str) -> str:
    return text if len(text) <= _ECHO_CHARS else text[:_ECHO_CHARS] + "…"


class _Parser:
    """One parse: keeps the amount size and matrix size seen so far."""

    def __init__(self, data: Any) -> None:
        if not isinstance(data, Mapping):
            raise ProblemError("the problem must be a JSON object")
        self.data = data
        self.amount_size: int | None = None
        self.num_locations = 0

    # -- top level

    def parse(self) -> Problem:
        data = self.data
        for key in ("jobs", "shipments", "vehicles"):
            if key in data and not isinstance(data[key], list):
                raise ProblemError(f"'{key}' must be an array")
        raw_jobs: list[Any] = data.get("jobs", [])
        raw_shipments: list[Any] = data.get("shipments", [])
        raw_vehicles: list[Any] = data.get("vehicles", [])
        if not raw_vehicles:
            raise ProblemError("the problem has no vehicles")
        matrices = self._matrices(raw_jobs, raw_shipments, raw_vehicles)
        self.num_locations = next(iter(matrices.values())).size

        jobs = tuple(self._job(raw, position) for position, raw in enumerate(raw_jobs))
        shipments = tuple(
            self._shipment(raw, position) for position, raw in enumerate(raw_shipments)
        )
        vehicles = tuple(
            self._vehicle(raw, position, matrices) for position, raw in enumerate(raw_vehicles)
        )
        return build_problem(
            jobs,
            shipments,
            vehicles,
            matrices,
            amount_size=self.amount_size or 0,
            lateness_cost_per_s=self._optional_int(
                data, "lateness_cost_per_s", "the problem", DEFAULT_LATENESS_COST_PER_S
            ),
            unassigned_penalty=self._unassigned_penalty(),
        )

    def _unassigned_penalty(self) -> int | None:
        if self.data.get("unassigned_penalty") is None:
            return None
        penalty = self._optional_int(
            self.data, "unassigned_penalty", "the problem", 0, maximum=MAX_UNASSIGNED_PENALTY
        )
        if penalty <= 0:
            raise ProblemError("unassigned_penalty of the problem must be positive")
        return penalty

    def _matrices(
        self, raw_jobs: list[Any], raw_shipments: list[Any], raw_vehicles: list[Any]
    ) -> dict[str, Matrix]:
        raw = self.data.get("matrices")
        if raw is None:
            if "matrix" in self.data:
                raise ProblemError(
                    "the legacy top-level 'matrix' is not supported: "
                    "use matrices.{profile}.durations"
                )
            culprit = _first_coordinates_only(raw_jobs, raw_shipments, raw_vehicles)
            raise ProblemError(
                f"a matrix is needed: {culprit}give matrices.{{profile}}.durations and a "
                "location_index on each task and vehicle (coordinates alone are not supported)"
            )
        if not isinstance(raw, Mapping) or not raw:
            raise ProblemError("'matrices' must be a non-empty object {profile: {durations}}")
        matrices: dict[str, Matrix] = {}
        for profile, entry in raw.items():
            where = f"matrices.{_cut(str(profile))}"
            if not isinstance(entry, Mapping) or "durations" not in entry:
                raise ProblemError(f"{where} needs 'durations'")
            if "costs" in entry:
                raise ProblemError(f"unsupported key 'costs' in {where}: costs are travel times")
            durations = _square_matrix(entry["durations"], f"{where}.durations")
            distances = None
            if entry.get("distances") is not None:
                distances = _square_matrix(entry["distances"], f"{where}.distances")
                if distances.shape != durations.shape:
                    raise ProblemError(
                        f"{where}.distances is {distances.shape[0]}x{distances.shape[1]} "
                        f"but {where}.durations is {durations.shape[0]}x{durations.shape[1]}"
                    )
            matrices[str(profile)] = Matrix(durations, distances)
        sizes = {profile: matrix.size for profile, matrix in matrices.items()}
        if len(set(sizes.values())) > 1:
            raise ProblemError(f"all matrices must have the same size, got {_brief(sizes)}")
        return matrices

    # -- objects

    def _job(self, raw: Any, position: int) -> Job:
        what = self._object_name(raw, "job", position)
        self._refuse_keys(raw, _UNSUPPORTED_TASK_KEYS, what)
        return Job(
            id=int(raw["id"]),
            location_index=self._location(raw, "location_index", what),
            service_s=self._optional_int(raw, "service", what, 0),
            delivery=self._amount(raw, "delivery", what),
            pickup=self._amount(raw, "pickup", what),
            skills=self._skills(raw, what),
            priority=self._priority(raw, what),
            time_windows=self._time_windows(raw, what),
            promise_s=self._promise(raw, what),
        )

    def _shipment(self, raw: Any, position: int) -> Shipment:
        if not isinstance(raw, Mapping):
            raise ProblemError(f"shipment at position {position} must be an object")
        if not isinstance(raw.get("delivery"), Mapping):
            raise ProblemError(f"shipment at position {position} needs a 'delivery' object")
        delivery = self._shipment_step(raw["delivery"], "delivery", position)
        pickup = None
        if raw.get("pickup") is not None:
            if not isinstance(raw["pickup"], Mapping):
                raise ProblemError(f"shipment at position {position}: 'pickup' must be an object")
            pickup = self._shipment_step(raw["pickup"], "pickup", position)
        what = f"shipment (delivery {delivery.id})"
        direct = raw.get("direct", False)
        if not isinstance(direct, bool):
            raise ProblemError(f"'direct' of {what} must be true or false")
        return Shipment(
            pickup=pickup,
            delivery=delivery,
            amount=self._amount(raw, "amount", what),
            skills=self._skills(raw, what),
            priority=self._priority(raw, what),
            direct=direct,
        )

    def _shipment_step(self, raw: Mapping[str, Any], kind: str, position: int) -> ShipmentStep:
        if not _is_count(raw.get("id"), MAX_ID):
            raise ProblemError(
                f"{kind} of shipment at position {position} has no integer id in [0, {MAX_ID}]"
            )
        what = f"{kind} {raw['id']}"
        self._refuse_keys(raw, _UNSUPPORTED_TASK_KEYS, what)
        if kind == "delivery" and raw.get("promise") is not None:
            raise ProblemError(f"promise is only for jobs and shipment pickups, not {what}")
        return ShipmentStep(
            id=int(raw["id"]),
            location_index=self._location(raw, "location_index", what),
            service_s=self._optional_int(raw, "service", what, 0),
            time_windows=self._time_windows(raw, what),
            promise_s=self._promise(raw, what),
        )

    def _vehicle(self, raw: Any, position: int, matrices: Mapping[str, Matrix]) -> Vehicle:
        what = self._object_name(raw, "vehicle", position)
        self._refuse_keys(raw, _UNSUPPORTED_VEHICLE_KEYS, what)
        start = self._optional_location(raw, "start_index", "start", what)
        end = self._optional_location(raw, "end_index", "end", what)
        if start is None and end is None:
            raise ProblemError(f"{what} needs a start_index or an end_index")
        profile = raw.get("profile", DEFAULT_PROFILE)
        if not isinstance(profile, str) or profile not in matrices:
            raise ProblemError(
                f"{what} uses profile {_brief(profile)} but matrices has only "
                f"{_brief(sorted(matrices))}"
            )
        max_tasks = raw.get("max_tasks")
        if max_tasks is not None and not _is_count(max_tasks):
            raise ProblemError(f"max_tasks of {what} must be an integer in [0, {MAX_VALUE}]")
        return Vehicle(
            id=int(raw["id"]),
            start_index=start,
            end_index=end,
            profile=str(profile),
            capacity=self._amount(raw, "capacity", what),
            skills=self._skills(raw, what),
            time_window=self._vehicle_time_window(raw, what),
            steps=self._steps(raw, what),
            max_tasks=None if max_tasks is None else int(max_tasks),
        )

    def _steps(self, raw: Mapping[str, Any], what: str) -> tuple[VehicleStep, ...]:
        steps = raw.get("steps", [])
        if not isinstance(steps, list):
            raise ProblemError(f"steps of {what} must be an array")
        parsed = []
        for position, step in enumerate(steps):
            where = f"step {position} of {what}"
            if not isinstance(step, Mapping):
                raise ProblemError(f"{where} must be an object")
            self._refuse_keys(step, _UNSUPPORTED_STEP_KEYS, where)
            kind = step.get("type")
            if kind not in _STEP_KINDS:
                raise ProblemError(
                    f"{where} has type {_brief(kind)}; supported: {', '.join(_STEP_KINDS)}"
                )
            pinned = step.get("pinned", False)
            if not isinstance(pinned, bool):
                raise ProblemError(f"'pinned' of {where} must be true or false")
            step_id = None
            if kind in ("job", "pickup", "delivery"):
                if not _is_count(step.get("id"), MAX_ID):
                    raise ProblemError(f"{where} ({kind}) needs an integer id in [0, {MAX_ID}]")
                step_id = int(step["id"])
            parsed.append(VehicleStep(type=kind, id=step_id, pinned=pinned))
        return tuple(parsed)

    # -- fields

    @staticmethod
    def _object_name(raw: Any, kind: str, position: int) -> str:
        if not isinstance(raw, Mapping):
            raise ProblemError(f"{kind} at position {position} must be an object")
        if not _is_count(raw.get("id"), MAX_ID):
            raise ProblemError(f"{kind} at position {position} has no integer id in [0, {MAX_ID}]")
        return f"{kind} {raw['id']}"

    @staticmethod
    def _refuse_keys(raw: Mapping[str, Any], keys: tuple[str, ...], what: str) -> None:
        for key in keys:
            if key in raw:
                raise ProblemError(f"unsupported key '{key}' on {what}")

    def _location(self, raw: Mapping[str, Any], key: str, what: str) -> int:
        if key not in raw:
            if "location" in raw:
                raise ProblemError(
                    f"{what} has coordinates ('location') but no {key}: a matrix is needed, "
                    f"give matrices.{{profile}}.durations and {key}"
                )
            raise ProblemError(f"{what} has no {key}")
        value = raw[key]
        if not _is_int(value) or not 0 <= value < self.num_locations:
            raise ProblemError(
                f"invalid {key} {_brief(value)} for {what}: "
                f"the matrix has {self.num_locations} locations"
            )
        return int(value)

    def _optional_location(
        self, raw: Mapping[str, Any], key: str, coordinates_key: str, what: str
    ) -> int | None:
        if raw.get(key) is None:
            if raw.get(coordinates_key) is not None:
                raise ProblemError(
                    f"{what} has coordinates ('{coordinates_key}') but no {key}: "
                    "a matrix is needed, give matrices.{profile}.durations and "
                    f"{key}"
                )
            return None
        return self._location(raw, key, what)

    @staticmethod
    def _optional_int(
        raw: Mapping[str, Any], key: str, what: str, default: int, *, maximum: int = MAX_VALUE
    ) -> int:
        value = raw.get(key)
        if value is None:
            return default
        if not _is_count(value, maximum):
            raise ProblemError(
                f"{key} of {what} must be an integer in [0, {maximum}], got {_brief(value)}"
            )
        return int(value)

    def _amount(self, raw: Mapping[str, Any], key: str, what: str) -> tuple[int, ...]:
        value = raw.get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(_is_count(v) for v in value):
            raise ProblemError(f"{key} of {what} must be an array of integers in [0, {MAX_VALUE}]")
        if self.amount_size is None:
            self.amount_size = len(value)
        elif len(value) != self.amount_size:
            raise ProblemError(
                f"inconsistent {key} length for {what}: {len(value)} instead of {self.amount_size}"
            )
        return tuple(int(v) for v in value)

    @staticmethod
    def _skills(raw: Mapping[str, Any], what: str) -> frozenset[int]:
        value = raw.get("skills")
        if value is None:
            return frozenset()
        if not isinstance(value, list) or not all(_is_count(v) for v in value):
            raise ProblemError(f"skills of {what} must be an array of integers in [0, {MAX_VALUE}]")
        return frozenset(int(v) for v in value)

    @staticmethod
    def _priority(raw: Mapping[str, Any], what: str) -> int:
        value = raw.get("priority", 0)
        if not _is_int(value) or not 0 <= value <= MAX_PRIORITY:
            raise ProblemError(f"priority of {what} must be an integer in [0, {MAX_PRIORITY}]")
        return int(value)

    @staticmethod
    def _promise(raw: Mapping[str, Any], what: str) -> int | None:
        value = raw.get("promise")
        if value is None:
            return None
        if not _is_count(value):
            raise ProblemError(
                f"promise of {what} must be an integer in [0, {MAX_VALUE}] (seconds)"
            )
        return int(value)

    def _time_windows(self, raw: Mapping[str, Any], what: str) -> tuple[TimeWindow, ...]:
        value = raw.get("time_windows")
        if value is None:
            return ()
        if not isinstance(value, list) or not value:
            raise ProblemError(f"time_windows of {what} must be a non-empty array")
        windows = sorted(_window(window, f"time window of {what}") for window in value)
        merged: list[TimeWindow] = [windows[0]]
        for start, end in windows[1:]:
            if start <= merged[-1][1] + 1:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return tuple(merged)

    @staticmethod
    def _vehicle_time_window(raw: Mapping[str, Any], what: str) -> TimeWindow | None:
        if raw.get("time_window") is None:
            return None
        return _window(raw["time_window"], f"time_window of {what}")


def _window(value: Any, what: str) -> TimeWindow:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(_is_count(v) for v in value)
        or value[0] > value[1]
    ):
        raise ProblemError(
            f"{what} must be [start, end] with 0 <= start <= end <= {MAX_VALUE}, "
            f"got {_brief(value)}"
        )
    return int(value[0]), int(value[1])


def _square_matrix(value: Any, what: str) -> np.ndarray:
    if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
        raise ProblemError(f"{what} must be a non-empty array of rows")
    size = len(value)
    if any(len(row) != size for row in value):
        raise ProblemError(f"{what} must be square: {size} rows of {size} values")
    bad = next(
        ((i, j, v) for i, row in enumerate(value) for j, v in enumerate(row) if not _is_count(v)),
        None,
    )
    if bad is not None:
        i, j, v = bad
        raise ProblemError(
            f"{what} must hold non-negative integers up to {MAX_VALUE}, "
            f"got {_brief(v)} at [{i}][{j}]"
        )
    return np.asarray(value, dtype=np.int64)


def _first_coordinates_only(
    raw_jobs: list[Any], raw_shipments: list[Any], raw_vehicles: list[Any]
) -> str:
    for kind, items in (("job", raw_jobs), ("vehicle", raw_vehicles)):
        for item in items:
            if isinstance(item, Mapping) and any(
                key in item for key in ("location", "start", "end")
            ):
                return f"{kind} {_brief(item.get('id'))} has coordinates only; "
    for item in raw_shipments:
        for kind in ("pickup", "delivery"):
            step = item.get(kind) if isinstance(item, Mapping) else None
            if isinstance(step, Mapping) and "location" in step:
                return f"{kind} {_brief(step.get('id'))} has coordinates only; "
    return ""


def _check_unique(kind: str, ids: list[int]) -> None:
    seen: set[int] = set()
    for task_id in ids:
        if task_id in seen:
            raise ProblemError(f"duplicate id for {kind} {task_id}")
        seen.add(task_id)


def _picked_up(
    shipments: tuple[Shipment, ...], vehicles: tuple[Vehicle, ...]
) -> tuple[Shipment, ...]:
    """Shipments whose delivery is a vehicle step without its pickup lose the pickup."""
    steps = {(step.type, step.id) for vehicle in vehicles for step in vehicle.steps}
    return tuple(
        dataclasses.replace(shipment, pickup=None)
        if shipment.pickup is not None
        and ("delivery", shipment.delivery.id) in steps
        and ("pickup", shipment.pickup.id) not in steps
        else shipment
        for shipment in shipments
    )


def _pad(amount: tuple[int, ...], size: int) -> tuple[int, ...]:
    return amount or (0,) * size


def _pad_job(job: Job, size: int) -> Job:
    return dataclasses.replace(
        job, delivery=_pad(job.delivery, size), pickup=_pad(job.pickup, size)
    )


def _pad_shipment(shipment: Shipment, size: int) -> Shipment:
    return dataclasses.replace(shipment, amount=_pad(shipment.amount, size))


def _pad_vehicle(vehicle: Vehicle, size: int) -> Vehicle:
    return dataclasses.replace(vehicle, capacity=_pad(vehicle.capacity, size))


def _check_steps(
    jobs: tuple[Job, ...], shipments: tuple[Shipment, ...], vehicles: tuple[Vehicle, ...]
) -> None:
    """Steps name existing tasks the vehicle has the skills for, each task at most once;
    every on-board load is on exactly one vehicle, within its capacity."""
    skills: dict[tuple[str, int], frozenset[int]] = {("job", job.id): job.skills for job in jobs}
    for shipment in shipments:
        if shipment.pickup is not None:
            skills["pickup", shipment.pickup.id] = shipment.skills
        skills["delivery", shipment.delivery.id] = shipment.skills
    owner: dict[tuple[str, int], tuple[int, int]] = {}
    for vehicle in vehicles:
        for position, step in enumerate(vehicle.steps):
            if step.id is None:
                continue
            key = (step.type, step.id)
            where = f"step {position} of vehicle {vehicle.id}"
            if key not in skills:
                raise ProblemError(f"{where} refers to unknown {step.type} {step.id}")
            if key in owner:
                raise ProblemError(
                    f"{step.type} {step.id} appears twice in steps "
                    f"(vehicles {owner[key][0]} and {vehicle.id})"
                )
            missing = skills[key] - vehicle.skills
            if missing:
                raise ProblemError(
                    f"{where}: vehicle {vehicle.id} lacks skills {sorted(missing)} "
                    f"of {step.type} {step.id}"
                )
            owner[key] = (vehicle.id, position)
    on_board: dict[int, list[int]] = {}
    for shipment in shipments:
        delivery = owner.get(("delivery", shipment.delivery.id))
        if shipment.pickup is None:
            if delivery is None:
                raise ProblemError(
                    f"delivery {shipment.delivery.id} has no pickup (a load already on "
                    "board) but no vehicle lists it in its steps"
                )
            load = on_board.setdefault(delivery[0], [0] * len(shipment.amount))
            on_board[delivery[0]] = [a + b for a, b in zip(load, shipment.amount, strict=True)]
            continue
        pickup = owner.get(("pickup", shipment.pickup.id))
        if pickup is not None and delivery is not None:
            if pickup[0] != delivery[0]:
                raise ProblemError(
                    f"pickup {shipment.pickup.id} and delivery {shipment.delivery.id} are in "
                    f"the steps of different vehicles ({pickup[0]} and {delivery[0]})"
                )
            if pickup[1] > delivery[1]:
                raise ProblemError(
                    f"delivery {shipment.delivery.id} comes before its pickup in the steps "
                    f"of vehicle {pickup[0]}"
                )
    for vehicle in vehicles:
        carried = on_board.get(vehicle.id)
        if carried is not None and any(
            a > c for a, c in zip(carried, vehicle.capacity, strict=True)
        ):
            raise ProblemError(
                f"vehicle {vehicle.id} carries {carried} on board but its capacity is "
                f"{list(vehicle.capacity)}"
            )
