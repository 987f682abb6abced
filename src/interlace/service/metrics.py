"""Prometheus metrics in the text exposition format (version 0.0.4).

A small registry rather than a client library: the service needs counters,
gauges and histograms with labels, updated on the event loop only (so no
locks), rendered on `GET /metrics`. Label values are escaped; label names are
fixed per family, so a caller cannot create an unbounded family by mistake
other than through the label values it chooses.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "Counter",
    "Gauge",
    "Histogram",
    "MetricsRegistry",
    "ServiceMetrics",
]

Labels = tuple[str, ...]

DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)


class _Family:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str]) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(label_names)

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        yield from self.samples()

    def samples(self) -> Iterable[str]:
        raise NotImplementedError

    def _check(self, labels: Labels) -> None:
        if len(labels) != len(self.label_names):
            raise ValueError(
                f"`{self.name}` takes labels {self.label_names}, got {labels!r}"
            )


class Counter(_Family):
    kind = "counter"

    def __init__(self, name: str, help_text: str, label_names: Sequence[str]) -> None:
        super().__init__(name, help_text, label_names)
        self._values: dict[Labels, float] = {}

    def inc(self, labels: Labels = (), amount: float = 1.0) -> None:
        if labels not in self._values:
            self._check(labels)
        self._values[labels] = self._values.get(labels, 0.0) + amount

    def value(self, labels: Labels = ()) -> float:
        return self._values.get(labels, 0.0)

    def samples(self) -> Iterable[str]:
        for labels, value in sorted(self._values.items()):
            yield _sample(self.name, self.label_names, labels, value)


class Gauge(_Family):
    """A value set by its owner, or read from `source` at render time."""

    kind = "gauge"

    def __init__(
        self,
        name: str,
        help_text: str,
        label_names: Sequence[str],
        source: Callable[[], dict[Labels, float]] | None = None,
    ) -> None:
        super().__init__(name, help_text, label_names)
        self._values: dict[Labels, float] = {}
        self.source = source

    def set(self, labels: Labels, value: float) -> None:
        self._check(labels)
        self._values[labels] = value

    def inc(self, labels: Labels = (), amount: float = 1.0) -> None:
        self.set(labels, self._values.get(labels, 0.0) + amount)

    def value(self, labels: Labels = ()) -> float:
        return self._values.get(labels, 0.0)

    def total(self) -> float:
        """The sum over every label set (for gauges counting things)."""
        values = self.source() if self.source is not None else self._values
        return sum(values.values())

    def samples(self) -> Iterable[str]:
        values = self.source() if self.source is not None else self._values
        for labels, value in sorted(values.items()):
            yield _sample(self.name, self.label_names, labels, value)


class Histogram(_Family):
    kind = "histogram"

    def __init__(
        self,
        name: str,
        help_text: str,
        label_names: Sequence[str],
        buckets: Sequence[float] = DEFAULT_BUCKETS,
    ) -> None:
        super().__init__(name, help_text, label_names)
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}

    def observe(self, labels: Labels, value: float) -> None:
        counts = self._counts.get(labels)
        if counts is None:
            self._check(labels)
            counts = self._counts[labels] = [0] * (len(self.buckets) + 1)
            self._sums[labels] = 0.0
        # Counts are stored per bucket (the first bound >= value, or +Inf)
        # and accumulated when rendered.
        counts[bisect.bisect_left(self.buckets, value)] += 1
        self._sums[labels] += value

    def count(self, labels: Labels) -> int:
        return sum(self._counts.get(labels, ()))

    def samples(self) -> Iterable[str]:
        names = (*self.label_names, "le")
        for labels, counts in sorted(self._counts.items()):
            total = 0
            for bound, count in zip((*self.buckets, math.inf), counts, strict=True):
                total += count
                edge = "+Inf" if bound == math.inf else _number(bound)
                yield _sample(f"{self.name}_bucket", names, (*labels, edge), total)
            yield _sample(
                f"{self.name}_sum", self.label_names, labels, self._sums[labels]
            )
            yield _sample(f"{self.name}_count", self.label_names, labels, total)


class MetricsRegistry:
    def __init__(self) -> None:
        self._families: list[_Family] = []

    def add(self, family: _Family) -> None:
        self._families.append(family)

    def render(self) -> str:
        lines = [line for family in self._families for line in family.render()]
        return "\n".join(lines) + "\n"


class ServiceMetrics:
    """The metric families of SPEC §12, in one registry."""

    def __init__(self) -> None:
        self.registry = MetricsRegistry()
        self.runs_active = Gauge(
            "interlace_runs_active", "Runs that are not terminal.", ()
        )
        self.runs_active.set((), 0)
        self.runs_total = Counter(
            "interlace_runs_total",
            "Runs that reached a terminal status in this process.",
            ("status", "trigger_type"),
        )
        self.stream_events_published = Counter(
            "interlace_stream_events_published_total",
            "Events accepted by stream publishes.",
            ("stream",),
        )
        self.stream_backlog = Gauge(
            "interlace_stream_backlog_events",
            "Published stream events not yet materialised.",
            ("stream",),
        )
        self.sse_subscribers = Gauge(
            "interlace_sse_subscribers", "Open SSE connections.", ("endpoint",)
        )
        self.http_requests = Counter(
            "interlace_http_requests_total",
            "HTTP requests answered, by route template.",
            ("route", "method", "status"),
        )
        self.task_duration = Histogram(
            "interlace_task_duration_seconds",
            "Duration of finished tasks.",
            ("model", "status"),
            TASK_BUCKETS,
        )
        self.http_duration = Histogram(
            "interlace_http_request_duration_seconds",
            "Time to answer HTTP requests, by route template.",
            ("route", "method"),
        )
        for family in (
            self.runs_active,
            self.runs_total,
            self.stream_events_published,
            self.stream_backlog,
            self.sse_subscribers,
            self.http_requests,
            self.task_duration,
            self.http_duration,
        ):
            self.registry.add(family)

    def render(self) -> str:
        return self.registry.render()


def _sample(name: str, names: Labels, values: Labels, value: float) -> str:
    if not names:
        return f"{name} {_number(value)}"
    pairs = ",".join(
        f'{label}="{_escape(text)}"' for label, text in zip(names, values, strict=True)
    )
    return f"{name}{{{pairs}}} {_number(value)}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))
