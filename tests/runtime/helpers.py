"""Drive runs through a real runtime and collect what they emitted."""

from __future__ import annotations

import queue
from pathlib import Path

import duckdb

from interlace.engine.project import Project
from interlace.runtime.messages import RunRequest
from interlace.runtime.run_manager import RunOutcome
from interlace.runtime.runtime import Runtime
from interlace.state.records import EventRecord

RUN_TIMEOUT_S = 60


class Collector:
    """A listener that keeps every delivered event."""

    def __init__(self) -> None:
        self.queue: queue.Queue[EventRecord] = queue.Queue()

    def deliver(self, events: list[EventRecord]) -> None:
        for event in events:
            self.queue.put(event)

    def drain(self) -> list[EventRecord]:
        events = []
        while not self.queue.empty():
            events.append(self.queue.get_nowait())
        return events


def run_project(root: Path, **request: object) -> RunOutcome:
    """Load the project, run it to the end and return the outcome."""
    with Runtime(Project.load(root)) as runtime:
        submitted = runtime.submit(RunRequest(**request))  # type: ignore[arg-type]
        return submitted.outcome.result(timeout=RUN_TIMEOUT_S)  # type: ignore[no-any-return]


def statuses(outcome: RunOutcome) -> dict[str, str]:
    return {task.model_name: task.status for task in outcome.tasks}


def query(root: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()
