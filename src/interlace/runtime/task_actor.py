"""The task actor: executes one model and reports to its run supervisor.

The model's code and DuckDB work run on a worker from the shared pool so that
this actor's own thread stays free to receive `Cancel` and the timeout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import pykka

from interlace.errors import TaskCancelled as TaskCancelledError
from interlace.errors import TaskTimeout
from interlace.runtime import messages as msg
from interlace.runtime.execution import (
    TaskHooks,
    TaskJob,
    TaskOutput,
    execute_task,
    user_stacktrace,
)
from interlace.runtime.task_control import TaskControl
from interlace.runtime.task_logs import TaskLogCapture, capturing
from interlace.state.writes import Write
from interlace.warehouse.database import DuckDBWarehouse

__all__ = ["TaskActor"]

logger = logging.getLogger(__name__)


class _WorkDone(msgspec.Struct, frozen=True, kw_only=True):
    future: Any


class _NotStarted(Exception):
    """The run was cancelled while the task waited for a worker."""


class TaskActor(pykka.ThreadingActor):
    """Runs one task: one per running task, stopped when the task ends."""

    def __init__(
        self,
        *,
        job: TaskJob,
        warehouse: DuckDBWarehouse,
        pool: ThreadPoolExecutor,
        supervisor: pykka.ActorRef[Any],
        timeout_s: float | None,
        models_dir: Path,
        log_max_lines: int,
        write: Callable[[list[Write]], None],
    ) -> None:
        super().__init__()
        self._job = job
        self._warehouse = warehouse
        self._pool = pool
        self._supervisor = supervisor
        self._timeout_s = timeout_s
        self._models_dir = models_dir
        self._log_max_lines = log_max_lines
        self._write = write
        self._control = TaskControl()
        self._timer: threading.Timer | None = None

    def on_start(self) -> None:
        future = self._pool.submit(self._work)
        future.add_done_callback(self._tell_done)

    def on_receive(self, message: Any) -> Any:
        match message:
            case msg.Cancel():
                self._control.cancel()
            case msg.TaskTimedOut():
                self._control.cancel(timed_out=True)
            case _WorkDone(future=future):
                self._report(future)
                self.stop()
            case _:
                logger.warning("task actor ignored unexpected message %r", message)
        return None

    def on_stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()

    def on_failure(
        self,
        exception_type: type[BaseException] | None,
        exception_value: BaseException | None,
        traceback: Any,
    ) -> None:
        # A bug in this actor must still end the task, or the run would wait
        # for it forever.
        logger.error("task actor for %s failed", self._job.task_id)
        self._control.cancel()
        error = exception_value or RuntimeError("task actor failed")
        self._supervisor.tell(self._failure(error))

    # --- worker thread --------------------------------------------------------

    def _work(self) -> TaskOutput:
        if self._control.cancelled():
            raise _NotStarted
        task_id = self._job.task_id
        self._supervisor.tell(msg.TaskStarted(task_id=task_id, attempt=1))
        self._start_timer()
        capture = TaskLogCapture(task_id, self._log_max_lines, self._write)
        try:
            with capturing(capture):
                return execute_task(
                    self._job, self._warehouse, self._control, self._hooks()
                )
        finally:
            self._control.finish()

    def _start_timer(self) -> None:
        if self._timeout_s is None:
            return
        self._timer = threading.Timer(self._timeout_s, self._tell_timeout)
        self._timer.daemon = True
        self._timer.start()

    def _hooks(self) -> TaskHooks:
        task_id = self._job.task_id
        tell = self._supervisor.tell

        def retrying(attempt: int, delay: float, exc: BaseException) -> None:
            tell(
                msg.TaskRetrying(
                    task_id=task_id,
                    attempt=attempt,
                    delay_seconds=delay,
                    error=str(exc),
                )
            )

        return TaskHooks(
            retrying=retrying,
            materialising=lambda rows: tell(
                msg.TaskMaterialising(task_id=task_id, rows_ingested=rows)
            ),
            progress=lambda rows, total: tell(
                msg.TaskProgress(task_id=task_id, rows_written=rows, rows_total=total)
            ),
        )

    # --- callbacks from other threads ---------------------------------------

    def _tell_done(self, future: Future[TaskOutput]) -> None:
        self._tell_self(_WorkDone(future=future))

    def _tell_timeout(self) -> None:
        self._tell_self(msg.TaskTimedOut())

    def _tell_self(self, message: Any) -> None:
        try:
            self.actor_ref.tell(message)
        except pykka.ActorDeadError:
            logger.debug("task %s already stopped", self._job.task_id)

    # --- reporting ---------------------------------------------------------------

    def _report(self, future: Future[TaskOutput]) -> None:
        task_id = self._job.task_id
        exc = future.exception()
        if exc is None:
            output = future.result()
            report: Any = msg.TaskSucceeded(
                task_id=task_id, result=output.result, watermark=output.watermark
            )
        elif isinstance(exc, _NotStarted):
            report = msg.TaskCancelled(task_id=task_id, started=False)
        elif isinstance(exc, TaskCancelledError) and self._control.timed_out:
            report = self._failure(
                TaskTimeout(
                    f"Model '{self._job.definition.name}' exceeded the task "
                    f"timeout of {self._timeout_s}s",
                    model=self._job.definition.name,
                )
            )
        elif isinstance(exc, TaskCancelledError) or self._control.cancelled():
            report = msg.TaskCancelled(task_id=task_id, started=True)
        else:
            report = self._failure(exc)
        self._supervisor.tell(report)

    def _failure(self, exc: BaseException) -> msg.TaskFailed:
        return msg.TaskFailed(
            task_id=self._job.task_id,
            error_type=type(exc).__name__,
            error_message=str(exc),
            error_stacktrace=user_stacktrace(exc, self._models_dir),
        )
