"""The run supervisor: one actor per run, owner of its task state machine.

Task actors and worker callbacks only ever *tell* the supervisor, and the
supervisor never waits on anything, so a run stays responsive to `Cancel`
however long its tasks take. Every status change becomes one state write and
one event, queued together for the state writer.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
import pykka

from interlace.engine.changes import Decision, SkipReason, decide, target_exists
from interlace.engine.definition import Materialise
from interlace.runtime import messages as msg
from interlace.runtime.execution import TaskJob
from interlace.runtime.model_outcomes import cursor_bounds, record_success
from interlace.runtime.run_closing import (
    abandoned_changes,
    final_status,
    run_end_writes,
)
from interlace.runtime.run_ledger import RunLedger
from interlace.runtime.run_plan import RunPlan, effective_retry
from interlace.runtime.services import RunServices
from interlace.runtime.status import TASK_TERMINAL, RunStatus, TaskStatus
from interlace.runtime.task_actor import TaskActor
from interlace.runtime.upstreams import catalog_snapshot, upstream_refs
from interlace.state.event_payloads import flow_event
from interlace.state.ids import utc_now
from interlace.state.writes import (
    UpdateRun,
)
from interlace.warehouse.materialise import WriteResult
from interlace.warehouse.scratch import drop_run_scratch

__all__ = ["RunSupervisor"]

logger = logging.getLogger(__name__)

_IN_RUN_ONLY = {Materialise.EPHEMERAL, Materialise.NONE}
_BLOCKING_FAILURES = {TaskStatus.FAILED, TaskStatus.CANCELLED}
_BLOCKING_SKIPS = {SkipReason.UPSTREAM_FAILED, SkipReason.RUN_CANCELLED}


class RunSupervisor(pykka.ThreadingActor):
    """Drives one run from `running` to a terminal status."""

    def __init__(
        self, *, plan: RunPlan, services: RunServices, manager: pykka.ActorRef[Any]
    ) -> None:
        super().__init__()
        self._plan = plan
        self._services = services
        self._project = services.project
        self._manager = manager
        self._run_id = plan.run.run_id
        self._ledger = RunLedger(plan.tasks, plan.in_run_dependencies, services.write)
        self._actors: dict[str, pykka.ActorRef[Any]] = {}
        self._catalog: set[tuple[str, str, str]] = set()
        self._cancel: msg.Cancel | None = None
        self._started_at = utc_now()
        self._closing = False

    # --- lifecycle ----------------------------------------------------------------

    def on_start(self) -> None:
        now = self._started_at
        self._services.write(
            [
                UpdateRun(
                    run_id=self._run_id,
                    changes={"status": RunStatus.RUNNING, "started_at": now},
                ),
                flow_event(
                    "flow.started",
                    self._run_id,
                    now,
                    trigger_type=self._plan.run.trigger_type,
                    models=self._plan.models,
                ),
            ]
        )
        future = self._services.pool.submit(catalog_snapshot, self._services.warehouses)
        future.add_done_callback(
            lambda done: self.actor_ref.tell(
                msg.CatalogLoaded(relations=frozenset(done.result()))
            )
        )

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: Any,
    ) -> None:
        # A bug here must not leave the run open and its model locks held
        # forever: close it as failed and tell the manager, as `_close` would.
        logger.error("supervisor of %s failed: %r", self._run_id, exception_value)
        message = str(exception_value)
        for name, task in self._ledger.tasks.items():
            if task.task_id in self._actors:
                self._actors[task.task_id].tell(msg.Cancel(reason="supervisor failed"))
            self._release(name)
            changes = abandoned_changes(task, message)
            if changes is not None:
                status = changes.pop("status")
                self._set_status(name, status, completed_at=utc_now(), **changes)
        self._end(RunStatus.FAILED, {"code": "internal_error", "message": message})

    def on_receive(self, message: Any) -> Any:  # noqa: C901 - one case per message
        match message:
            case msg.CatalogLoaded(relations=relations):
                self._catalog = set(relations)
                self._begin()
            case msg.ModelGranted(task_id=task_id):
                self._granted(self._ledger.name_of(task_id))
            case msg.TaskStarted(task_id=task_id, attempt=attempt):
                self._started(self._ledger.name_of(task_id), attempt)
            case msg.TaskRetrying():
                self._retrying(message)
            case msg.TaskMaterialising(task_id=task_id, rows_ingested=rows):
                self._set_status(
                    self._ledger.name_of(task_id),
                    TaskStatus.MATERIALISING,
                    rows_ingested=rows,
                )
            case msg.TaskProgress():
                self._progress(message)
            case msg.TaskSucceeded(task_id=task_id, result=result, watermark=mark):
                self._succeeded(self._ledger.name_of(task_id), result, mark)
            case msg.TaskFailed():
                self._failed(message)
            case msg.TaskCancelled(task_id=task_id, started=started):
                self._task_cancelled(self._ledger.name_of(task_id), started=started)
            case msg.Cancel():
                self._cancel_run(message)
            case msg.ScratchDropped():
                self._close()
            case _:
                logger.warning("supervisor ignored unexpected message %r", message)
        return None

    # --- deciding -------------------------------------------------------------------

    def _begin(self) -> None:
        # Every dependant must be `waiting` before any root is evaluated: a root
        # that is skipped at once unblocks only dependants already waiting.
        roots = []
        for name in self._ledger.tasks:
            if self._plan.in_run_dependencies[name]:
                self._set_status(name, TaskStatus.WAITING)
            else:
                roots.append(name)
        for name in roots:
            self._evaluate(name)
        self._maybe_finish()

    def _evaluate(self, name: str) -> None:
        """Dependencies are terminal: skip, or make the task ready."""
        if self._cancel is not None:
            self._skip(name, SkipReason.RUN_CANCELLED)
            return
        failed = self._failed_dependency(name)
        if failed is not None:
            error = (
                self._ledger.tasks[failed].error_message
                or self._ledger.tasks[failed].status
            )
            self._skip(
                name,
                SkipReason.UPSTREAM_FAILED,
                error_message=f"Dependency '{failed}' failed: {error}",
            )
            return
        decision = self._decide(name)
        if not decision.run:
            self._skip(name, SkipReason.NO_CHANGES)
            return
        self._set_status(
            name, TaskStatus.READY, run_reason=decision.reason and decision.reason.value
        )
        task = self._ledger.tasks[name]
        self._manager.tell(
            msg.AcquireModel(run_id=self._run_id, task_id=task.task_id, model=name)
        )

    def _failed_dependency(self, name: str) -> str | None:
        for upstream in self._plan.in_run_dependencies[name]:
            task = self._ledger.tasks[upstream]
            if (
                task.status in _BLOCKING_FAILURES
                or task.skipped_reason in _BLOCKING_SKIPS
            ):
                return upstream
        return None

    def _decide(self, name: str) -> Decision:
        definition = self._project.models[name]
        states = self._services.model_states
        return decide(
            forced=name in self._plan.forced,
            hashes=self._project.hashes[name],
            state=states.get(name),
            target_exists=target_exists(
                definition, self._project.config.default_connection, self._catalog
            ),
            upstream_states=[
                (up, states.get(up)) for up in self._project.graph.upstream(name)
            ],
        )

    # --- executing ------------------------------------------------------------------

    def _granted(self, name: str) -> None:
        task = self._ledger.tasks[name]
        if task.status != TaskStatus.READY:
            # Skipped by a cancel while the lock request was in flight.
            self._release(name)
            return
        decision = self._decide(name)
        if not decision.run:
            self._release(name)
            self._skip(name, SkipReason.NO_CHANGES)
            return
        self._spawn(name)

    def _spawn(self, name: str) -> None:
        definition = self._project.models[name]
        task = self._ledger.tasks[name]
        metadata = self._plan.run.metadata
        bounds, track = cursor_bounds(definition, metadata, self._services.watermarks)
        job = TaskJob(
            definition=definition,
            run_id=self._run_id,
            task_id=task.task_id,
            trigger_type=self._plan.run.trigger_type,
            force=name in self._plan.forced,
            since=metadata.get("since"),
            until=metadata.get("until"),
            watermark=self._services.watermarks.get(name),
            upstreams=upstream_refs(self._project, definition, self._run_id),
            retry=effective_retry(self._project, definition),
            bounds=bounds,
            track_watermark=track,
        )
        config = self._project.config
        self._actors[task.task_id] = TaskActor.start(
            job=job,
            warehouse=self._services.warehouse_for(definition.connection),
            pool=self._services.pool,
            supervisor=self.actor_ref,
            timeout_s=config.executor.task_timeout_s,
            models_dir=config.models_dir,
            log_max_lines=config.executor.task_log_max_lines,
            write=self._services.write,
        )

    def _started(self, name: str, attempt: int) -> None:
        self._set_status(
            name, TaskStatus.RUNNING, attempt=attempt, started_at=utc_now()
        )

    def _retrying(self, message: msg.TaskRetrying) -> None:
        name = self._ledger.name_of(message.task_id)
        self._ledger.record(
            name,
            {"attempt": message.attempt + 1},
            event_type="task.retrying",
            max_attempts=self._ledger.tasks[name].max_attempts,
            delay_seconds=round(message.delay_seconds, 3),
        )

    def _progress(self, message: msg.TaskProgress) -> None:
        self._ledger.progress(
            self._ledger.name_of(message.task_id),
            message.rows_written,
            message.rows_total,
            interval_s=self._project.config.executor.progress_interval_s,
        )

    # --- task outcomes ------------------------------------------------------------

    def _succeeded(self, name: str, result: WriteResult, watermark: str | None) -> None:
        now = utc_now()
        record_success(
            self._services,
            run_id=self._run_id,
            name=name,
            result=result,
            watermark=watermark,
            now=now,
        )
        definition = self._project.models[name]
        if definition.materialise in {Materialise.TABLE, Materialise.VIEW}:
            connection = (
                definition.connection or self._project.config.default_connection
            )
            self._catalog.add((connection, definition.schema, name))
        self._finish_task(
            name,
            TaskStatus.COMPLETED,
            completed_at=now,
            rows_processed=result.rows_processed,
            rows_ingested=result.rows_ingested,
            rows_inserted=result.rows_inserted,
            rows_updated=result.rows_updated,
            rows_deleted=result.rows_deleted,
            schema_changes=result.schema_changes,
        )

    def _failed(self, message: msg.TaskFailed) -> None:
        name = self._ledger.name_of(message.task_id)
        self._finish_task(
            name,
            TaskStatus.FAILED,
            completed_at=utc_now(),
            error_type=message.error_type,
            error_message=message.error_message,
            error_stacktrace=message.error_stacktrace,
        )

    def _task_cancelled(self, name: str, *, started: bool) -> None:
        if started:
            self._finish_task(name, TaskStatus.CANCELLED, completed_at=utc_now())
        else:
            self._release(name)
            self._actors.pop(self._ledger.tasks[name].task_id, None)
            self._skip(name, SkipReason.RUN_CANCELLED)
            self._maybe_finish()

    def _finish_task(self, name: str, status: TaskStatus, **changes: Any) -> None:
        self._actors.pop(self._ledger.tasks[name].task_id, None)
        self._release(name)
        self._set_status(name, status, **changes)
        self._unblock_dependants(name)
        self._maybe_finish()

    def _unblock_dependants(self, name: str) -> None:
        for dependant in self._ledger.dependants[name]:
            if self._ledger.tasks[dependant].status != TaskStatus.WAITING:
                continue
            upstream = self._plan.in_run_dependencies[dependant]
            if all(self._ledger.tasks[up].status in TASK_TERMINAL for up in upstream):
                self._evaluate(dependant)

    def _skip(self, name: str, reason: SkipReason, **changes: Any) -> None:
        self._set_status(
            name,
            TaskStatus.SKIPPED,
            skipped_reason=reason.value,
            completed_at=utc_now(),
            **changes,
        )
        self._unblock_dependants(name)

    def _release(self, name: str) -> None:
        self._manager.tell(msg.ReleaseModel(run_id=self._run_id, model=name))

    # --- cancelling -----------------------------------------------------------------

    def _cancel_run(self, cancel: msg.Cancel) -> None:
        if self._cancel is not None or self._closing:
            return
        self._cancel = cancel
        now = utc_now()
        self._services.write(
            [
                UpdateRun(
                    run_id=self._run_id, changes={"status": RunStatus.CANCELLING}
                ),
                flow_event("flow.cancelling", self._run_id, now, reason=cancel.reason),
            ]
        )
        for name, task in self._ledger.tasks.items():
            if task.task_id in self._actors:
                self._actors[task.task_id].tell(cancel)
            elif task.status not in TASK_TERMINAL:
                if task.status == TaskStatus.READY:
                    self._release(name)
                self._skip(name, SkipReason.RUN_CANCELLED)
        self._maybe_finish()

    # --- finishing ------------------------------------------------------------------

    def _maybe_finish(self) -> None:
        if self._closing:
            return
        if any(
            task.status not in TASK_TERMINAL for task in self._ledger.tasks.values()
        ):
            return
        self._closing = True
        if not self._wrote_scratch():
            self._close()
            return
        future = self._services.pool.submit(self._drop_scratch)
        future.add_done_callback(lambda _: self.actor_ref.tell(msg.ScratchDropped()))

    def _wrote_scratch(self) -> bool:
        """Whether an ephemeral or `none` model of this run left run output."""
        return any(
            self._project.models[name].materialise in _IN_RUN_ONLY
            and task.started_at is not None
            for name, task in self._ledger.tasks.items()
        )

    def _drop_scratch(self) -> None:
        for warehouse in self._services.warehouses.values():
            cursor = warehouse.cursor()
            try:
                drop_run_scratch(cursor, self._run_id)
            except Exception:
                logger.exception("could not drop scratch tables of %s", self._run_id)
            finally:
                cursor.close()

    def _close(self) -> None:
        self._end(*final_status(self._ledger.tasks.values(), self._cancel))
        self.stop()

    def _end(self, status: RunStatus, error: dict[str, Any] | None) -> None:
        now = utc_now()
        run = msgspec.structs.replace(
            self._plan.run,
            status=status,
            started_at=self._started_at,
            completed_at=now,
            error=error,
        )
        tasks = list(self._ledger.tasks.values())
        self._services.write(
            run_end_writes(run, tasks, started_at=self._started_at, now=now)
        )
        self._manager.tell(msg.RunFinished(run=run, tasks=tasks))

    # --- recording ------------------------------------------------------------------

    def _set_status(self, name: str, status: TaskStatus, **changes: Any) -> None:
        self._ledger.set_status(name, status, **changes)
