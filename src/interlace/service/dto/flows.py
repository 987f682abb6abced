"""Wire shapes of `/api/v1/flows` (SPEC §10.8, §10.9) and their derivation.

A flow is a run seen with its aggregates: counts, rows and durations are
computed from its tasks here, so the store keeps only facts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from typing import Any

import msgspec

from interlace.runtime.status import RunStatus
from interlace.service.dto.runs import iso_or_none, seconds_between
from interlace.service.problems import ApiError, validation_error
from interlace.state.records import RunRecord, TaskLogRecord, TaskRecord
from interlace.state.store import RunFilter

__all__ = [
    "TRIGGER_TYPES",
    "Flow",
    "FlowDetail",
    "FlowList",
    "FlowSummary",
    "Task",
    "TaskList",
    "TaskLogLine",
    "TaskLogs",
    "flow_body",
    "flow_detail",
    "flow_filter",
    "log_line",
    "parse_instant",
    "task_body",
]

TRIGGER_TYPES = ("cli", "api", "schedule", "event", "webhook")


class FlowSummary(msgspec.Struct, frozen=True, kw_only=True):
    total_tasks: int
    completed: int
    failed: int
    skipped: int
    cancelled: int


class Flow(msgspec.Struct, frozen=True, kw_only=True):
    flow_id: str
    run_id: str
    status: str
    started_at: str | None
    completed_at: str | None
    duration_seconds: float | None
    total_tasks: int
    completed_tasks: int
    failed_tasks: int
    total_rows: int
    """Rows written by the flow's tasks (`rows_processed` summed)."""
    trigger: str
    trigger_type: str
    trigger_id: str | None
    created_by: str | None
    retry_of: str | None
    error: dict[str, Any] | None
    model_selection: str | None
    models_total: int
    models_succeeded: int
    models_failed: int
    metadata: dict[str, Any]
    summary: FlowSummary
    created_at: str


class Task(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    flow_id: str
    model_name: str
    schema_name: str
    status: str
    attempt: int
    max_attempts: int
    enqueued_at: str
    started_at: str | None
    completed_at: str | None
    duration_seconds: float | None
    wait_time_seconds: float | None
    materialise: str
    strategy: str | None
    dependencies: list[str]
    parent_task_ids: list[str]
    run_reason: str | None
    rows_processed: int | None
    rows_ingested: int | None
    rows_inserted: int | None
    rows_updated: int | None
    rows_deleted: int | None
    schema_changes: int
    skipped_reason: str | None
    error_type: str | None
    error_message: str | None
    error_stacktrace: str | None
    metadata: dict[str, Any]


class FlowDetail(Flow, frozen=True, kw_only=True):
    tasks: list[Task]
    """In topological order."""


class FlowList(msgspec.Struct, frozen=True, kw_only=True):
    flows: list[Flow]
    total: int
    has_more: bool
    next_cursor: str | None


class TaskList(msgspec.Struct, frozen=True, kw_only=True):
    tasks: list[Task]
    total: int
    has_more: bool
    next_cursor: str | None


class TaskLogLine(msgspec.Struct, frozen=True, kw_only=True):
    line: int
    timestamp: str
    level: str
    logger: str
    stream: str
    message: str


class TaskLogs(msgspec.Struct, frozen=True, kw_only=True):
    flow_id: str
    task_id: str
    complete: bool
    """The task is terminal and every line it produced is in `lines` or
    before `after`: tailing can stop."""
    truncated: bool
    """Lines beyond `executor.task_log_max_lines` were dropped."""
    next_after: int
    lines: list[TaskLogLine]


# --- rendering -----------------------------------------------------------------


def flow_body(run: RunRecord, tasks: Sequence[TaskRecord]) -> Flow:
    """The flow object of `run`; `FlowDetail` adds its tasks."""
    return Flow(**_flow_fields(run, tasks))


def flow_detail(run: RunRecord, tasks: Sequence[TaskRecord]) -> FlowDetail:
    return FlowDetail(
        **_flow_fields(run, tasks), tasks=[task_body(task) for task in tasks]
    )


def _flow_fields(run: RunRecord, tasks: Sequence[TaskRecord]) -> dict[str, Any]:
    counts = Counter(task.status for task in tasks)
    summary = FlowSummary(
        total_tasks=len(tasks),
        completed=counts["completed"],
        failed=counts["failed"],
        skipped=counts["skipped"],
        cancelled=counts["cancelled"],
    )
    return {
        "flow_id": run.run_id,
        "run_id": run.run_id,
        "status": run.status,
        "started_at": iso_or_none(run.started_at),
        "completed_at": iso_or_none(run.completed_at),
        "duration_seconds": seconds_between(run.started_at, run.completed_at),
        "total_tasks": len(tasks),
        "completed_tasks": summary.completed,
        "failed_tasks": summary.failed,
        "total_rows": sum(task.rows_processed or 0 for task in tasks),
        "trigger": run.trigger_type,
        "trigger_type": run.trigger_type,
        "trigger_id": run.trigger_id,
        "created_by": run.created_by,
        "retry_of": run.retry_of,
        "error": run.error,
        "model_selection": run.model_selection,
        "models_total": len(tasks),
        "models_succeeded": summary.completed,
        "models_failed": summary.failed,
        "metadata": run.metadata,
        "summary": summary,
        "created_at": iso_or_none(run.created_at),
    }


def task_body(task: TaskRecord) -> Task:
    fields = msgspec.structs.asdict(task)
    for name in ("run_id", "position"):
        del fields[name]
    for name in ("enqueued_at", "started_at", "completed_at"):
        fields[name] = iso_or_none(fields[name])
    return Task(
        **fields,
        flow_id=task.run_id,
        duration_seconds=seconds_between(task.started_at, task.completed_at),
        wait_time_seconds=seconds_between(task.enqueued_at, task.started_at),
    )


def log_line(record: TaskLogRecord) -> TaskLogLine:
    return TaskLogLine(
        line=record.line,
        timestamp=iso_or_none(record.timestamp) or "",
        level=record.level,
        logger=record.logger,
        stream=record.stream,
        message=record.message,
    )


# --- query parameters ----------------------------------------------------------


def flow_filter(
    status: str | None,
    trigger_type: str | None,
    since: str | None,
    until: str | None,
    model: str | None,
) -> RunFilter:
    """Validate the `/flows` filters (400 on an unknown enum value or date)."""
    statuses = [member.value for member in RunStatus]
    return RunFilter(
        status=_one_of("status", status, statuses),
        trigger_type=_one_of("trigger_type", trigger_type, TRIGGER_TYPES),
        since=parse_instant("since", since),
        until=parse_instant("until", until),
        model=model or None,
    )


def _one_of(name: str, value: str | None, allowed: Sequence[str]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        choices = ", ".join(f"'{choice}'" for choice in allowed)
        raise _invalid(name, f"'{name}' must be one of {choices}; got '{value}'")
    return value


def parse_instant(name: str, value: str | None) -> dt.datetime | None:
    """An ISO date (midnight) or datetime; a naive value is taken as UTC."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        message = (
            f"'{name}' must be an ISO date or datetime "
            f"(e.g. '2026-03-01' or '2026-03-01T10:05:00Z'); got '{value}'"
        )
        raise _invalid(name, message) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _invalid(name: str, message: str) -> ApiError:
    return validation_error(message, [{"path": f"query.{name}", "message": message}])
