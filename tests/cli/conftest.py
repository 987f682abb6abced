"""Fixtures for CLI tests: an in-process runner and state-store readers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rich.logging import RichHandler
from typer.testing import CliRunner, Result

from interlace.cli.app import app
from interlace.cli.console import console, err_console
from interlace.config import set_current
from interlace.state import RunFilter, TaskRecord, open_state_store

Invoke = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated_cli_state() -> Iterator[None]:
    """Wide consoles (no wrapping in assertions); logging and config restored."""
    root = logging.getLogger()
    level, handlers = root.level, set(root.handlers)
    widths = console.width, err_console.width
    console.width = err_console.width = 200
    yield
    console.width, err_console.width = widths
    # Only the CLI's own handler goes: the runtime installs its task-log
    # capture handler once per process and must keep it.
    for handler in list(root.handlers):
        if handler not in handlers and isinstance(handler, RichHandler):
            root.removeHandler(handler)
    root.setLevel(level)
    set_current(None)


@pytest.fixture
def cli() -> Invoke:
    """Invoke `interlace ARGS...` in this process; exceptions propagate."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(app, [str(arg) for arg in args], catch_exceptions=False)

    return invoke


def last_run_tasks(root: Path) -> dict[str, TaskRecord]:
    """The tasks of the newest run recorded in the project's state store."""
    store = open_state_store("sqlite", root / ".interlace" / "state.db")
    try:
        runs, _ = store.list_runs(RunFilter(), limit=1)
        return {task.model_name: task for task in store.get_tasks(runs[0].run_id)}
    finally:
        store.close()


def outcomes(tasks: dict[str, TaskRecord]) -> dict[str, str | None]:
    """`status` / `status:reason` per model, for compact assertions."""
    return {
        name: f"{task.status}:{task.run_reason or task.skipped_reason}"
        for name, task in tasks.items()
    }
