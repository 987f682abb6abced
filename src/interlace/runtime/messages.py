"""Messages exchanged by the runtime's actors.

Every message is a frozen msgspec Struct: pykka does not copy messages, so
immutability is what makes sharing them between actor threads safe.
"""

from __future__ import annotations

from typing import Any

import msgspec

from interlace.state.records import EventRecord, RunRecord, TaskRecord
from interlace.warehouse.materialise import WriteResult

__all__ = [
    "AcquireModel",
    "Cancel",
    "CatalogLoaded",
    "EventsPersisted",
    "ModelGranted",
    "ReleaseModel",
    "RunFinished",
    "RunRequest",
    "ScratchDropped",
    "SubmitRun",
    "TaskCancelled",
    "TaskFailed",
    "TaskMaterialising",
    "TaskProgress",
    "TaskRetrying",
    "TaskStarted",
    "TaskSucceeded",
    "TaskTimedOut",
]


class RunRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a caller (CLI, API, scheduler, stream trigger) asks to run."""

    selectors: tuple[str, ...] | None = None
    """Model selectors (§5.2); None selects every model."""
    force: bool = False
    """Force every selected model."""
    force_models: frozenset[str] = frozenset()
    """Force only these models (scheduler fires, retries)."""
    since: str | None = None
    until: str | None = None
    no_upstream: bool = False
    trigger_type: str = "cli"
    trigger_id: str | None = None
    created_by: str | None = None
    trigger_metadata: dict[str, Any] | None = None
    retry_of: str | None = None


# --- to the run manager -------------------------------------------------------


class SubmitRun(msgspec.Struct, frozen=True, kw_only=True):
    """Create and schedule a run; the reply is the new run's id."""

    request: RunRequest


class AcquireModel(msgspec.Struct, frozen=True, kw_only=True):
    """A supervisor asks for a model's lock; answered by `ModelGranted`."""

    run_id: str
    task_id: str
    model: str


class ReleaseModel(msgspec.Struct, frozen=True, kw_only=True):
    """A supervisor gives a model's lock back."""

    run_id: str
    model: str


class RunFinished(msgspec.Struct, frozen=True, kw_only=True):
    """A supervisor reports that its run reached a terminal status."""

    run: RunRecord
    tasks: list[TaskRecord]


# --- to a run supervisor ------------------------------------------------------


class Cancel(msgspec.Struct, frozen=True, kw_only=True):
    """Cancel a run (to a supervisor) or a task (to a task actor)."""

    reason: str = "cancelled"
    code: str = "cancelled"


class ModelGranted(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str


class CatalogLoaded(msgspec.Struct, frozen=True, kw_only=True):
    """The relations that exist in each connection when the run starts."""

    relations: frozenset[tuple[str, str, str]]
    """(connection, schema, name) triples."""
    error: str | None = None


class ScratchDropped(msgspec.Struct, frozen=True, kw_only=True):
    """The run's scratch tables are gone; the run can be closed."""


class TaskStarted(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    attempt: int


class TaskRetrying(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    attempt: int
    """The attempt that failed (from 1)."""
    delay_seconds: float
    error: str


class TaskMaterialising(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    rows_ingested: int | None


class TaskProgress(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    rows_written: int
    rows_total: int | None


class TaskSucceeded(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    result: WriteResult
    watermark: str | None = None


class TaskFailed(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    error_type: str
    error_message: str
    error_stacktrace: str | None


class TaskCancelled(msgspec.Struct, frozen=True, kw_only=True):
    task_id: str
    started: bool
    """False when the task was cancelled before its work began."""


class TaskTimedOut(msgspec.Struct, frozen=True, kw_only=True):
    """A task actor's own timer fired (`executor.task_timeout_s`)."""


# --- to the event bus ---------------------------------------------------------


class EventsPersisted(msgspec.Struct, frozen=True, kw_only=True):
    """Events are durable in the log and can be delivered to listeners."""

    events: list[EventRecord]
