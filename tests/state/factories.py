"""Records with sensible defaults for state store tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from interlace.state.records import RunRecord, TaskLogRecord, TaskRecord

T0 = dt.datetime(2026, 3, 1, 10, 5, 0, 113000, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    """`T0` plus some seconds: readable, deterministic timestamps."""
    return T0 + dt.timedelta(seconds=seconds)


def make_run(run_id: str = "run_000000000001", **fields: Any) -> RunRecord:
    values: dict[str, Any] = {
        "status": "running",
        "trigger_type": "cli",
        "created_at": T0,
    }
    return RunRecord(run_id=run_id, **{**values, **fields})


def make_task(
    task_id: str = "task_000000000001",
    run_id: str = "run_000000000001",
    **fields: Any,
) -> TaskRecord:
    values: dict[str, Any] = {
        "model_name": "orders",
        "schema_name": "main",
        "position": 0,
        "status": "pending",
        "enqueued_at": T0,
    }
    return TaskRecord(task_id=task_id, run_id=run_id, **{**values, **fields})


def make_log_line(task_id: str, line: int, message: str = "") -> TaskLogRecord:
    return TaskLogRecord(
        task_id=task_id,
        line=line,
        timestamp=at(line),
        level="INFO",
        logger="models.orders",
        stream="log",
        message=message or f"line {line}",
    )
