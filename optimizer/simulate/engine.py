"""The event loop of a simulated day, over the live room's own components.

Time jumps from event to event (a heap ordered by time, then by the order events were
made, so ties always break the same way). The events:

- ``call``: a call comes in; the board registers it (triage, quote, placement) and the
  policy names a truck, or the call waits until a truck frees up;
- ``crew``: the next move of the crew on a truck's first job, when it is due (it leaves
  after preparation, arrives on scene when its drive arrives, fixes the car or converts
  the job to a tow after the on-site time, loads, delivers the tow): what the move is
  comes from :class:`optimizer.crews.CrewModel`, as in the live room;
- ``close``: the paperwork after a fix or an unloading closes the job;
- ``home``: an idle truck back at its base (:func:`optimizer.dispatch.legs.home_drive`);
- ``tick``: the policy's periodic re-plan, for a policy that has one.

A truck reaches the scene (or the tow destination) where its drive
(:class:`optimizer.dispatch.legs.DriveBook`, routed once per drive) ends; a truck driving
home is where its drive home puts it whenever a decision is made.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from optimizer.crews import CrewModel
from optimizer.dispatch.board import DispatchBoard
from optimizer.dispatch.legs import Drive, DriveBook, home_drive
from optimizer.dispatch.model import Job, JobState
from optimizer.simulate.calls import SimCall
from optimizer.simulate.policies import Policy

FINAL_STATES = (JobState.CLOSED, JobState.CANCELLED)
Event = tuple[float, int, str, str, int]
"""``(at_s, order, kind, key, epoch)``: ``key`` a truck or job id or a call's index;
``epoch`` the truck's change count when made (a later change makes the event stale)."""


def call_job_id(index: int) -> str:
    """The job id of the day's call number ``index`` (from 0)."""
    return f"C{index + 1:04d}"


@dataclass(frozen=True)
class Assignment:
    job_id: str
    truck_id: str
    at_s: float
    truck_was_busy: bool
    """The truck had work in hand or queued when it was given the job."""


