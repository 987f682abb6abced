"""The programmatic API: run a project's models from Python (SPEC §5.7)."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

from interlace.engine.project import Project
from interlace.runtime.messages import RunRequest
from interlace.runtime.run_manager import RunOutcome
from interlace.runtime.runtime import Runtime
from interlace.runtime.status import TaskStatus

__all__ = ["run", "run_sync"]

RunResults = dict[str, dict[str, Any]]

_RESULT_STATUS = {
    TaskStatus.COMPLETED: "success",
    TaskStatus.SKIPPED: "skipped",
}


def run(
    models: Sequence[str] | None = None,
    project_dir: str | Path | None = None,
    env: str | None = None,
    since: str | None = None,
    until: str | None = None,
    force: bool = False,
    no_upstream: bool = False,
) -> Any:
    """Run models and return `{model: result}`.

    Called from synchronous code it blocks and returns the results; called
    while an event loop is running it returns an awaitable, so `await
    interlace.run(...)` works without blocking the loop.
    """
    arguments = (models, project_dir, env, since, until, force, no_upstream)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_sync(*arguments)
    return _run_async(*arguments)


def _run_async(*arguments: Any) -> Coroutine[Any, Any, RunResults]:
    async def runner() -> RunResults:
        return await asyncio.to_thread(run_sync, *arguments)

    return runner()


def run_sync(
    models: Sequence[str] | None = None,
    project_dir: str | Path | None = None,
    env: str | None = None,
    since: str | None = None,
    until: str | None = None,
    force: bool = False,
    no_upstream: bool = False,
) -> RunResults:
    """Run models in this process and wait for the run to end."""
    project = Project.load(Path(project_dir or "."), env)
    request = RunRequest(
        selectors=tuple(models) if models is not None else None,
        force=force,
        since=since,
        until=until,
        no_upstream=no_upstream,
        trigger_type="cli",
        created_by=_os_user(),
    )
    with Runtime(project) as runtime:
        submitted = runtime.submit(request)
        outcome: RunOutcome = submitted.outcome.result()
        runtime.flush()
    return results_by_model(outcome)


def results_by_model(outcome: RunOutcome) -> RunResults:
    """The `{model: {...}}` summary of a finished run."""
    results: RunResults = {}
    for task in outcome.tasks:
        elapsed = None
        if task.started_at and task.completed_at:
            elapsed = (task.completed_at - task.started_at).total_seconds()
        results[task.model_name] = {
            "status": _RESULT_STATUS.get(TaskStatus(task.status), "error"),
            "model": task.model_name,
            "rows": task.rows_processed,
            "elapsed": elapsed,
            "reason": task.run_reason or task.skipped_reason,
            "error": task.error_message,
        }
    return results


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
