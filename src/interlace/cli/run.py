"""`interlace run`: execute models in this process and show their progress.

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
from interlace.cli.run_feed import FLOW_END_EVENTS, RunEventFeed
from interlace.cli.run_render import RunRenderer, renderer_for
from interlace.cli.session import EXIT_FAILURE, command_session

if TYPE_CHECKING:
    from interlace.engine.project import Project
    from interlace.runtime.messages import RunRequest
    from interlace.runtime.run_manager import RunOutcome, Submitted
    from interlace.runtime.runtime import Runtime
    from interlace.state.records import EventRecord

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
    """Run models (all when no selector is given) and wait for the run to end."""
    with command_session(verbose):
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
        outcome = _execute(project, request)
    if _failed(outcome):
        raise typer.Exit(EXIT_FAILURE)


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
        if _render(feed.take(POLL_S), renderer):
            break
        if submitted.outcome.done():
            grace_until = grace_until or time.monotonic() + EVENT_GRACE_S
            if time.monotonic() >= grace_until:
                logger.debug("run ended before its end event was delivered")
                break
    outcome: RunOutcome = submitted.outcome.result(timeout=OUTCOME_TIMEOUT_S)
    return outcome


def _render(events: list[EventRecord], renderer: RunRenderer) -> bool:
    """Show events; True once the run's end event was among them."""
    ended = False
    for event in events:
        renderer.update(event)
        ended = ended or event.type in FLOW_END_EVENTS
    return ended


def _failed(outcome: RunOutcome) -> bool:
    if outcome.run.status in {"failed", "cancelled"}:
        return True
    return any(task.status == "failed" for task in outcome.tasks)


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None
