"""Runs of one model and its statistics, as `/api/v1/models/{name}/...` show them."""

from __future__ import annotations

import datetime as dt

import msgspec

from interlace.service.pagination import SortKey
from interlace.state.ids import iso_utc
from interlace.state.records import RunRecord, TaskRecord

__all__ = ["ModelRun", "ModelRunList", "ModelStats", "model_run", "task_sort_key"]


class ModelRun(msgspec.Struct, frozen=True, kw_only=True):
    flow_id: str
    task_id: str
    status: str
    task_status: str
    flow_status: str | None
    flow_started_at: str | None
    trigger_type: str | None
    started_at: str | None
    completed_at: str | None
    duration_seconds: float | None
    rows_processed: int | None
    error_message: str | None


class ModelRunList(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    runs: list[ModelRun]
    total: int
    has_more: bool
    next_cursor: str | None


class ModelStats(msgspec.Struct, frozen=True, kw_only=True):
    total_rows: int | None
    last_run_at: str | None
    avg_duration_seconds: float | None


def model_run(task: TaskRecord, run: RunRecord | None) -> ModelRun:
    duration = None
    if task.started_at is not None and task.completed_at is not None:
        duration = round((task.completed_at - task.started_at).total_seconds(), 3)
    return ModelRun(
        flow_id=task.run_id,
        task_id=task.task_id,
        status=task.status,
        task_status=task.status,
        flow_status=run.status if run else None,
        flow_started_at=_iso(run.started_at) if run else None,
        trigger_type=run.trigger_type if run else None,
        started_at=_iso(task.started_at),
        completed_at=_iso(task.completed_at),
        duration_seconds=duration,
        rows_processed=task.rows_processed,
        error_message=task.error_message,
    )


def task_sort_key(entry: tuple[TaskRecord, RunRecord | None]) -> SortKey:
    """The state store's order for a model's tasks: `enqueued_at`, then id."""
    task = entry[0]
    return (task.enqueued_at.isoformat(timespec="microseconds"), task.task_id)


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else iso_utc(value)
