"""Lifecycle enums of runs and tasks."""

from __future__ import annotations

import enum

__all__ = [
    "RUN_TERMINAL",
    "TASK_TERMINAL",
    "RunStatus",
    "TaskStatus",
]


class RunStatus(enum.StrEnum):
    PENDING = "pending"
    """Created; waiting for a free run slot (`executor.max_concurrent_runs`)."""
    RUNNING = "running"
    """Its supervisor is deciding and executing tasks."""
    CANCELLING = "cancelling"
    """A cancel arrived; running tasks are being interrupted."""
    COMPLETED = "completed"
    """Every task completed or was skipped."""
    FAILED = "failed"
    """At least one task failed, or the owning process died."""
    CANCELLED = "cancelled"
    """The run was cancelled before every task finished."""


class TaskStatus(enum.StrEnum):
    PENDING = "pending"
    """Created with the run."""
    WAITING = "waiting"
    """Some dependencies are not terminal yet."""
    READY = "ready"
    """Change detection says run; waiting for the model lock and a worker."""
    RUNNING = "running"
    """The model's function or query is executing."""
    MATERIALISING = "materialising"
    """The result is being written to the warehouse."""
    COMPLETED = "completed"
    """Executed successfully."""
    FAILED = "failed"
    """User error, write or schema error, timeout or missing dependency."""
    CANCELLED = "cancelled"
    """Interrupted while running because the run was cancelled."""
    SKIPPED = "skipped"
    """Not executed; `skipped_reason` says why."""


RUN_TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED})
TASK_TERMINAL = frozenset(
    {
        TaskStatus.COMPLETED,
        TaskStatus.FAILED,
        TaskStatus.CANCELLED,
        TaskStatus.SKIPPED,
    }
)
