"""The `StateStore` interface every state backend implements.

Reads may be called from any thread. Writes arrive as batches of write
operations (`interlace.state.writes`) that the backend applies in one
transaction; in a running process one writer (see `StateWriter`) is the only
caller of `apply`, so backends need not order concurrent batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Protocol

import msgspec

from interlace.state.records import (
    EventRecord,
    IdempotencyRecord,
    LineageEdgeRecord,
    LineageModelRecord,
    ModelStateRecord,
    RunRecord,
    SchedulerStateRecord,
    SchemaVersionRecord,
    TaskLogRecord,
    TaskRecord,
)
from interlace.state.writes import Write

__all__ = ["RunFilter", "StateStore"]


class RunFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filters for listing runs; None means no filter."""

    status: str | None = None
    trigger_type: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    model: str | None = None
    """Runs that have a task for this model."""


class StateStore(Protocol):
    """Persistent runs, tasks, logs, model state and the event log."""

    def apply(self, writes: Sequence[Write]) -> list[EventRecord]:
        """Apply writes in one durable transaction.

        Returns the events appended by the batch, with their assigned ids, in
        the order of the `AppendEvent` writes.
        """
        ...

    def get_run(self, run_id: str) -> RunRecord | None: ...

    def list_runs(
        self, filters: RunFilter, *, limit: int, offset: int = 0
    ) -> tuple[list[RunRecord], int]:
        """Runs newest first (by `created_at`, then id), and the total count."""
        ...

    def open_runs(self) -> list[RunRecord]:
        """Runs whose status is `pending`, `running` or `cancelling`."""
        ...

    def get_tasks(self, run_id: str) -> list[TaskRecord]:
        """Tasks of a run in topological order (`position`)."""
        ...

    def get_task(self, task_id: str) -> TaskRecord | None: ...

    def model_tasks(
        self, model_name: str, *, limit: int, offset: int = 0
    ) -> tuple[list[TaskRecord], int]:
        """Tasks of one model, newest first, and the total count."""
        ...

    def get_model_state(self, model_name: str) -> ModelStateRecord | None: ...

    def model_states(self) -> dict[str, ModelStateRecord]: ...

    def scheduler_states(self) -> dict[str, SchedulerStateRecord]:
        """The scheduler's remembered state, by model name (SPEC §9)."""
        ...

    def watermarks(self) -> dict[str, str]:
        """The incremental watermark of every cursor model that has one."""
        ...

    def read_events(self, after_id: int, *, limit: int) -> list[EventRecord]:
        """Events with `id > after_id`, ascending."""
        ...

    def get_idempotency_key(self, scope: str, key: str) -> IdempotencyRecord | None:
        """The remembered answer for `key` in `scope`, unless it has expired."""
        ...

    def schema_versions(
        self, model_name: str, *, limit: int, offset: int = 0
    ) -> tuple[list[SchemaVersionRecord], int]:
        """Recorded schema versions of a model, newest first, and their count."""
        ...

    def schema_version(
        self, model_name: str, version: int
    ) -> SchemaVersionRecord | None: ...

    def latest_schema_version(self, model_name: str) -> SchemaVersionRecord | None:
        """The model's newest recorded schema version (SPEC §8.1)."""
        ...

    def column_lineage(
        self, models: Collection[str] | None = None
    ) -> list[LineageEdgeRecord]:
        """Stored lineage edges into `models` (None: every model), grouped
        by output model in saved order (SPEC §8.2)."""
        ...

    def lineage_models(
        self, models: Collection[str] | None = None
    ) -> dict[str, LineageModelRecord]:
        """Stored output columns, definition hash and error by model name."""
        ...

    def lineage_hashes(self) -> dict[str, str]:
        """The definition hash each model's stored lineage was computed from."""
        ...

    def event_bounds(self) -> tuple[int | None, int | None]:
        """The oldest and newest retained event ids (None when empty)."""
        ...

    def task_logs(
        self, task_id: str, *, after: int, limit: int
    ) -> list[TaskLogRecord]: ...

    def prune_events(self, retention_days: float | None, max_rows: int | None) -> int:
        """Delete events older than `retention_days` and all but the newest
        `max_rows` (None: no such limit); returns how many were deleted.
        Ids of deleted events are never reused."""
        ...

    def close(self) -> None:
        """Checkpoint and close every connection."""
        ...
