"""Prometheus text rendering and the run activity derived from events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from interlace.service.activity import RunActivity
from interlace.service.metrics import Counter, Histogram, ServiceMetrics
from interlace.state.records import EventRecord, RunRecord

NOW = dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC)


def event(type_: str, flow_id: str | None, **payload: Any) -> EventRecord:
    return EventRecord(
        id=1, type=type_, flow_id=flow_id, timestamp=NOW, payload=payload
    )


def test_counters_render_labels_escaped_and_sorted() -> None:
    counter = Counter("things_total", "Things.", ("name",))
    counter.inc(("b",))
    counter.inc(('a "quoted"\\path',), 2.5)

    lines = list(counter.render())

    assert lines == [
        "# HELP things_total Things.",
        "# TYPE things_total counter",
        'things_total{name="a \\"quoted\\"\\\\path"} 2.5',
        'things_total{name="b"} 1',
    ]


def test_histograms_render_cumulative_buckets_sum_and_count() -> None:
    histogram = Histogram("latency_seconds", "Latency.", ("route",), (0.1, 1.0))
    for value in (0.05, 0.5, 0.7, 3.0):
        histogram.observe(("/a",), value)

    lines = list(histogram.samples())

    assert lines == [
        'latency_seconds_bucket{route="/a",le="0.1"} 1',
        'latency_seconds_bucket{route="/a",le="1"} 3',
        'latency_seconds_bucket{route="/a",le="+Inf"} 4',
        'latency_seconds_sum{route="/a"} 4.25',
        'latency_seconds_count{route="/a"} 4',
    ]


def test_activity_follows_runs_from_first_to_terminal_event() -> None:
    metrics = ServiceMetrics()
    activity = RunActivity(metrics)
    activity.seed(
        [
            RunRecord(
                run_id="run_a", status="running", trigger_type="cli", created_at=NOW
            )
        ]
    )

    activity.consume([event("task.enqueued", "run_b"), event("flow.started", "run_b")])
    opened = activity.open_runs
    activity.consume(
        [
            event(
                "task.completed",
                "run_a",
                model_name="m",
                status="completed",
                duration=0.4,
            ),
            event("flow.completed", "run_a", status="completed", trigger_type="cli"),
            event("task.waiting", "run_a"),
        ]
    )

    assert opened == {"run_a", "run_b"}
    assert activity.open_runs == {"run_b"}
    assert metrics.runs_active.value() == 1
    assert metrics.runs_total.value(("completed", "cli")) == 1
    assert metrics.task_duration.count(("m", "completed")) == 1


def test_stream_publishes_count_received_rows() -> None:
    metrics = ServiceMetrics()

    RunActivity(metrics).consume(
        [event("stream.published", None, stream="orders", rows_received=3)]
    )

    assert metrics.stream_events_published.value(("orders",)) == 3
