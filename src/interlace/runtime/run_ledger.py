"""The tasks of one run, as its supervisor last recorded them.

Every change to a task goes through the ledger, which keeps the in-memory
record, queues the matching state write and appends the task event, so the
three can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from interlace.runtime.status import TaskStatus
from interlace.state.event_payloads import flow_event, task_event
from interlace.state.ids import utc_now
from interlace.state.records import TaskRecord
from interlace.state.writes import UpdateTask, Write

__all__ = ["RunLedger"]


class RunLedger:
    """Task records by model name, with their in-run dependants."""

    def __init__(
        self,
        tasks: Sequence[TaskRecord],
        in_run_dependencies: dict[str, tuple[str, ...]],
        write: Callable[[list[Write]], None],
    ) -> None:
        self.tasks = {task.model_name: task for task in tasks}
        self._names = {task.task_id: task.model_name for task in tasks}
        self.dependants: dict[str, list[str]] = {name: [] for name in self.tasks}
        for name, upstream in in_run_dependencies.items():
            for up in upstream:
                self.dependants[up].append(name)
        self._write = write
        self._last_progress: dict[str, float] = {}

    def name_of(self, task_id: str) -> str:
        return self._names[task_id]

    def set_status(self, name: str, status: TaskStatus, **changes: Any) -> TaskRecord:
        """Record a status change: one state write and one `task.<status>` event."""
        return self.record(name, {"status": status, **changes})

    def record(
        self,
        name: str,
        changes: dict[str, Any],
        *,
        event_type: str | None = None,
        **extra: Any,
    ) -> TaskRecord:
        """Apply `changes` to the task, persist them and emit its event."""
        task = msgspec.structs.replace(self.tasks[name], **changes)
        self.tasks[name] = task
        event = task_event(task, utc_now(), type_=event_type, **extra)
        self._write([UpdateTask(task_id=task.task_id, changes=changes), event])
        return task

    def progress(
        self, name: str, rows_written: int, rows_total: int | None, *, interval_s: float
    ) -> None:
        """Emit `task.progress`, at most once per `interval_s` for each task."""
        now = utc_now()
        last = self._last_progress.get(name)
        if last is not None and now.timestamp() - last < interval_s:
            return
        self._last_progress[name] = now.timestamp()
        task = self.tasks[name]
        event = flow_event(
            "task.progress",
            task.run_id,
            now,
            task_id=task.task_id,
            model_name=name,
            phase="writing",
            rows_written=rows_written,
            rows_total=rows_total,
        )
        self._write([event])
