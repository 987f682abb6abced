"""The scheduler's book: what it knows about each scheduled model.

Entries are built from the model definitions and the state store before the
scheduler actor starts (reading the store blocks, and actors must not), then
belong to the actor alone. `ScheduledModel` and `SchedulerStatus` are the
frozen views the actor hands out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from interlace.engine.project import Project
from interlace.runtime.schedules import Schedule, next_fire_after, parse_schedule
from interlace.runtime.status import RUN_TERMINAL
from interlace.state.records import RunRecord, SchedulerStateRecord
from interlace.state.store import RunFilter, StateStore
from interlace.state.writes import SaveSchedulerState

__all__ = ["ScheduleEntry", "ScheduledModel", "SchedulerStatus", "load_entries"]

# Scheduled runs looked at, per model, for the last run's id and status.
_RECENT_RUNS = 20


class ScheduledModel(msgspec.Struct, frozen=True, kw_only=True):
    """One scheduled model as `GET /api/v1/scheduler` shows it."""

    model: str
    schedule: dict[str, Any]
    next_fire_at: dt.datetime | None
    last_run_at: dt.datetime | None
    last_run_id: str | None
    last_status: str | None
    paused: bool
    active_run_id: str | None
    """The newest scheduled run of the model that has not ended yet."""


class SchedulerStatus(msgspec.Struct, frozen=True, kw_only=True):
    running: bool
    """True when the scheduler fires schedules (not `--no-scheduler`)."""
    timezone: str
    """`scheduler.timezone`, the zone of cron schedules that name none."""
    models: list[ScheduledModel]


class ScheduleEntry:
    """The scheduler's mutable view of one model; touched by its actor only."""

    def __init__(
        self,
        name: str,
        schedule: Schedule,
        state: SchedulerStateRecord | None,
        last_run: RunRecord | None,
    ) -> None:
        self.name = name
        self.schedule = schedule
        self.paused = state.paused if state else False
        self.last_run_at = state.last_run_at if state else None
        self.last_run_id = last_run.run_id if last_run else None
        self.last_status = last_run.status if last_run else None
        self.next_fire: dt.datetime | None = None
        self.active: list[str] = []

    def is_due(self, now: dt.datetime) -> bool:
        return not self.paused and self.next_fire is not None and self.next_fire <= now

    def advance(self, now: dt.datetime) -> None:
        """Move past the fire that is due at `now`, dropping missed ones."""
        if self.next_fire is not None:
            self.next_fire = next_fire_after(self.schedule, self.next_fire, now)

    def has_capacity(self) -> bool:
        return len(self.active) < self.schedule.max_concurrency

    def view(self) -> ScheduledModel:
        return ScheduledModel(
            model=self.name,
            schedule=self.schedule.describe(),
            next_fire_at=self.next_fire,
            last_run_at=self.last_run_at,
            last_run_id=self.last_run_id,
            last_status=self.last_status,
            paused=self.paused,
            active_run_id=self.active[-1] if self.active else None,
        )

    def record(self, now: dt.datetime) -> SaveSchedulerState:
        state = SchedulerStateRecord(
            model_name=self.name,
            last_run_at=self.last_run_at,
            next_fire_at=self.next_fire,
            paused=self.paused,
            updated_at=now,
        )
        return SaveSchedulerState(state=state)


def load_entries(
    project: Project, store: StateStore, timezone: str
) -> dict[str, ScheduleEntry]:
    """One entry per model with a schedule; `timezone` is the cron default."""
    states = store.scheduler_states()
    entries = {}
    for name, definition in project.models.items():
        if definition.schedule is None:
            continue
        schedule = parse_schedule(definition.schedule, timezone)
        last_run = _last_scheduled_run(store, name)
        entries[name] = ScheduleEntry(name, schedule, states.get(name), last_run)
    return entries


def _last_scheduled_run(store: StateStore, model: str) -> RunRecord | None:
    """The newest ended run that the scheduler fired for `model`.

    Runs of other scheduled models include `model` as an upstream task, so
    only runs whose `trigger_id` names it count.
    """
    filters = RunFilter(trigger_type="schedule", model=model)
    runs, _ = store.list_runs(filters, limit=_RECENT_RUNS)
    for run in runs:
        fired = (run.trigger_id or "").split(",")
        if model in fired and run.status in RUN_TERMINAL:
            return run
    return None
