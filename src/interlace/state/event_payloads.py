"""Payloads of the run and task events of SPEC §6.

They live beside the state store because both the runtime (every status
change) and crash recovery (closing runs of a dead process) write them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from typing import Any

from interlace.state.ids import iso_utc
from interlace.state.records import TaskRecord
from interlace.state.writes import AppendEvent

__all__ = ["flow_event", "progress_counts", "task_event"]

_RUNNING = frozenset({"running", "materialising"})
_PENDING = frozenset({"pending", "waiting", "ready"})


def task_event(
    task: TaskRecord, now: dt.datetime, *, type_: str | None = None, **extra: Any
) -> AppendEvent:
    """A `task.<status>` event (or `type_`) describing the task as it is now."""
    payload = {
        "flow_id": task.run_id,
        "timestamp": iso_utc(now),
        "task_id": task.task_id,
        "model_name": task.model_name,
        "status": task.status,
        "attempt": task.attempt,
        "duration": _seconds(task.started_at, task.completed_at),
        "wait_time": _seconds(task.enqueued_at, task.started_at),
        "rows_processed": task.rows_processed,
        "schema_changes": task.schema_changes,
        "skipped_reason": task.skipped_reason,
        "error": task.error_message,
        **extra,
    }
    return AppendEvent(
        type=type_ or f"task.{task.status}", flow_id=task.run_id, payload=payload
    )


def flow_event(type_: str, run_id: str, now: dt.datetime, **fields: Any) -> AppendEvent:
    payload = {"flow_id": run_id, "timestamp": iso_utc(now), **fields}
    return AppendEvent(type=type_, flow_id=run_id, payload=payload)


def progress_counts(tasks: Iterable[TaskRecord]) -> dict[str, int]:
    """Task counts by the buckets the API and flow events report."""
    counts: Counter[str] = Counter()
    for task in tasks:
        counts["total_tasks"] += 1
        status = str(task.status)
        if status in _RUNNING:
            counts["running"] += 1
        elif status in _PENDING:
            counts["pending"] += 1
        else:
            counts[status] += 1
    keys = ("total_tasks", "completed", "failed", "running", "pending", "skipped")
    return {key: counts[key] for key in (*keys, "cancelled")}


def _seconds(start: dt.datetime | None, end: dt.datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return round((end - start).total_seconds(), 6)
