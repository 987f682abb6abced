"""Write operations, applied by a store in batches of one transaction each.

Writers describe *what* changes with these frozen structs; the backend decides
how. A batch of writes is atomic: either every write in it is durable or none.

The structs form a tagged union whose tag field is `op` (the class name), not
msgspec's default `type`, which is a field of `AppendEvent`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from interlace.state.records import (
    IdempotencyRecord,
    LineageColumnRecord,
    LineageEdgeRecord,
    ModelStateRecord,
    RunRecord,
    SchedulerStateRecord,
    SchemaColumn,
    TaskLogRecord,
    TaskRecord,
)

__all__ = [
    "AppendEvent",
    "AppendTaskLogs",
    "InsertRun",
    "RecordSchemaVersion",
    "SaveColumnLineage",
    "SaveIdempotencyKey",
    "SaveModelState",
    "SaveSchedulerState",
    "SaveWatermark",
    "UpdateRun",
    "UpdateTask",
    "Write",
]


class InsertRun(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"):
    """Create a run together with all of its tasks."""

    run: RunRecord
    tasks: list[TaskRecord]


class UpdateRun(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"):
    """Set some fields of a run (names as in `RunRecord`)."""

    run_id: str
    changes: dict[str, Any]


class UpdateTask(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"):
    """Set some fields of a task (names as in `TaskRecord`)."""

    task_id: str
    changes: dict[str, Any]


class SaveModelState(
    msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"
):
    """Upsert a model's change-detection state; None fields keep their value."""

    state: ModelStateRecord


class AppendEvent(msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"):
    """Append one event to the durable log; the store assigns its id."""

    type: str
    flow_id: str | None
    payload: dict[str, Any]


class AppendTaskLogs(
    msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"
):
    """Append captured log lines of tasks."""

    lines: list[TaskLogRecord]


class SaveWatermark(
    msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"
):
    """Upsert the incremental watermark of a cursor model (SPEC §4.11)."""

    model_name: str
    watermark: str
    run_id: str


class SaveIdempotencyKey(
    msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"
):
    """Remember (or replace) the answer to an idempotent request.

    Applying it also deletes every expired key, so the table stays bounded
    by the requests of the last retention period without a separate sweep.
    """

    record: IdempotencyRecord


class SaveSchedulerState(
    msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"
):
    """Replace the scheduler's row for one model (SPEC §9).

    The scheduler owns these rows and always writes every field, so None
    means None here (unlike `SaveModelState`): a paused model has no next fire.
    """

    state: SchedulerStateRecord


class RecordSchemaVersion(
    msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"
):
    """Record a model's table schema as its next version, if it changed.

    The store numbers the version `max + 1` inside its own transaction, so
    writers queued in the same or in concurrent batches never collide. It is
    recorded when the model has no version yet (version 1) or when a column
    is new or has another type than in the latest version; a schema that
    only lacks columns of the latest version (a removal) adds no version
    (SPEC §8.1).
    """

    model_name: str
    columns: list[SchemaColumn]
    """Every column of the table, in table order."""
    detected_at: dt.datetime


class SaveColumnLineage(
    msgspec.Struct, frozen=True, kw_only=True, tag=True, tag_field="op"
):
    """Replace a model's column lineage: its output columns and the edges
    into them (SPEC §8.2). The store stamps the computation time."""

    model_name: str
    definition_hash: str
    columns: list[LineageColumnRecord]
    edges: list[LineageEdgeRecord]
    """Edges whose `output_model` is `model_name`, in output column order."""
    complete: bool = True
    error: str | None = None


Write = (
    InsertRun
    | UpdateRun
    | UpdateTask
    | SaveModelState
    | SaveSchedulerState
    | AppendEvent
    | AppendTaskLogs
    | SaveWatermark
    | SaveIdempotencyKey
    | RecordSchemaVersion
    | SaveColumnLineage
)
