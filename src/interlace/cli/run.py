"""`interlace run`: execute models and show their progress.

When a service is running for the project, the run is submitted to it
(`interlace.cli.remote_run`), because the service owns the warehouse;
otherwise it executes in this process.

Order matters for completeness: the event feed subscribes before the run is
submitted, so the run's first events (`task.enqueued`) are already queued
when the run id comes back; the feed then hands out only that run's events.
"""

from __future__ import annotations

import getpass
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from interlace.cli.console import console
from interlace.cli.interrupts import InterruptGuard
from interlace.cli.options import (
    EnvOption,
    ForceOption,
    NoUpstreamOption,
    ProjectDirOption,
    SelectorsArgument,
    SinceOption,
    UntilOption,
    VerboseOption,
)
from interlace.cli.run_feed import RunEventFeed
from interlace.cli.run_render import (
    FinishedRun,
    RunRenderer,
    render_events,
    renderer_for,
)
from interlace.cli.service_discovery import LiveService, find_service
from interlace.cli.session import EXIT_FAILURE, command_session

if TYPE_CHECKING:
    from interlace.engine.project import Project
    from interlace.runtime.messages import RunRequest
    from interlace.runtime.run_manager import RunOutcome, Submitted
    from interlace.runtime.runtime import Runtime

__all__ = ["run"]

logger = logging.getLogger(__name__)

POLL_S = 0.1
# After the outcome is known, how long the trailing events may take to
# arrive before the summary is printed from the outcome alone.
EVENT_GRACE_S = 2.0
OUTCOME_TIMEOUT_S = 30.0


def run(
    selectors: SelectorsArgument = None,
    force: ForceOption = False,
    since: SinceOption = None,
    until: UntilOption = None,
    no_upstream: NoUpstreamOption = False,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Run models (all when no selector is given) and wait for the run to end.

    Submitted to the project's running service, if there is one.
    """
    with command_session(verbose):
        service = find_service(project_dir, env)
        outcome: FinishedRun
        if service is not None:
            outcome = _submit_to_service(
                service, selectors, force, since, until, no_upstream
            )
        else:
            outcome = _run_here(
                project_dir, env, selectors, force, since, until, no_upstream
            )
    if _failed(outcome):
        raise typer.Exit(EXIT_FAILURE)


def _submit_to_service(
    service: LiveService,
    selectors: list[str] | None,
    force: bool,
    since: str | None,
    until: str | None,
    no_upstream: bool,
) -> FinishedRun:
    from interlace.cli.remote_run import RunBody, run_remote

    body = RunBody(
        models=list(selectors) if selectors else None,
        force=force,
        since=since,
        until=until,
        no_upstream=no_upstream,
    )
    return run_remote(service, body, _os_user())


def _run_here(
    project_dir: Path,
    env: str | None,
    selectors: list[str] | None,
    force: bool,
    since: str | None,
    until: str | None,
    no_upstream: bool,
) -> FinishedRun:
    from interlace.engine.project import Project
    from interlace.runtime.messages import RunRequest

    project = Project.load(project_dir, env)
    request = RunRequest(
        selectors=tuple(selectors) if selectors else None,
        force=force,
        since=since,
        until=until,
        no_upstream=no_upstream,
        trigger_type="cli",
        created_by=_os_user(),
    )
    return _execute(project, request)


def _execute(project: Project, request: RunRequest) -> RunOutcome:
    from interlace.runtime.runtime import Runtime

    feed = RunEventFeed()
    renderer = renderer_for(console)
    with InterruptGuard() as guard, Runtime(project) as runtime:
        runtime.subscribe(feed)
        started = time.monotonic()
        submitted = runtime.submit(request)
        feed.follow(submitted.run_id)
        renderer.start(submitted.run_id, submitted.models)
        outcome = _follow(runtime, submitted, feed, renderer, guard)
        elapsed = time.monotonic() - started
        runtime.unsubscribe(feed)
        runtime.flush()
    renderer.finish(outcome, elapsed)
    return outcome


def _follow(
    runtime: Runtime,
    submitted: Submitted,
    feed: RunEventFeed,
    renderer: RunRenderer,
    guard: InterruptGuard,
) -> RunOutcome:
    """Render events until the run's end event (or its outcome) arrives."""
    cancel_sent = False
    grace_until: float | None = None
    while True:
        if guard.interrupted and not cancel_sent:
            cancel_sent = True
            renderer.note("Cancelling the run (press Ctrl-C again to exit now)...")
            runtime.cancel(submitted.run_id, "cancelled by user (Ctrl-C)")
        if render_events(feed.take(POLL_S), renderer):
            break
        if submitted.outcome.done():
            grace_until = grace_until or time.monotonic() + EVENT_GRACE_S
            if time.monotonic() >= grace_until:
                logger.debug("run ended before its end event was delivered")
                break
    outcome: RunOutcome = submitted.outcome.result(timeout=OUTCOME_TIMEOUT_S)
    return outcome


def _failed(outcome: FinishedRun) -> bool:
    if outcome.run.status in {"failed", "cancelled"}:
        return True
    return any(task.status == "failed" for task in outcome.tasks)


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
