"""Rows of the state store as frozen structs.

Timestamps are timezone-aware UTC datetimes. Records are immutable: an update
is expressed as a new record (`msgspec.structs.replace`) or as a write
operation naming the changed fields (see `interlace.state.writes`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

__all__ = [
    "EventRecord",
    "IdempotencyRecord",
    "LineageColumnRecord",
    "LineageEdgeRecord",
    "LineageModelRecord",
    "ModelStateRecord",
    "RunRecord",
    "SchedulerStateRecord",
    "SchemaColumn",
    "SchemaVersionRecord",
    "TaskLogRecord",
    "TaskRecord",
]


class RunRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One run (= flow)."""

    run_id: str
    status: str
    trigger_type: str
    trigger_id: str | None = None
    created_by: str | None = None
    created_at: dt.datetime
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    error: dict[str, Any] | None = None
    """`{"code": ..., "message": ...}` for failed or cancelled runs."""
    metadata: dict[str, Any] = {}
    """`models`, `trigger_metadata`, `since`, `until`, `force`, `no_upstream`."""
    model_selection: str | None = None
    """The selectors as given, joined by commas; None for all models."""
    retry_of: str | None = None
    owner: str | None = None
    """`host:pid:process start time` of the process executing the run."""


class TaskRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One model executed (or skipped) within a run."""

    task_id: str
    run_id: str
    model_name: str
    schema_name: str
    position: int
    """Index in the run's topological order."""
    status: str
    attempt: int = 0
    max_attempts: int = 1
    enqueued_at: dt.datetime
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None
    materialise: str = "table"
    strategy: str | None = None
    dependencies: list[str] = []
    parent_task_ids: list[str] = []
    run_reason: str | None = None
    rows_processed: int | None = None
    rows_ingested: int | None = None
    rows_inserted: int | None = None
    rows_updated: int | None = None
    rows_deleted: int | None = None
    schema_changes: int = 0
    skipped_reason: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    error_stacktrace: str | None = None
    metadata: dict[str, Any] = {}


class ModelStateRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What change detection remembers about a model."""

    model_name: str
    code_hash: str | None = None
    config_hash: str | None = None
    last_success_at: dt.datetime | None = None
    last_materialised_at: dt.datetime | None = None
    last_run_at: dt.datetime | None = None
    last_run_id: str | None = None
    last_status: str | None = None


class EventRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One entry of the durable event log; `id` is the SSE `id:`."""

    id: int
    type: str
    flow_id: str | None
    timestamp: dt.datetime
    payload: dict[str, Any]
    """The full event body, `timestamp` and `flow_id` included."""


class SchedulerStateRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the scheduler remembers about one scheduled model across restarts."""

    model_name: str
    last_run_at: dt.datetime | None = None
    """When the model's last scheduled run reached a terminal status."""
    next_fire_at: dt.datetime | None = None
    """None while paused or before the scheduler computed it."""
    paused: bool = False
    updated_at: dt.datetime


class TaskLogRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One captured log line of a task; `line` counts from 1 per task."""

    task_id: str
    line: int
    timestamp: dt.datetime
    level: str
    logger: str
    stream: str
    """`log`, `stdout` or `stderr`."""
    message: str


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The remembered answer to a request sent with an `Idempotency-Key`."""

    scope: str
    """Whose key it is: the API key name, or the client IP without auth."""
    key: str
    request_hash: str
    """Digest of the canonical request body; another body is a conflict."""
    status_code: int | None = None
    response_body: str | None = None
    created_at: dt.datetime
    expires_at: dt.datetime


class SchemaColumn(msgspec.Struct, frozen=True, kw_only=True):
    """One column of a model's table as schema history records it (SPEC §8.1)."""

    name: str
    type: str
    """Canonical type (`interlace.types`), e.g. `int64` or `decimal(10,2)`."""
    nullable: bool = True
    is_primary_key: bool = False


class SchemaVersionRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One version of a model's table schema; versions count from 1."""

    model_name: str
    version: int
    detected_at: dt.datetime
    columns: list[SchemaColumn]
    """Every column of the table at that version, in table order."""


class LineageColumnRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An output column of a model as column lineage computed it (SPEC §8.2)."""

    name: str
    data_type: str | None = None
    """Canonical type, None when lineage could not infer it."""


class LineageEdgeRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One upstream column feeding one output column of a model."""

    source_model: str
    source_column: str
    output_model: str
    output_column: str
    transformation_type: str
    """`direct`, `renamed`, `derived`, `aggregated`, `joined`, `filtered`,
    `cast`, `window` or `unknown`."""
    transformation_expression: str | None = None
    confidence: float = 1.0


class LineageModelRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What column lineage remembers about one model besides its edges."""

    model_name: str
    definition_hash: str
    """The definition the lineage was computed from; another hash means stale."""
    columns: list[LineageColumnRecord]
    """Output columns in order."""
    complete: bool = True
    """False when `columns` may miss some (`*` over an unknown table)."""
    error: str | None = None
    """Why lineage could not be computed; there are no edges then."""
    computed_at: dt.datetime
