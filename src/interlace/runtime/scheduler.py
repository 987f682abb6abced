"""The scheduler actor: fires cron and interval schedules as runs (SPEC §9).

The actor never waits for time or for runs. A ticker thread tells it `Tick`
just after every whole second; a fire submits one run for every model due
in that second, and a callback on the run's outcome future tells the actor
when the run ended. State reads happen before the actor starts (they block);
state writes are queued for the state writer, which never blocks.

A scheduler started with `firing=False` never fires: it still answers
status questions and persists pause and resume, so a service started with
`--no-scheduler` can show and change schedules for a later start.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any

import msgspec
import pykka

from interlace.engine.project import Project
from interlace.runtime.messages import RunRequest
from interlace.runtime.run_manager import Submitted
from interlace.runtime.schedule_book import (
    ScheduledModel,
    ScheduleEntry,
    SchedulerStatus,
    load_entries,
)
from interlace.runtime.schedules import first_fire, second
from interlace.state.ids import iso_utc, utc_now
from interlace.state.records import RunRecord
from interlace.state.store import StateStore
from interlace.state.writes import AppendEvent, Write

__all__ = [
    "Clock",
    "ScheduledModel",
    "Scheduler",
    "SchedulerHandle",
    "SchedulerStatus",
    "Tick",
    "start_scheduler",
]

logger = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]
"""Returns the current time, timezone-aware; injectable for tests."""

SubmitRun = Callable[[RunRequest], Submitted]
"""Submits a run (see `Runtime.submit`); blocks briefly on the run manager."""

WriteState = Callable[[Sequence[Write]], None]
"""Queues state writes without blocking (see `Runtime.write`)."""

ASK_TIMEOUT_S = 10.0
SKIP_REASON = "previous_run_active"
# How far past each whole second the ticker wakes, so that a fire due at a
# whole second is due by the time the tick is handled.
_TICK_OFFSET_S = 0.005


class Tick(msgspec.Struct, frozen=True, kw_only=True):
    """Time to look for due schedules."""


class _RunEnded(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    models: tuple[str, ...]
    run: RunRecord | None
    """The finished run; None when its outcome was lost (runtime stopping)."""


class _SetPaused(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    paused: bool


class _GetStatus(msgspec.Struct, frozen=True, kw_only=True):
    pass


class _Halt(msgspec.Struct, frozen=True, kw_only=True):
    """Stop firing for good; keep answering (the service is draining)."""


class Scheduler(pykka.ThreadingActor):
    """One per process; owns every scheduled model's next fire and state."""

    def __init__(
        self,
        *,
        entries: dict[str, ScheduleEntry],
        timezone: str,
        submit: SubmitRun,
        write: WriteState,
        clock: Clock,
        firing: bool,
        tick_s: float | None,
    ) -> None:
        super().__init__()
        self._entries = entries
        self._timezone = timezone
        self._submit_run = submit
        self._write = write
        self._clock = clock
        self._firing = firing
        self._ticker = _Ticker(self.actor_ref, tick_s) if firing and tick_s else None

    def on_start(self) -> None:
        if not self._firing:
            return
        now = self._clock()
        for entry in self._entries.values():
            if not entry.paused:
                entry.next_fire = first_fire(entry.schedule, entry.last_run_at, now)
        self._save(self._entries.values(), now)
        # Misfires are due at once: handle them before the first timer tick.
        self.actor_ref.tell(Tick())
        if self._ticker is not None:
            self._ticker.start()
        logger.debug("scheduler started with %d model(s)", len(self._entries))

    def on_stop(self) -> None:
        self._halt()
        logger.debug("scheduler stopped")

    def on_receive(self, message: Any) -> Any:
        match message:
            case Tick():
                if self._firing:
                    self._tick(self._clock())
            case _RunEnded():
                self._ended(message)
            case _SetPaused(model=model, paused=paused):
                return self._set_paused(model, paused)
            case _GetStatus():
                return self._status()
            case _Halt():
                self._halt()
            case _:
                logger.warning("scheduler ignored unexpected message %r", message)
        return None

    # --- firing --------------------------------------------------------------------

    def _tick(self, now: dt.datetime) -> None:
        due = [entry for entry in self._entries.values() if entry.is_due(now)]
        if not due:
            return
        ready = [entry for entry in due if entry.has_capacity()]
        skipped = [entry for entry in due if not entry.has_capacity()]
        for entry in due:
            entry.advance(now)
        writes: list[Write] = [_skipped_event(entry, now) for entry in skipped]
        self._write([*writes, *(entry.record(now) for entry in due)])
        if ready:
            self._fire(ready)

    def _fire(self, entries: list[ScheduleEntry]) -> None:
        names = tuple(sorted(entry.name for entry in entries))
        request = RunRequest(
            selectors=names,
            force_models=frozenset(names),
            trigger_type="schedule",
            trigger_id=",".join(names),
            created_by="scheduler",
        )
        try:
            submitted = self._submit_run(request)
        except Exception:
            # The fire is lost, not the scheduler: the next occurrence is
            # already set and an exception here would stop the actor.
            logger.exception("scheduler could not submit a run for %s", names)
            return
        run_id = submitted.run_id
        for entry in entries:
            entry.active.append(run_id)
        logger.info("scheduler fired %s as run %s", ", ".join(names), run_id)
        outcome: Future[Any] = submitted.outcome
        outcome.add_done_callback(
            functools.partial(_report_end, self.actor_ref, run_id, names)
        )

    def _ended(self, message: _RunEnded) -> None:
        now = self._clock()
        run = message.run
        touched = []
        for name in message.models:
            entry = self._entries.get(name)
            if entry is None or message.run_id not in entry.active:
                continue
            entry.active.remove(message.run_id)
            if run is not None:
                entry.last_run_at = run.completed_at or now
                entry.last_run_id = run.run_id
                entry.last_status = run.status
            touched.append(entry)
        self._save(touched, now)

    # --- control -------------------------------------------------------------------

    def _set_paused(self, name: str, paused: bool) -> ScheduledModel | None:
        entry = self._entries.get(name)
        if entry is None:
            return None
        if entry.paused != paused:
            now = self._clock()
            entry.paused = paused
            entry.next_fire = None
            if not paused and self._firing:
                # From now on, without catching up what the pause missed.
                entry.next_fire = entry.schedule.next_after(second(now))
            self._save([entry], now)
        return entry.view()

    def _halt(self) -> None:
        self._firing = False
        if self._ticker is not None:
            self._ticker.stop()

    def _status(self) -> SchedulerStatus:
        return SchedulerStatus(
            running=self._firing,
            timezone=self._timezone,
            models=[self._entries[name].view() for name in sorted(self._entries)],
        )

    def _save(self, entries: Iterable[ScheduleEntry], now: dt.datetime) -> None:
        writes = [entry.record(now) for entry in entries]
        if writes:
            self._write(writes)


