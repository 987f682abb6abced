from __future__ import annotations

import datetime as dt
import io
import signal
from typing import Any

from rich.console import Console

from interlace.cli.interrupts import InterruptGuard
from interlace.cli.run_feed import RunEventFeed
from interlace.cli.run_render import PlainRenderer
from interlace.runtime.run_manager import RunOutcome
from interlace.state.records import EventRecord, RunRecord, TaskRecord

NOW = dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC)


def event(
    event_id: int, flow_id: str | None, type_: str = "task.running", **payload: Any
) -> EventRecord:
    return EventRecord(
        id=event_id, type=type_, flow_id=flow_id, timestamp=NOW, payload=payload
    )


def test_feed_keeps_events_delivered_before_the_run_id_is_known() -> None:
    feed = RunEventFeed()
    feed.deliver([event(1, "run_mine"), event(2, "run_other")])

    before = feed.take(timeout=0.01)
    feed.follow("run_mine")
    after = feed.take(timeout=0.01)

    assert before == []
    assert [item.id for item in after] == [1]


def test_feed_drops_other_runs_and_keeps_order_across_batches() -> None:
    feed = RunEventFeed()
    feed.follow("run_mine")
    feed.deliver([event(1, "run_mine"), event(2, "run_other")])
    feed.deliver([event(3, None, "stream.published"), event(4, "run_mine")])

    taken = feed.take(timeout=0.01)

    assert [item.id for item in taken] == [1, 4]


def test_feed_take_times_out_empty_when_nothing_arrives() -> None:
    feed = RunEventFeed()
    feed.follow("run_mine")

    assert feed.take(timeout=0.01) == []


def test_first_interrupt_is_recorded_and_the_second_calls_the_exit() -> None:
    exits: list[str] = []
    previous = signal.getsignal(signal.SIGINT)

    with InterruptGuard(on_second=lambda: exits.append("exit")) as guard:
        signal.raise_signal(signal.SIGINT)
        first = (guard.interrupted, list(exits))
        signal.raise_signal(signal.SIGINT)

    assert first == (True, [])
    assert exits == ["exit"]
    assert signal.getsignal(signal.SIGINT) is previous


def test_plain_renderer_prints_status_changes_only_then_the_missed_final_ones() -> None:
    output = io.StringIO()
    renderer = PlainRenderer(Console(file=output, width=200))
    renderer.start("run_mine", ["raw", "total"])

    renderer.update(event(1, "run_mine", model_name="raw", status="running"))
    renderer.update(
        event(2, "run_mine", "task.retrying", model_name="raw", status="running")
    )
    renderer.update(
        event(
            3,
            "run_mine",
            "task.completed",
            model_name="raw",
            status="completed",
            rows_processed=100,
            duration=0.05,
        )
    )
    renderer.finish(_outcome(total_status="skipped"), elapsed=0.5)

    lines = [line.split() for line in output.getvalue().splitlines()]
    assert lines[1] == ["raw", "running"]
    assert lines[2] == ["raw", "completed", "rows=100", "0.05s"]
    assert lines[3] == ["total", "skipped", "no_changes"]
    assert output.getvalue().splitlines()[4] == (
        "Run run_mine completed: 1 completed, 1 skipped, 0 failed in 0.50s"
    )


def _outcome(total_status: str) -> RunOutcome:
    run = RunRecord(
        run_id="run_mine", status="completed", trigger_type="cli", created_at=NOW
    )
    common: dict[str, Any] = {"run_id": "run_mine", "schema_name": "public"}
    tasks = [
        TaskRecord(
            task_id="task_1",
            model_name="raw",
            position=0,
            status="completed",
            enqueued_at=NOW,
            started_at=NOW,
            completed_at=NOW + dt.timedelta(seconds=0.05),
            rows_processed=100,
            run_reason="first_run",
            **common,
        ),
        TaskRecord(
            task_id="task_2",
            model_name="total",
            position=1,
            status=total_status,
            enqueued_at=NOW,
            skipped_reason="no_changes",
            **common,
        ),
    ]
    return RunOutcome(run=run, tasks=tasks)
