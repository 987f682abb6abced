"""Turn a run request into the run and task records to create."""

from __future__ import annotations

import datetime as dt

import msgspec

from interlace.engine.definition import Materialise, ModelDefinition
from interlace.engine.project import Project
from interlace.retry import RetryPolicy
from interlace.runtime.messages import RunRequest
from interlace.runtime.status import RunStatus, TaskStatus
from interlace.state.ids import new_run_id, new_task_id, utc_now
from interlace.state.records import RunRecord, TaskRecord

__all__ = ["RunPlan", "effective_retry", "plan_run"]


class RunPlan(msgspec.Struct, frozen=True, kw_only=True):
    """A run about to be created: its record, its tasks and who is forced."""

    run: RunRecord
    tasks: tuple[TaskRecord, ...]
    """In topological order."""
    forced: frozenset[str]
    """Models that run regardless of change detection."""
    in_run_dependencies: dict[str, tuple[str, ...]]
    """Per model, its upstream models that are part of this run."""

    @property
    def models(self) -> list[str]:
        return [task.model_name for task in self.tasks]


def plan_run(project: Project, request: RunRequest, *, owner: str) -> RunPlan:
    """Resolve the selection (raising `SelectionError`) and build the records."""
    selected = project.graph.select(
        list(request.selectors) if request.selectors is not None else None,
        no_upstream=request.no_upstream,
    )
    run_id = new_run_id()
    now = utc_now()
    in_run = set(selected)
    dependencies = {
        name: tuple(up for up in project.graph.upstream(name) if up in in_run)
        for name in selected
    }
    task_ids = {name: new_task_id() for name in selected}
    tasks = tuple(
        _task_record(project, name, run_id, position, now, task_ids, dependencies)
        for position, name in enumerate(selected)
    )
    run = RunRecord(
        run_id=run_id,
        status=RunStatus.PENDING,
        trigger_type=request.trigger_type,
        trigger_id=request.trigger_id,
        created_by=request.created_by,
        created_at=now,
        metadata={
            "models": selected,
            "trigger_metadata": request.trigger_metadata,
            "since": request.since,
            "until": request.until,
            "force": request.force,
            "no_upstream": request.no_upstream,
        },
        model_selection=(
            ",".join(request.selectors) if request.selectors is not None else None
        ),
        retry_of=request.retry_of,
        owner=owner,
    )
    return RunPlan(
        run=run,
        tasks=tasks,
        forced=_forced(project, request, selected),
        in_run_dependencies=dependencies,
    )


def _forced(
    project: Project, request: RunRequest, selected: list[str]
) -> frozenset[str]:
    if request.force:
        return frozenset(selected)
    forced = set(request.force_models) & set(selected)
    if request.since is not None:
        # A backfill forces only cursor models; append sources keep normal
        # change detection so they are never re-run or duplicated.
        forced |= {name for name in selected if project.models[name].cursor}
    return frozenset(forced)


def _task_record(
    project: Project,
    name: str,
    run_id: str,
    position: int,
    now: dt.datetime,
    task_ids: dict[str, str],
    dependencies: dict[str, tuple[str, ...]],
) -> TaskRecord:
    definition = project.models[name]
    retry = effective_retry(project, definition)
    strategy = definition.strategy
    return TaskRecord(
        task_id=task_ids[definition.name],
        run_id=run_id,
        model_name=definition.name,
        schema_name=definition.schema,
        position=position,
        status=TaskStatus.PENDING,
        attempt=0,
        max_attempts=retry.max_attempts + 1,
        enqueued_at=now,
        materialise=definition.materialise.value,
        strategy=(
            strategy.value
            if strategy and definition.materialise is Materialise.TABLE
            else None
        ),
        dependencies=list(definition.dependencies),
        parent_task_ids=[task_ids[up] for up in dependencies[definition.name]],
    )


def effective_retry(project: Project, definition: ModelDefinition) -> RetryPolicy:
    """The model's own retry policy, else the project's default."""
    return definition.retry or project.config.retry