def _skipped_event(entry: ScheduleEntry, now: dt.datetime) -> AppendEvent:
    payload = {
        "timestamp": iso_utc(now),
        "model": entry.name,
        "reason": SKIP_REASON,
        "active_run_id": entry.active[-1],
    }
    logger.info("scheduler skipped %s: run %s is active", entry.name, entry.active[-1])
    return AppendEvent(type="schedule.skipped", flow_id=None, payload=payload)


def _report_end(
    ref: pykka.ActorRef[Any],
    run_id: str,
    models: tuple[str, ...],
    outcome: Future[Any],
) -> None:
    """Runs on whichever thread resolved the outcome; only tells, never waits."""
    run = None
    if not outcome.cancelled() and outcome.exception() is None:
        run = outcome.result().run
    try:
        ref.tell(_RunEnded(run_id=run_id, models=models, run=run))
    except pykka.ActorDeadError:
        logger.debug("scheduler stopped before run %s ended", run_id)


class _Ticker:
    """A daemon thread telling the scheduler `Tick` after each whole second."""

    def __init__(self, ref: pykka.ActorRef[Any], interval_s: float) -> None:
        self._ref = ref
        self._interval_s = interval_s
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="interlace-scheduler-tick", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._delay()):
            try:
                self._ref.tell(Tick())
            except pykka.ActorDeadError:
                return

    def _delay(self) -> float:
        interval = self._interval_s
        return interval - (time.time() % interval) + _TICK_OFFSET_S


class SchedulerHandle:
    """The blocking face of the scheduler: asks with timeouts.

    Callers on an event loop must go through the service bridge.
    """

    def __init__(self, ref: pykka.ActorRef[Any]) -> None:
        self._ref = ref

    @property
    def alive(self) -> bool:
        return bool(self._ref.is_alive())

    def status(self, timeout: float = ASK_TIMEOUT_S) -> SchedulerStatus:
        answer: SchedulerStatus = self._ref.ask(
            _GetStatus(), block=True, timeout=timeout
        )
        return answer

    def pause(
        self, model: str, timeout: float = ASK_TIMEOUT_S
    ) -> ScheduledModel | None:
        """Stop firing `model` until resumed; None if it has no schedule."""
        return self._set_paused(model, True, timeout)

    def resume(
        self, model: str, timeout: float = ASK_TIMEOUT_S
    ) -> ScheduledModel | None:
        """Fire `model` again from its next occurrence after now."""
        return self._set_paused(model, False, timeout)

    def halt(self, timeout: float = ASK_TIMEOUT_S) -> None:
        """Stop firing (runs already fired go on); status and pause still work."""
        self._ref.ask(_Halt(), block=True, timeout=timeout)

    def tick(self) -> None:
        """Look for due schedules now (the ticker does this every second)."""
        self._ref.tell(Tick())

    def stop(self, timeout: float = ASK_TIMEOUT_S) -> None:
        self._ref.stop(timeout=timeout)

    def _set_paused(
        self, model: str, paused: bool, timeout: float
    ) -> ScheduledModel | None:
        message = _SetPaused(model=model, paused=paused)
        answer: ScheduledModel | None = self._ref.ask(
            message, block=True, timeout=timeout
        )
        return answer


def start_scheduler(
    *,
    project: Project,
    store: StateStore,
    submit: SubmitRun,
    write: WriteState,
    clock: Clock | None = None,
    firing: bool = True,
    tick_s: float | None = 1.0,
) -> SchedulerHandle:
    """Load the scheduled models and their state, then start the actor.

    Blocks on state store reads, so call it from a worker thread in async
    code. `tick_s=None` starts no ticker: ticks come only from `tick()`.
    """
    timezone = project.config.scheduler_timezone
    entries = load_entries(project, store, timezone)
    ref = Scheduler.start(
        entries=entries,
        timezone=timezone,
        submit=submit,
        write=write,
        clock=clock or utc_now,
        firing=firing,
        tick_s=tick_s,
    )
    return SchedulerHandle(ref)
