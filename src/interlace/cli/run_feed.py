"""The event listener behind `interlace run`: one run's events, in order.

The runtime's event bus (or, for a run on a service, the SSE reader of
`interlace.cli.service_events`) calls `deliver` on its own thread and must
never wait, so the feed only queues. The command subscribes before it
submits (so that no event of the new run can be missed) and learns the run
id from the submit reply; until then everything stays queued, and `take`
returns nothing. Events of other runs are dropped when taken.
"""

from __future__ import annotations

import queue
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interlace.state.records import EventRecord

__all__ = ["FLOW_END_EVENTS", "RunEventFeed"]

FLOW_END_EVENTS = frozenset({"flow.completed", "flow.failed", "flow.cancelled"})


class RunEventFeed:
    """A `Listener` that hands one run's events to the rendering thread."""

    def __init__(self) -> None:
        self._batches: queue.Queue[list[EventRecord]] = queue.Queue()
        self._run_id: str | None = None

    @property
    def run_id(self) -> str | None:
        return self._run_id

    def deliver(self, events: list[EventRecord]) -> None:
        """Called on the event-bus thread: queue and return at once."""
        self._batches.put(events)

    def follow(self, run_id: str) -> None:
        """Start handing out the events of `run_id`."""
        self._run_id = run_id

    def take(self, timeout: float) -> list[EventRecord]:
        """The followed run's queued events, waiting up to `timeout` for one.

        Returns an empty list on timeout or while no run is followed yet.
        """
        if self._run_id is None:
            return []
        try:
            batches = [self._batches.get(timeout=timeout)]
        except queue.Empty:
            return []
        while True:
            try:
                batches.append(self._batches.get_nowait())
            except queue.Empty:
                break
        return [
            event
            for batch in batches
            for event in batch
            if event.flow_id == self._run_id
        ]
