"""The state store: runs, tasks, task logs, model state and the event log.

`open_state_store` picks the backend named by `state.backend`; everything
else talks to the `StateStore` interface and its write operations.
"""

from __future__ import annotations

from pathlib import Path

from interlace.errors import StateStoreError
from interlace.state.records import (
    EventRecord,
    ModelStateRecord,
    RunRecord,
    TaskLogRecord,
    TaskRecord,
)
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.store import RunFilter, StateStore
from interlace.state.writes import (
    AppendEvent,
    AppendTaskLogs,
    InsertRun,
    SaveModelState,
    UpdateRun,
    UpdateTask,
    Write,
)

__all__ = [
    "AppendEvent",
    "AppendTaskLogs",
    "EventRecord",
    "InsertRun",
    "ModelStateRecord",
    "RunFilter",
    "RunRecord",
    "SQLiteStateStore",
    "SaveModelState",
    "StateStore",
    "TaskLogRecord",
    "TaskRecord",
    "UpdateRun",
    "UpdateTask",
    "Write",
    "open_state_store",
]


def open_state_store(backend: str, path: Path) -> StateStore:
    """Open (creating and migrating as needed) the configured state store."""
    if backend == "sqlite":
        return SQLiteStateStore(path)
    if backend == "postgres":
        raise StateStoreError(
            "the PostgreSQL state backend (`state.backend: postgres`) is not "
            "available yet; use `state.backend: sqlite`"
        )
    raise StateStoreError(
        f"unknown state backend `{backend}`; expected `sqlite` or `postgres`"
    )
