"""Live run activity, derived from the event stream on the event loop.

Health (`active_flows`), the `interlace_runs_*` metrics and the shutdown
drain all need to know which runs are open *now*, many times a second.
Asking the state store each time would cost a thread hop per request, so the
service seeds the set of open runs once at start-up and then follows the
events, which arrive in log order: a run is open from its first event until
its terminal `flow.*` event.
"""

from __future__ import annotations

from collections.abc import Iterable

from interlace.service.metrics import ServiceMetrics
from interlace.state.records import EventRecord, RunRecord

__all__ = ["RunActivity"]

_TERMINAL_FLOW_EVENTS = frozenset({"flow.completed", "flow.failed", "flow.cancelled"})
_FINISHED_TASK_EVENTS = frozenset({"task.completed", "task.failed", "task.cancelled"})
_CLOSED_MEMORY = 1024
"""Finished runs remembered; late events of older runs are not expected."""


class RunActivity:
    """Open runs of this process and the metrics that follow from events."""

    def __init__(self, metrics: ServiceMetrics) -> None:
        self._metrics = metrics
        self._open: set[str] = set()
        # Recently finished runs, oldest first (a dict keeps insertion order).
        self._closed: dict[str, None] = {}

    @property
    def open_runs(self) -> frozenset[str]:
        return frozenset(self._open)

    @property
    def open_count(self) -> int:
        return len(self._open)

    def seed(self, runs: Iterable[RunRecord]) -> None:
        """Start from the runs the state store reports as open."""
        self._open.update(run.run_id for run in runs)
        self._publish()

    def consume(self, events: list[EventRecord]) -> None:
        """An event consumer for `LoopRelay`; runs on the event loop."""
        for event in events:
            self._apply(event)
        self._publish()

    def _apply(self, event: EventRecord) -> None:
        payload = event.payload
        if event.type in _TERMINAL_FLOW_EVENTS and event.flow_id is not None:
            self._open.discard(event.flow_id)
            # A late event of a finished run must not reopen it.
            self._remember_closed(event.flow_id)
            labels = (str(payload.get("status")), str(payload.get("trigger_type")))
            self._metrics.runs_total.inc(labels)
        elif event.flow_id is not None and event.flow_id not in self._closed:
            self._open.add(event.flow_id)
        if event.type in _FINISHED_TASK_EVENTS:
            self._observe_task(payload)
        elif event.type == "stream.published":
            stream = str(payload.get("stream"))
            rows = payload.get("rows_received") or 0
            self._metrics.stream_events_published.inc((stream,), float(rows))

    def _remember_closed(self, run_id: str) -> None:
        self._closed[run_id] = None
        if len(self._closed) > _CLOSED_MEMORY:
            del self._closed[next(iter(self._closed))]

    def _observe_task(self, payload: dict[str, object]) -> None:
        duration = payload.get("duration")
        if isinstance(duration, int | float):
            labels = (str(payload.get("model_name")), str(payload.get("status")))
            self._metrics.task_duration.observe(labels, float(duration))

    def _publish(self) -> None:
        self._metrics.runs_active.set((), len(self._open))
