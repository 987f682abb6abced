"""Write operations, applied by a store in batches of one transaction each.

Writers describe *what* changes with these frozen structs; the backend decides
how. A batch of writes is atomic: either every write in it is durable or none.

The structs form a tagged union whose tag field is `op` (the class name), not
msgspec's default `type`, which is a field of `AppendEvent`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from interlace.state.records import (
    IdempotencyRecord,
    ModelStateRecord,
    RunRecord,
    SchedulerStateRecord,
    TaskLogRecord,
    TaskRecord,
)

__all__ = [
    "AppendEvent",
    "AppendTaskLogs",
    "InsertRun",
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
)
