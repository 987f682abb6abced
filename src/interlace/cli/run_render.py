"""How `interlace run` shows progress: a live table, or plain lines.

A terminal gets a rich `Live` table (model, status, rows, duration, reason)
redrawn on every task status change; anything else (CI logs, pipes) gets one
line per status change, which stays readable without cursor movement. Both
close with the same summary, built from the run's final task records rather
than from events, so it is right even if the last events trail the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from interlace.cli.run_feed import FLOW_END_EVENTS

if TYPE_CHECKING:
    from interlace.state.records import EventRecord, RunRecord, TaskRecord

__all__ = [
    "FinishedRun",
    "LiveRenderer",
    "PlainRenderer",
    "RunBoard",
    "RunRenderer",
    "TaskRow",
    "render_events",
    "renderer_for",
]

_STATUS_STYLES = {
    "completed": "green",
    "failed": "bold red",
    "cancelled": "red",
    "skipped": "yellow",
    "running": "cyan",
    "materialising": "cyan",
}


@dataclass
class TaskRow:
    """The latest known state of one task."""

    model: str
    status: str = "pending"
    rows: int | None = None
    duration: float | None = None
    reason: str | None = None


class RunBoard:
    """Task rows in run order, updated from events and final records."""

    def __init__(self, models: list[str]) -> None:
        self.rows = {name: TaskRow(model=name) for name in models}

    def apply(self, event: EventRecord) -> TaskRow | None:
        """Update from a `task.*` event; the row only when its status changed."""
        payload = event.payload
        row = self.rows.get(str(payload.get("model_name")))
        status = payload.get("status")
        if row is None or not event.type.startswith("task.") or status is None:
            return None
        changed = status != row.status
        row.status = str(status)
        row.rows = payload.get("rows_processed")
        row.duration = payload.get("duration")
        row.reason = payload.get("skipped_reason") or payload.get("error")
        return row if changed else None

    def settle(self, tasks: list[TaskRecord]) -> list[TaskRow]:
        """Take the final state (with run reasons) from the task records.

        Returns the rows whose status the events had not shown yet.
        """
        changed = []
        for task in tasks:
            row = self.rows.setdefault(task.model_name, TaskRow(model=task.model_name))
            if row.status != task.status:
                changed.append(row)
            row.status = task.status
            row.rows = task.rows_processed
            row.duration = _seconds(task)
            row.reason = task.skipped_reason or task.error_message or task.run_reason
        return changed


class FinishedRun(Protocol):
    """A run and its final task records: the local runtime's `RunOutcome`,
    or what a service reports for a run submitted to it."""

    @property
    def run(self) -> RunRecord: ...

    @property
    def tasks(self) -> list[TaskRecord]: ...


class RunRenderer(Protocol):
    """What the `run` command drives while it follows a run."""

    def start(self, run_id: str, models: list[str]) -> None: ...

    def update(self, event: EventRecord) -> None: ...

    def note(self, message: str) -> None: ...

    def finish(self, outcome: FinishedRun, elapsed: float) -> None: ...


def render_events(events: list[EventRecord], renderer: RunRenderer) -> bool:
    """Show events; True once the run's end event was among them."""
    ended = False
    for event in events:
        renderer.update(event)
        ended = ended or event.type in FLOW_END_EVENTS
    return ended


def renderer_for(console: Console) -> RunRenderer:
    """A live table in a terminal, else plain lines."""
    if console.is_terminal:
        return LiveRenderer(console)
    return PlainRenderer(console)


class PlainRenderer:
    """One line per task status change: `raw_orders  completed  rows=100  0.05s`."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._board = RunBoard([])
        self._width = 0

    def start(self, run_id: str, models: list[str]) -> None:
        self._board = RunBoard(models)
        self._width = max((len(name) for name in models), default=0)
        self._print(f"Run {run_id}: {len(models)} model(s)")

    def update(self, event: EventRecord) -> None:
        row = self._board.apply(event)
        if row is not None:
            self._print(self._line(row))

    def note(self, message: str) -> None:
        self._print(message)

    def finish(self, outcome: FinishedRun, elapsed: float) -> None:
        for row in self._board.settle(outcome.tasks):
            self._print(self._line(row))
        print_summary(self._console, outcome, elapsed)

    def _line(self, row: TaskRow) -> str:
        parts = [row.model.ljust(self._width), row.status.ljust(13)]
        if row.rows is not None:
            parts.append(f"rows={row.rows}")
        if row.duration is not None:
            parts.append(f"{row.duration:.2f}s")
        if row.reason:
            parts.append(_first_line(row.reason))
        return "  ".join(parts).rstrip()

    def _print(self, text: str) -> None:
        self._console.print(text, markup=False, highlight=False, soft_wrap=True)


class LiveRenderer:
    """A table redrawn in place while the run progresses."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._board = RunBoard([])
        self._live: Live | None = None

    def start(self, run_id: str, models: list[str]) -> None:
        self._board = RunBoard(models)
        self._console.print(f"Run {run_id}: {len(models)} model(s)", markup=False)
        self._live = Live(self._table(), console=self._console, refresh_per_second=8)
        self._live.start()

    def update(self, event: EventRecord) -> None:
        if self._board.apply(event) is not None and self._live is not None:
            self._live.update(self._table())

    def note(self, message: str) -> None:
        self._console.print(message, style="yellow", markup=False)

    def finish(self, outcome: FinishedRun, elapsed: float) -> None:
        self._board.settle(outcome.tasks)
        if self._live is not None:
            self._live.update(self._table(), refresh=True)
            self._live.stop()
            self._live = None
        print_summary(self._console, outcome, elapsed)

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("model")
        table.add_column("status")
        table.add_column("rows", justify="right")
        table.add_column("duration", justify="right")
        table.add_column("reason", overflow="fold")
        for row in self._board.rows.values():
            table.add_row(
                row.model,
                Text(row.status, style=_STATUS_STYLES.get(row.status, "")),
                "" if row.rows is None else str(row.rows),
                "" if row.duration is None else f"{row.duration:.2f}s",
                _first_line(row.reason or ""),
            )
        return table


def print_summary(console: Console, outcome: FinishedRun, elapsed: float) -> None:
    """`Run … completed: 3 completed, 1 skipped, 0 failed in 0.52s` and errors."""
    counts = {"completed": 0, "skipped": 0, "failed": 0, "cancelled": 0}
    for task in outcome.tasks:
        if task.status in counts:
            counts[task.status] += 1
    shown = [f"{counts[key]} {key}" for key in ("completed", "skipped", "failed")]
    if counts["cancelled"]:
        shown.append(f"{counts['cancelled']} cancelled")
    run = outcome.run
    style = _STATUS_STYLES.get(run.status, "")
    summary = f"Run {run.run_id} {run.status}: {', '.join(shown)} in {elapsed:.2f}s"
    console.print(Text(summary, style=style), soft_wrap=True)
    for task in outcome.tasks:
        if task.status == "failed":
            error = task.error_message or task.error_type or "failed"
            console.print(Text(f"  {task.model_name}: {error}", style="red"))


def _seconds(task: TaskRecord) -> float | None:
    if task.started_at is None or task.completed_at is None:
        return None
    return (task.completed_at - task.started_at).total_seconds()


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
