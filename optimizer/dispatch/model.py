"""The dispatch domain: calls (jobs) and trucks, with the job state machine of
SERVICE_RULES §7 and the intake fields of §2.

Plain dataclasses; places are ``(lon, lat)`` WGS-84 tuples, times epoch seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from geo.errors import InputError
from geo.i18n import N_, TextList, both
from geo.places import Placement
from geo.router import Snap
from optimizer.dispatch.quote import Quote
from optimizer.dispatch.rules import TruckKind
from optimizer.dispatch.words import word

LonLat = tuple[float, float]


class JobState(StrEnum):
    RECEIVED = "received"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    FIXED = "fixed"
    TOWING = "towing"
    DELIVERED = "delivered"
    CLOSED = "closed"
    CANCELLED = "cancelled"


# SERVICE_RULES §7: received -> assigned -> en route -> on scene -> (fixed | towing ->
# delivered) -> closed, plus cancelled. A job taken off its truck before work starts goes
# back to received (a dispatcher's drag does that, or the crew cannot come).
ALLOWED_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.RECEIVED: frozenset({JobState.ASSIGNED, JobState.CANCELLED}),
    JobState.ASSIGNED: frozenset({JobState.EN_ROUTE, JobState.RECEIVED, JobState.CANCELLED}),
    JobState.EN_ROUTE: frozenset({JobState.ON_SCENE, JobState.RECEIVED, JobState.CANCELLED}),
    JobState.ON_SCENE: frozenset({JobState.FIXED, JobState.TOWING, JobState.CANCELLED}),
    JobState.FIXED: frozenset({JobState.CLOSED}),
    JobState.TOWING: frozenset({JobState.DELIVERED}),
    JobState.DELIVERED: frozenset({JobState.CLOSED}),
    JobState.CLOSED: frozenset(),
    JobState.CANCELLED: frozenset(),
}
# States in which the job is (or will be) the truck's work: it sits in the truck's queue.
ON_TRUCK_STATES = frozenset(
    {JobState.ASSIGNED, JobState.EN_ROUTE, JobState.ON_SCENE, JobState.TOWING}
)


def parse_job_state(value: object) -> JobState:
    """A job state by name, or :class:`InputError` naming the value."""
    if isinstance(value, str) and value in JobState.__members__.values():
        return JobState(value)
    raise InputError("state", value, "unknown job state; one of {names}", names=", ".join(JobState))


class TruckState(StrEnum):
    IDLE = "idle"
    EN_ROUTE = "en_route"
    ON_SCENE = "on_scene"
    TOWING = "towing"
    OFF_DUTY = "off_duty"


@dataclass(frozen=True)
class Caller:
    name: str
    phone: str
    gender: str | None = None


@dataclass(frozen=True)
class Vehicle:
    plate: str
    model: str
    colour: str


@dataclass(frozen=True)
class Intake:
    """What the dispatcher records for a call (SERVICE_RULES §2)."""

    caller: Caller
    vehicle: Vehicle
    member: bool
    member_card: str | None
    location: LonLat
    landmarks: str
    on_highway_reported: bool | None
    fault_symptoms: str
    fault_category: str
    customer_need: str
    tow_destination: LonLat | None
    tow_destination_name: str
    accident: bool
    insurer: str | None
    customer_details: str
    """Non-members: the further customer details recorded (§2)."""
    created_at_s: float | None = None
    """When the call came in, if given (else when it is registered)."""


@dataclass(frozen=True)
class HistoryEntry:
    at_s: float
    state: JobState
    note: str = ""
    """In English (the catalogue's text; the code reads it); ``note_zh`` in Chinese."""
    note_zh: str = ""


@dataclass
class Job:
    """A call and the work it causes."""

    id: str
    intake: Intake
    required_kind: TruckKind
    created_at_s: float
    deadline_s: float
    state: JobState = JobState.RECEIVED
    truck_id: str | None = None
    tow_destination: LonLat | None = None
    tow_destination_name: str = ""
    history: list[HistoryEntry] = field(default_factory=list)
    placement: Placement | None = None
    """Where the car is on the network (set at intake)."""
    destination_snap: Snap | None = None
    tow_m: float | None = None
    """Road metres from the breakdown to the tow destination."""
    quote: Quote | None = None
    pinned: bool = False
    """A dispatcher put this job on its truck by hand: re-planning keeps it there."""
    cancel_reason: str | None = None
    """Why the job was cancelled (:data:`optimizer.dispatch.cancel.CANCEL_REASONS`)."""
    cancel_note: str = ""
    """The dispatcher's words on the cancellation (required for the reason ``other``)."""

    @property
    def needs_tow(self) -> bool:
        return self.tow_destination is not None

    @property
    def snap(self) -> Snap:
        if self.placement is None:
            raise ValueError(f"job {self.id} has not been placed on the network")
        return self.placement.snap

    def state_since_s(self) -> float:
        return self.history[-1].at_s if self.history else self.created_at_s

    def allowed_target(self, new_state: object) -> JobState:
        """``new_state`` as a state §7 allows next, else :class:`InputError` naming them."""
        target = parse_job_state(new_state)
        if target not in ALLOWED_TRANSITIONS[self.state]:
            allowed = TextList(word(state) for state in sorted(ALLOWED_TRANSITIONS[self.state]))
            if not allowed:
                raise InputError(
                    "state",
                    target.value,
                    "job {job} is {state}; allowed next states: none (final state)",
                    job=self.id,
                    state=word(self.state),
                )
            raise InputError(
                "state",
                target.value,
                "job {job} is {state}; allowed next states: {allowed}",
                job=self.id,
                state=word(self.state),
                allowed=allowed,
            )
        return target

    def transition(
        self, new_state: JobState | str, *, at_s: float, note: str = "", note_zh: str = ""
    ) -> None:
        """Move to ``new_state`` if §7 allows it, else raise :class:`InputError`. ``note``
        in English, ``note_zh`` in Chinese (default: the same as ``note``)."""
        target = self.allowed_target(new_state)
        if at_s < self.state_since_s():
            raise InputError("at_s", at_s, "is before job {job}'s last change", job=self.id)
        self.state = target
        if target == JobState.RECEIVED:
            self.truck_id = None
        self.history.append(HistoryEntry(at_s, target, note, note_zh or note))

    def convert_to_tow(
        self,
        *,
        at_s: float,
        truck_kind: TruckKind,
        destination: LonLat,
        destination_name: str,
        destination_snap: Snap,
        tow_m: float,
    ) -> None:
        """The crew found on site that the car can't be fixed: it must be towed (§3).

        A flatbed on scene tows it itself (the job stays on scene, then goes towing);
        a service vehicle can't tow, so the job goes back to received, needing a flatbed.
        """
        if self.state != JobState.ON_SCENE:
            raise InputError(
                "state",
                self.state.value,
                "job {job} can only convert to a tow on scene",
                job=self.id,
            )
        self.required_kind = "flatbed"
        self.tow_destination = destination
        self.tow_destination_name = destination_name
        self.destination_snap = destination_snap
        self.tow_m = tow_m
        if truck_kind == "flatbed":
            zh, en = both(N_("converted to tow"))
            self.history.append(HistoryEntry(at_s, self.state, en, zh))
            return
        self.state = JobState.RECEIVED
        self.truck_id = None
        zh, en = both(N_("converted to tow: needs a flatbed"))
        self.history.append(HistoryEntry(at_s, JobState.RECEIVED, en, zh))


@dataclass
class Truck:
    """A rescue truck and its queue of work (job ids, the current one first)."""

    id: str
    kind: TruckKind
    plate: str
    crew: list[str]
    home_base: LonLat
    position: LonLat
    state: TruckState = TruckState.IDLE
    queue: list[str] = field(default_factory=list)

    def can_do(self, required_kind: TruckKind, *, flatbed_can_service: bool) -> bool:
        """Skills (§3): a service vehicle never tows; a flatbed may also service."""
        if self.state == TruckState.OFF_DUTY:
            return False
        return self.kind == required_kind or (
            self.kind == "flatbed" and required_kind == "service" and flatbed_can_service
        )
