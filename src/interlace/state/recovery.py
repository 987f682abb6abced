"""Close runs abandoned by a crashed process (SPEC §5.6).

A run is executed by exactly one process, its owner. When that process dies
(killed, power loss) the run stays `pending`, `running` or `cancelling` for
ever, and its models' locks would look taken. At start-up every process
closes such runs: the run and its running tasks fail with `process_crashed`,
its other open tasks are skipped as `run_cancelled`, and the same events a
live run would emit are appended, all in one transaction.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import msgspec

from interlace.state.event_payloads import flow_event, progress_counts, task_event
from interlace.state.ids import utc_now
from interlace.state.owner import current_owner, owner_alive
from interlace.state.records import RunRecord, TaskRecord
from interlace.state.store import StateStore
from interlace.state.writes import AppendEvent, UpdateRun, UpdateTask, Write

__all__ = ["recover_abandoned_runs"]

logger = logging.getLogger(__name__)

_CRASHED = "process_crashed"
_INTERRUPTED = frozenset({"running", "materialising"})
_NOT_STARTED = frozenset({"pending", "waiting", "ready"})


def recover_abandoned_runs(
    store: StateStore, *, now: dt.datetime | None = None
) -> list[str]:
    """Fail every open run whose owner process is gone; returns their ids."""
    moment = now or utc_now()
    writes: list[Write] = []
    recovered: list[str] = []
    for run in store.open_runs():
        if _owner_is_alive(run):
            continue
        writes.extend(_close_run(run, store.get_tasks(run.run_id), moment))
        recovered.append(run.run_id)
    if writes:
        store.apply(writes)
        logger.warning(
            "marked %d run(s) of crashed processes as failed: %s",
            len(recovered),
            ", ".join(recovered),
        )
    return recovered


def _owner_is_alive(run: RunRecord) -> bool:
    # A run without a readable owner can never be closed by its owner, so it
    # is treated as abandoned rather than left open for ever.
    if run.owner is None:
        return False
    try:
        return owner_alive(run.owner)
    except ValueError:
        logger.warning("run %s has an unreadable owner %r", run.run_id, run.owner)
        return False


def _close_run(
    run: RunRecord, tasks: list[TaskRecord], now: dt.datetime
) -> list[Write]:
    message = (
        f"the process `{run.owner}` executing this run is gone; the run was "
        f"closed at start-up by `{current_owner()}`"
    )
    writes: list[Write] = []
    final_tasks: list[TaskRecord] = []
    for task in tasks:
        changes = _closing_changes(task, now, message)
        if changes is None:
            final_tasks.append(task)
            continue
        closed = msgspec.structs.replace(task, **changes)
        writes.append(UpdateTask(task_id=task.task_id, changes=changes))
        writes.append(task_event(closed, now))
        final_tasks.append(closed)
    error = {"code": _CRASHED, "message": message}
    writes.append(
        UpdateRun(
            run_id=run.run_id,
            changes={"status": "failed", "error": error, "completed_at": now},
        )
    )
    writes.append(_flow_failed(run, final_tasks, now, error))
    return writes


def _closing_changes(
    task: TaskRecord, now: dt.datetime, message: str
) -> dict[str, Any] | None:
    """The fields that close an open task; None for a terminal task."""
    if task.status in _INTERRUPTED:
        return {
            "status": "failed",
            "completed_at": now,
            "error_type": _CRASHED,
            "error_message": message,
        }
    if task.status in _NOT_STARTED:
        return {
            "status": "skipped",
            "completed_at": now,
            "skipped_reason": "run_cancelled",
        }
    return None


def _flow_failed(
    run: RunRecord,
    tasks: list[TaskRecord],
    now: dt.datetime,
    error: dict[str, Any],
) -> AppendEvent:
    counts = progress_counts(tasks)
    del counts["cancelled"]
    duration = None
    if run.started_at is not None:
        duration = round((now - run.started_at).total_seconds(), 6)
    return flow_event(
        "flow.failed",
        run.run_id,
        now,
        status="failed",
        trigger_type=run.trigger_type,
        duration=duration,
        error=error,
        **counts,
    )
