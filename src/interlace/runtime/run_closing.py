"""How a run ends: its final status, and the writes that record the end."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from interlace.engine.changes import SkipReason
from interlace.runtime import messages as msg
from interlace.runtime.status import TASK_TERMINAL, RunStatus, TaskStatus
from interlace.state.event_payloads import flow_event, progress_counts
from interlace.state.records import RunRecord, TaskRecord
from interlace.state.writes import UpdateRun, Write

__all__ = ["abandoned_changes", "final_status", "run_end_writes"]

_ACTIVE = {TaskStatus.RUNNING, TaskStatus.MATERIALISING}


def final_status(
    tasks: Iterable[TaskRecord], cancel: msg.Cancel | None
) -> tuple[RunStatus, dict[str, Any] | None]:
    """`failed` if a task failed, else `cancelled` if cancelled, else `completed`."""
    failed = [task for task in tasks if task.status == TaskStatus.FAILED]
    if failed:
        names = ", ".join(task.model_name for task in failed)
        message = f"{len(failed)} task(s) failed: {names}"
        return RunStatus.FAILED, {"code": "task_failed", "message": message}
    if cancel is not None:
        return RunStatus.CANCELLED, {"code": cancel.code, "message": cancel.reason}
    return RunStatus.COMPLETED, None


def run_end_writes(
    run: RunRecord,
    tasks: list[TaskRecord],
    *,
    started_at: dt.datetime,
    now: dt.datetime,
) -> list[Write]:
    """The run's terminal update and its `flow.<status>` event."""
    counts = progress_counts(tasks)
    del counts["cancelled"]
    return [
        UpdateRun(
            run_id=run.run_id,
            changes={"status": run.status, "completed_at": now, "error": run.error},
        ),
        flow_event(
            f"flow.{run.status}",
            run.run_id,
            now,
            status=str(run.status),
            trigger_type=run.trigger_type,
            duration=round((now - started_at).total_seconds(), 6),
            error=run.error,
            **counts,
        ),
    ]


def abandoned_changes(task: TaskRecord, message: str) -> dict[str, Any] | None:
    """How an open task is closed when its supervisor fails (None if closed).

    Like crash recovery: running tasks fail, the others are skipped.
    """
    if task.status in TASK_TERMINAL:
        return None
    if task.status in _ACTIVE:
        return {
            "status": TaskStatus.FAILED,
            "error_type": "internal_error",
            "error_message": message,
        }
    return {
        "status": TaskStatus.SKIPPED,
        "skipped_reason": SkipReason.RUN_CANCELLED.value,
    }
