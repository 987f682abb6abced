"""Wire shapes of `/api/v1/scheduler` (SPEC §10.4)."""

from __future__ import annotations

from typing import Any

import msgspec

from interlace.runtime.scheduler import ScheduledModel, SchedulerStatus
from interlace.service.dto.runs import iso_or_none

__all__ = [
    "PauseAnswer",
    "ScheduledModelBody",
    "SchedulerBody",
    "pause_answer",
    "scheduler_body",
]


class ScheduledModelBody(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    schedule: dict[str, Any]
    """`{"cron", "timezone"}` or `{"every_s"}`; `max_concurrency` unless 1."""
    next_fire_at: str | None
    """Null while paused, or when the scheduler does not fire."""
    last_run_at: str | None
    """When the last scheduled run of the model ended."""
    last_run_id: str | None
    last_status: str | None
    paused: bool
    active_run_id: str | None


class SchedulerBody(msgspec.Struct, frozen=True, kw_only=True):
    running: bool
    timezone: str
    scheduled_models: int
    models: list[ScheduledModelBody]


class PauseAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to pause and resume."""

    model: str
    paused: bool
    next_fire_at: str | None


def scheduler_body(status: SchedulerStatus) -> SchedulerBody:
    return SchedulerBody(
        running=status.running,
        timezone=status.timezone,
        scheduled_models=len(status.models),
        models=[_model_body(model) for model in status.models],
    )


def pause_answer(model: ScheduledModel) -> PauseAnswer:
    return PauseAnswer(
        model=model.model,
        paused=model.paused,
        next_fire_at=iso_or_none(model.next_fire_at),
    )


def _model_body(model: ScheduledModel) -> ScheduledModelBody:
    return ScheduledModelBody(
        model=model.model,
        schedule=model.schedule,
        next_fire_at=iso_or_none(model.next_fire_at),
        last_run_at=iso_or_none(model.last_run_at),
        last_run_id=model.last_run_id,
        last_status=model.last_status,
        paused=model.paused,
        active_run_id=model.active_run_id,
    )
