"""Flows, their tasks and task logs (SPEC §10.8, §10.9)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, QueryParameter

from interlace.runtime.status import TASK_TERMINAL
from interlace.service.controllers.runs import provide_run_service
from interlace.service.dto.flows import (
    FlowDetail,
    FlowList,
    TaskList,
    TaskLogs,
    flow_body,
    flow_detail,
    flow_filter,
    log_line,
    task_body,
)
from interlace.service.pagination import PageRequest, SortKey, paginate
from interlace.service.problems import not_found, validation_error
from interlace.service.runs import RunService, RunView
from interlace.state.records import TaskLogRecord, TaskRecord

__all__ = ["FlowsController"]

MAX_LOG_LINES = 10_000


class FlowsController(Controller):
    path = "/api/v1/flows"
    tags = ["flows"]
    dependencies = {"runs": Provide(provide_run_service, sync_to_thread=False)}

    @get("/", summary="Flows (runs), newest first")
    async def list_flows(
        self,
        runs: NamedDependency[RunService],
        page: NamedDependency[PageRequest],
        status: FromQuery[str | None] = None,
        trigger_type: FromQuery[str | None] = None,
        since: Annotated[
            str | None,
            QueryParameter(description="Started at or after (ISO date or datetime)"),
        ] = None,
        until: Annotated[
            str | None,
            QueryParameter(description="Started at or before (ISO date or datetime)"),
        ] = None,
        model: Annotated[
            str | None, QueryParameter(description="Has a task for")
        ] = None,
    ) -> FlowList:
        filters = flow_filter(status, trigger_type, since, until, model)

        async def fetch(limit: int, offset: int) -> tuple[list[RunView], int]:
            return await runs.list_runs(filters, limit, offset)

        result = await paginate(
            page,
            fetch=fetch,
            key=_flow_key,
            filters={
                "status": status,
                "trigger_type": trigger_type,
                "since": since,
                "until": until,
                "model": model,
            },
            descending=True,
        )
        return FlowList(
            flows=[flow_body(view.run, view.tasks) for view in result.items],
            total=result.total,
            has_more=result.has_more,
            next_cursor=result.next_cursor,
        )

    @get("/{flow_id:str}", summary="One flow with its tasks")
    async def flow(
        self, flow_id: FromPath[str], runs: NamedDependency[RunService]
    ) -> FlowDetail:
        view = await _flow(runs, flow_id)
        return flow_detail(view.run, view.tasks)

    @get("/{flow_id:str}/tasks", summary="Tasks of a flow in topological order")
    async def tasks(
        self,
        flow_id: FromPath[str],
        runs: NamedDependency[RunService],
        page: NamedDependency[PageRequest],
    ) -> TaskList:
        tasks = (await _flow(runs, flow_id)).tasks

        async def fetch(limit: int, offset: int) -> tuple[list[TaskRecord], int]:
            return tasks[offset : offset + limit], len(tasks)

        result = await paginate(
            page,
            fetch=fetch,
            key=lambda task: (task.position,),
            filters={"flow_id": flow_id},
        )
        return TaskList(
            tasks=[task_body(task) for task in result.items],
            total=result.total,
            has_more=result.has_more,
            next_cursor=result.next_cursor,
        )

    @get(
        "/{flow_id:str}/tasks/{task_id:str}/logs",
        summary="Captured log lines of a task; tail with `after=next_after`",
    )
    async def logs(
        self,
        flow_id: FromPath[str],
        task_id: FromPath[str],
        runs: NamedDependency[RunService],
        after: Annotated[
            int, QueryParameter(description="Lines after this number")
        ] = 0,
        limit: Annotated[int, QueryParameter(description=f"1-{MAX_LOG_LINES}")] = 1000,
    ) -> TaskLogs:
        _check_log_window(after, limit)
        found = await runs.task_logs(task_id, after, limit)
        if found.task is None or found.task.run_id != flow_id:
            raise not_found("task", task_id)
        return _task_logs(found.task, found.lines, after, limit)


async def _flow(runs: RunService, flow_id: str) -> RunView:
    view = await runs.read(flow_id)
    if view is None:
        raise not_found("flow", flow_id)
    return view


def _flow_key(view: RunView) -> SortKey:
    """The store's order of runs: `created_at`, then id (both descending)."""
    return (view.run.created_at.isoformat(timespec="microseconds"), view.run.run_id)


def _check_log_window(after: int, limit: int) -> None:
    if after < 0:
        message = "'after' must be an integer >= 0"
        raise validation_error(message, [{"path": "query.after", "message": message}])
    if not 1 <= limit <= MAX_LOG_LINES:
        message = f"'limit' must be an integer between 1 and {MAX_LOG_LINES}"
        raise validation_error(message, [{"path": "query.limit", "message": message}])


def _task_logs(
    task: TaskRecord, lines: list[TaskLogRecord], after: int, limit: int
) -> TaskLogs:
    # The task was read before its lines, and a task writes its lines
    # before it turns terminal: a terminal task's log is all stored, so a
    # page shorter than `limit` is its end.
    complete = task.status in TASK_TERMINAL and len(lines) < limit
    return TaskLogs(
        flow_id=task.run_id,
        task_id=task.task_id,
        complete=complete,
        truncated=bool(task.metadata.get("logs_truncated", False)),
        next_after=lines[-1].line if lines else after,
        lines=[log_line(record) for record in lines],
    )