@dataclass
class DayResult:
    """The board at the end of the day and what the engine saw on the way."""

    board: DispatchBoard
    start_s: float
    end_s: float
    call_ids: list[str] = field(default_factory=list)
    """The day's calls' job ids (the fleet file's work in hand is not among them)."""
    assignments: list[Assignment] = field(default_factory=list)
    busy_s: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Per truck, the spans it had work (from a job given to it until its queue emptied)."""


class DaySimulation:
    """One policy's day on one board; :meth:`run` it once."""

    def __init__(self, board: DispatchBoard, policy: Policy, crews: CrewModel) -> None:
        self.board = board
        self.policy = policy
        self.crews = crews
        self.drives = DriveBook()
        self.homeward: dict[str, Drive] = {}
        self.waiting: list[str] = []
        self._events: list[Event] = []
        self._order = itertools.count()
        self._epoch: Counter[str] = Counter()
        self._busy_since: dict[str, float] = {}
        self._calls: Sequence[SimCall] = ()
        self._arrived = 0

    def run(
        self,
        calls: Sequence[SimCall],
        *,
        start_s: float,
        end_s: float,
        on_call: Callable[[], None] | None = None,
    ) -> DayResult:
        """Simulate ``calls`` (by time) until all work is done; ``on_call`` is told of each
        call as it comes in (a progress bar). ``start_s``/``end_s``: the day's window."""
        result = DayResult(self.board, start_s, end_s, [call_job_id(i) for i in range(len(calls))])
        self._calls = calls
        for truck_id in sorted(self.board.trucks):  # the fleet file's work in hand goes on
            if self.board.trucks[truck_id].queue:
                self._changed(truck_id, start_s, result)
        for i, call in enumerate(calls):
            self._push(call.at_s, "call", str(i))
        if self.policy.tick_s is not None:
            self._push(start_s + self.policy.tick_s, "tick", "")
        while self._events:
            at_s, _, kind, key, epoch = heapq.heappop(self._events)
            if kind == "call":
                self._on_call(int(key), at_s, result)
                if on_call is not None:
                    on_call()
            elif kind == "tick":
                self._on_tick(at_s, result)
            elif kind == "close":
                self._on_close(key, at_s)
            elif epoch != self._epoch[key]:
                continue  # the truck's work changed since: a newer event stands
            elif kind == "crew":
                self._on_crew(key, at_s, result)
            else:
                self._on_home(key)
        return result

    # ------------------------------------------------------------------ events
    def _push(self, at_s: float, kind: str, key: str, epoch: int = 0) -> None:
        heapq.heappush(self._events, (at_s, next(self._order), kind, key, epoch))

    def _on_call(self, index: int, now_s: float, result: DayResult) -> None:
        self._arrived += 1
        job = self.board.register_call(
            self._calls[index].intake, now_s=now_s, job_id=call_job_id(index)
        )
        self._offer(job.id, now_s, result)

    def _on_tick(self, now_s: float, result: DayResult) -> None:
        board = self.board
        self._sync_homeward(now_s)
        before = {truck_id: list(truck.queue) for truck_id, truck in board.trucks.items()}
        self.policy.tick(board, now_s=now_s)
        for truck_id, queue in before.items():
            if board.trucks[truck_id].queue != queue:
                self._changed(truck_id, now_s, result)
        self.waiting = [j for j in self.waiting if board.jobs[j].state == JobState.RECEIVED]
        open_work = any(job.state not in FINAL_STATES for job in board.jobs.values())
        if open_work or self._arrived < len(self._calls):
            assert self.policy.tick_s is not None
            self._push(now_s + self.policy.tick_s, "tick", "")

    def _on_crew(self, truck_id: str, now_s: float, result: DayResult) -> None:
        board = self.board
        truck = board.trucks[truck_id]
        job = board.jobs[truck.queue[0]]
        action = self.crews.next_action(job, truck, self.drives.get(truck_id), now_s)
        assert action is not None, f"crew event of {truck_id} at {now_s} not due"
        command, state = action
        if command == "convert_to_tow":
            board.convert_to_tow(job.id, now_s=now_s)
            self._changed(truck_id, now_s, result)
            if job.state == JobState.RECEIVED:  # a service truck can't tow: send a flatbed
                self._offer(job.id, now_s, result)
            return
        board.advance(job.id, state, now_s=now_s)
        if state in ("on_scene", "delivered"):
            where = job.snap if state == "on_scene" else job.destination_snap
            assert where is not None
            board.move_truck(truck_id, (where.lon, where.lat), replan=True)
        if state in ("fixed", "delivered"):
            self._push(self._done_s(job), "close", job.id)
        self._changed(truck_id, now_s, result)

    def _on_close(self, job_id: str, now_s: float) -> None:
        job = self.board.jobs[job_id]
        action = self.crews.next_action(job, None, None, now_s)
        assert action == ("advance", "closed"), f"close of {job_id} at {now_s} not due"
        self.board.advance(job_id, "closed", now_s=now_s)

    def _on_home(self, truck_id: str) -> None:
        self.homeward.pop(truck_id)
        self.board.move_truck(truck_id, self.board.trucks[truck_id].home_base)

    # ------------------------------------------------------------------ decisions
    def _offer(self, job_id: str, now_s: float, result: DayResult) -> bool:
        """The policy's truck for a received job, else the job waits; True if assigned."""
        self._sync_homeward(now_s)
        truck_id = self.policy.choose(self.board, job_id, now_s=now_s)
        if truck_id is None:
            if job_id not in self.waiting:
                self.waiting.append(job_id)
            return False
        busy = bool(self.board.trucks[truck_id].queue)
        self.board.assign(job_id, truck_id, now_s=now_s)
        result.assignments.append(Assignment(job_id, truck_id, now_s, busy))
        self._changed(truck_id, now_s, result)
        return True

    def _retry_waiting(self, now_s: float, result: DayResult) -> None:
        for job_id in list(self.waiting):
            if self.board.jobs[job_id].state != JobState.RECEIVED or self._offer(
                job_id, now_s, result
            ):
                self.waiting.remove(job_id)

    def _sync_homeward(self, now_s: float) -> None:
        """Trucks driving home are where their drive puts them now."""
        if self.homeward:
            self.board.move_trucks(
                {t: drive.position_at(now_s) for t, drive in sorted(self.homeward.items())}
            )

    def _changed(self, truck_id: str, now_s: float, result: DayResult) -> None:
        """After a truck's work changed: its drive, its next event, its busy span."""
        self._epoch[truck_id] += 1
        epoch = self._epoch[truck_id]
        truck = self.board.trucks[truck_id]
        first = self.board.jobs[truck.queue[0]] if truck.queue else None
        if first is None or first.state != JobState.ASSIGNED:
            # A drive is routed when the crew leaves (the live room also routes it while
            # the crew prepares, for the map; nothing here reads it before departure).
            self.drives.refresh(self.board, truck_id, now_s=now_s)
        if first is not None:
            self.homeward.pop(truck_id, None)
            self._busy_since.setdefault(truck_id, now_s)
            due_s = self._due_s(first, truck_id)
            if due_s is not None:
                self._push(max(now_s, due_s), "crew", truck_id, epoch)
            return
        since_s = self._busy_since.pop(truck_id, None)
        if since_s is not None:
            result.busy_s.setdefault(truck_id, []).append((since_s, now_s))
        drive = home_drive(self.board, truck_id, now_s=now_s)
        if drive is not None:
            self.homeward[truck_id] = drive
            assert drive.arrive_s is not None
            self._push(drive.arrive_s, "home", truck_id, epoch)
        if self.waiting:
            self._retry_waiting(now_s, result)

    def _due_s(self, job: Job, truck_id: str) -> float | None:
        """When the crew's next move on its first job ``job`` is due (None: no move)."""
        rules, since_s = self.board.rules, job.state_since_s()
        drive = self.drives.get(truck_id)
        if job.state == JobState.ASSIGNED:
            return since_s + rules.prep_s
        if job.state in (JobState.EN_ROUTE, JobState.TOWING):
            return since_s if drive is None else drive.arrive_s
        if job.state == JobState.ON_SCENE and job.needs_tow:
            return since_s + rules.tow_load_s
        if job.state == JobState.ON_SCENE:
            return since_s + self.crews.service_outcome(job.id)[0]
        return None

    def _done_s(self, job: Job) -> float:
        """When a fixed or delivered job is closed."""
        if job.state == JobState.FIXED:
            return job.state_since_s() + self.crews.config.close_after_s
        return job.state_since_s() + self.board.rules.tow_unload_s
