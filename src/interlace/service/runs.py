"""The run service: how the HTTP layer creates, cancels, retries and reads runs.

Reads go to the state store, which holds every run of every process and
survives restarts. The runtime writes state through a batching writer, so
a run's newest changes may still be queued when a request arrives; each
read therefore first waits for the writer to flush and then reads, all in
one worker-thread call (`bridge.call`) so that a status costs one thread
hop. Measured on a 2-core machine: a flush costs ~2 us when the writer is
idle and one SQLite commit (~6 ms) while a run keeps it busy, against ~0.1
ms for the reads themselves. That is cheaper and far simpler than keeping a
live copy of every run's tasks in the service, which would have to mirror
every status change the supervisor makes.

Waiting for a run to end (`?wait=`) does not use a worker thread: the
run's outcome is a `concurrent.futures.Future`, which asyncio can await
without blocking the loop through `asyncio.wrap_future`. A worker thread
parked for up to 300 s per waiting request would exhaust the pool that
every other request's store reads need.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import msgspec

from interlace.runtime.messages import RunRequest
from interlace.runtime.plan import build_plan, read_live_columns
from interlace.runtime.run_manager import RunOutcome, Submitted
from interlace.runtime.runtime import Runtime
from interlace.runtime.status import RUN_TERMINAL, RunStatus
from interlace.runtime.upstreams import catalog_snapshot
from interlace.service import bridge
from interlace.service.dto.runs import CancelAnswer, RetryMode
from interlace.service.gateway import RuntimeGateway
from interlace.service.problems import (
    ApiError,
    Problem,
    not_found,
    service_unavailable,
)
from interlace.state.records import RunRecord, TaskLogRecord, TaskRecord
from interlace.state.store import RunFilter

__all__ = ["Caller", "LogPage", "RunService", "RunView", "retry_request"]

logger = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 5.0
CANCEL_WAIT_S = 5.0
PLAN_TIMEOUT_S = 30.0
_CANCEL_POLL_S = 0.05

_RETRY_STATUSES = {"failed", "cancelled"}
_RETRY_SKIPS = {"upstream_failed", "run_cancelled"}


class RunView(msgspec.Struct, frozen=True, kw_only=True):
    """A run and its tasks (in topological order) as stored."""

    run: RunRecord
    tasks: list[TaskRecord]


class LogPage(msgspec.Struct, frozen=True, kw_only=True):
    """A task (None when unknown) and its log lines after a line number."""

    task: TaskRecord | None
    lines: list[TaskLogRecord]


class Caller(msgspec.Struct, frozen=True, kw_only=True):
    """Who asks for a run: `trigger_type` and the `trigger_id`/`created_by`."""

    trigger_type: str = "api"
    name: str | None = None
    """The API key name (auth on), or the OS user of a `cli` submission."""


class RunService:
    """Runs for the controllers; one per service process.

    Single runtime calls (submit, cancel) go through the `RuntimeGateway`;
    reads that combine a flush with several store reads run here as one
    worker call, under the same bridge rules the gateway follows.
    """

    def __init__(self, runtime: Runtime, gateway: RuntimeGateway) -> None:
        self._runtime = runtime
        self._gateway = gateway

    # --- creating ----------------------------------------------------------

    async def submit(self, request: RunRequest) -> Submitted:
        """Create a run; raises `SelectionError` for unknown models."""
        return await self._gateway.submit(request)

    async def wait(self, submitted: Submitted, timeout: float) -> RunOutcome | None:
        """The run's outcome if it ends within `timeout` seconds, else None.

        The outcome future is never cancelled (the run manager resolves it
        later); `asyncio.wait` leaves it alone when the time is up or when
        the request itself is cancelled.
        """
        future = submitted.outcome
        if future.done():
            return _outcome_of(future.result())
        waiter = asyncio.wrap_future(future)
        done, _ = await asyncio.wait({waiter}, timeout=timeout)
        return _outcome_of(waiter.result()) if done else None

    async def retry(self, run_id: str, mode: RetryMode, caller: Caller) -> Submitted:
        """Start a run forcing the models `mode` picks from a finished run."""
        view = await self.read(run_id)
        if view is None:
            raise not_found("run", run_id)
        if view.run.status not in RUN_TERMINAL:
            raise ApiError(
                Problem(
                    status=409,
                    code="RUN_NOT_FINISHED",
                    detail=(
                        f"Run '{run_id}' is still {view.run.status}; only a "
                        "completed, failed or cancelled run can be retried"
                    ),
                    extensions={"run_id": run_id},
                )
            )
        return await self.submit(retry_request(view, mode, caller))

    # --- cancelling --------------------------------------------------------

    async def cancel(self, run_id: str) -> CancelAnswer:
        """Cancel a run and wait up to `CANCEL_WAIT_S` for it to end."""
        run = await self._read_run(run_id)
        if run is None:
            raise not_found("run", run_id)
        if run.status in RUN_TERMINAL:
            return _already(run)
        if not await self._gateway.cancel(run_id, "cancelled through the API"):
            run = await self._read_run(run_id)
            if run is not None and run.status in RUN_TERMINAL:
                return _already(run)
            raise service_unavailable(
                f"Run '{run_id}' is not executed by this service process "
                f"(owner {run.owner if run else None!r}); it cannot be cancelled here"
            )
        return await self._await_cancelled(run_id)

    async def _await_cancelled(self, run_id: str) -> CancelAnswer:
        deadline = time.monotonic() + CANCEL_WAIT_S
        while True:
            run = await self._read_run(run_id)
            if run is not None and run.status in RUN_TERMINAL:
                if run.status == RunStatus.CANCELLED:
                    return CancelAnswer(status="cancelled", run_id=run_id)
                # It ended by itself before the cancel took effect.
                return _already(run)
            if time.monotonic() >= deadline:
                return CancelAnswer(status="cancelling", run_id=run_id)
            await asyncio.sleep(_CANCEL_POLL_S)

    # --- reading -----------------------------------------------------------

    async def read(self, run_id: str) -> RunView | None:
        """A run with its tasks, including writes not yet flushed."""
        return await bridge.call(self._read_view, run_id)

    async def list_runs(
        self, filters: RunFilter, limit: int, offset: int
    ) -> tuple[list[RunView], int]:
        """A page of runs, newest first, with their tasks; and the total."""
        return await bridge.call(self._list_views, filters, limit, offset)

    async def task_logs(self, task_id: str, after: int, limit: int) -> LogPage:
        """The task (read first, so a terminal status implies complete lines)
        and up to `limit` of its lines after line `after`."""
        return await bridge.call(self._read_logs, task_id, after, limit)

    async def plan(self, **request: Any) -> dict[str, Any]:
        """The §10.6 plan for `build_plan` keyword arguments (selectors, ...).

        Raises `SelectionError` for unknown models."""
        return await bridge.call(self._plan, request, timeout=PLAN_TIMEOUT_S)

    async def _read_run(self, run_id: str) -> RunRecord | None:
        return await bridge.call(self._read_record, run_id)

    # --- blocking helpers (run on worker threads) --------------------------

    def _flush(self) -> None:
        try:
            self._runtime.flush(FLUSH_TIMEOUT_S)
        except TimeoutError:
            # Answering from slightly older state beats failing the read.
            logger.warning("state writes are slow; reading without the newest")

    def _read_record(self, run_id: str) -> RunRecord | None:
        self._flush()
        return self._runtime.store.get_run(run_id)

    def _read_view(self, run_id: str) -> RunView | None:
        self._flush()
        store = self._runtime.store
        run = store.get_run(run_id)
        if run is None:
            return None
        return RunView(run=run, tasks=store.get_tasks(run_id))

    def _list_views(
        self, filters: RunFilter, limit: int, offset: int
    ) -> tuple[list[RunView], int]:
        self._flush()
        store = self._runtime.store
        runs, total = store.list_runs(filters, limit=limit, offset=offset)
        views = [RunView(run=run, tasks=store.get_tasks(run.run_id)) for run in runs]
        return views, total

    def _read_logs(self, task_id: str, after: int, limit: int) -> LogPage:
        self._flush()
        store = self._runtime.store
        task = store.get_task(task_id)
        if task is None:
            return LogPage(task=None, lines=[])
        lines = store.task_logs(task_id, after=after, limit=limit)
        return LogPage(task=task, lines=lines)

    def _plan(self, request: dict[str, Any]) -> dict[str, Any]:
        self._flush()
        runtime = self._runtime
        catalog = catalog_snapshot(runtime.warehouses)
        return build_plan(
            runtime.project,
            model_states=runtime.store.model_states(),
            catalog=catalog,
            columns=read_live_columns(
                runtime.project, runtime.warehouses, catalog, store=runtime.store
            ),
            store=runtime.store,
            **request,
        )


def retry_request(view: RunView, mode: RetryMode, caller: Caller) -> RunRequest:
    """The request retrying `view`: its failed part, or all of it, forced.

    Raises 400 when `mode` finds nothing to retry.
    """
    forced = _retry_models(view.tasks, mode)
    if not forced:
        message = (
            f"Run '{view.run.run_id}' has no tasks to retry with mode '{mode}': "
            "none failed, was cancelled or was skipped because of a failure"
        )
        raise ApiError(Problem(status=400, code="VALIDATION_ERROR", detail=message))
    metadata = view.run.metadata
    return RunRequest(
        selectors=tuple(forced),
        force_models=frozenset(forced),
        since=metadata.get("since"),
        until=metadata.get("until"),
        no_upstream=bool(metadata.get("no_upstream", False)),
        trigger_type=caller.trigger_type,
        trigger_id=caller.name,
        created_by=caller.name,
        trigger_metadata=metadata.get("trigger_metadata"),
        retry_of=view.run.run_id,
    )


def _retry_models(tasks: Sequence[TaskRecord], mode: RetryMode) -> list[str]:
    if mode == "all":
        return [task.model_name for task in tasks]
    chosen = [task.model_name for task in tasks if task.status in _RETRY_STATUSES]
    if mode == "failed_and_downstream":
        chosen += [
            task.model_name
            for task in tasks
            if task.status == "skipped" and task.skipped_reason in _RETRY_SKIPS
        ]
    return chosen


def _outcome_of(value: object) -> RunOutcome:
    if not isinstance(value, RunOutcome):
        raise TypeError(f"expected a `RunOutcome`, got `{type(value).__name__}`")
    return value


def _already(run: RunRecord) -> CancelAnswer:
    return CancelAnswer(
        status="already_completed", run_id=run.run_id, final_status=run.status
    )
