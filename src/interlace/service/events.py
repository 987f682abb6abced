"""The run and task event feed of `GET /api/v1/events` (SPEC §6, §10.10).

The event bus calls its listeners on its own thread, one after the other; a
listener per SSE connection would make a thousand subscribers a thousand
cross-thread hand-offs per event. The service instead registers one listener
(`bridge.LoopRelay`), and `EventHub` fans each batch out on the event loop
to bounded subscriptions (`interlace.service.sse`). `EventStream` is what
one connection sends: logged events after its resume point, then live ones.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

import msgspec

from interlace.service.sse import (
    KEEPALIVE_FRAME,
    Delivery,
    Ending,
    SubscriberHub,
    SubscriberSeats,
    Subscription,
    control_frame,
    encode_data,
    event_frame,
    retry_frame,
)
from interlace.state.ids import iso_utc, utc_now
from interlace.state.records import EventRecord

__all__ = [
    "REPLAY_PAGE",
    "EventFilter",
    "EventHub",
    "EventLog",
    "EventStream",
    "event_delivery",
]

REPLAY_PAGE = 500
"""Events read from the log per bridge call while replaying."""


class EventFilter(msgspec.Struct, frozen=True, kw_only=True):
    """The `types` and `flow_id` query parameters of `/api/v1/events`."""

    types: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    """`task.` for `task.*`; the empty prefix (`*`) accepts every type."""
    flow_id: str | None = None

    @classmethod
    def parse(cls, types: str | None, flow_id: str | None) -> EventFilter:
        """Read `types=flow.completed,task.*`; raise `ValueError` on a bad entry."""
        names = [name.strip() for name in (types or "").split(",") if name.strip()]
        wildcards = [name for name in names if name.endswith("*")]
        for name in wildcards:
            if name != "*" and not name.endswith(".*"):
                raise ValueError(
                    f"expected an event type or a prefix ending in `.*`, got `{name}`"
                )
        return cls(
            types=frozenset(names) - frozenset(wildcards),
            prefixes=tuple(sorted(name[:-1] for name in wildcards)),
            flow_id=flow_id or None,
        )

    @property
    def subscribed_types(self) -> list[str] | None:
        """The types as requested; None means every type."""
        if not self.types and not self.prefixes:
            return None
        return sorted(self.types) + [prefix + "*" for prefix in self.prefixes]

    def accepts(self, event: EventRecord) -> bool:
        # Events of no run (`stream.published`, ...) pass a `flow_id` filter.
        if self.flow_id is not None and event.flow_id not in (None, self.flow_id):
            return False
        if not self.types and not self.prefixes:
            return True
        return event.type in self.types or event.type.startswith(self.prefixes)


def event_delivery(event: EventRecord) -> Delivery:
    """The SSE frame of a logged event: its id, its type, its stored payload."""
    frame = event_frame(event.id, event.type, encode_data(event.payload))
    return Delivery(event.id, frame)


class EventHub(SubscriberHub[EventRecord]):
    """The hub of `/api/v1/events`, fed by the event bus through `LoopRelay`."""

    def __init__(
        self, seats: SubscriberSeats, *, buffer_size: int, keepalive_s: float
    ) -> None:
        super().__init__(
            seats, event_delivery, buffer_size=buffer_size, keepalive_s=keepalive_s
        )

    def consume(self, events: list[EventRecord]) -> None:
        """The `LoopRelay` consumer signature."""
        self.publish(events)


class EventLog(Protocol):
    """Asynchronous reads of the durable event log (through the bridge)."""

    async def bounds(self) -> tuple[int | None, int | None]:
        """The oldest and newest retained ids; None when the log is empty."""
        ...

    async def read(self, after_id: int, limit: int) -> list[EventRecord]:
        """Up to `limit` events with `id > after_id`, ascending."""
        ...


class _Phase(enum.Enum):
    OPENING = enum.auto()
    REPLAYING = enum.auto()
    LIVE = enum.auto()
    ENDED = enum.auto()


class EventStream:
    """The chunks one `/api/v1/events` connection sends: replay, then live.

    No gap and no duplicate: the subscription exists before the log is
    read, so an event committed after the read reaches its buffer, and an
    event both read from the log and buffered is sent once, because live
    deliveries with an id at or below `cursor` (the last id read or sent)
    are skipped. Ids are committed and delivered in ascending order.

    An async iterator written as a small state machine rather than an async
    generator: every live event resumes it once per subscriber, and a
    generator frame more per resume is measurable at a thousand subscribers.
    """

    def __init__(
        self,
        subscription: Subscription[EventRecord],
        log: EventLog,
        event_filter: EventFilter,
        *,
        resume_after: int | None,
    ) -> None:
        self._subscription = subscription
        self._log = log
        self._filter = event_filter
        self._resume_after = resume_after
        self._phase = _Phase.OPENING
        self._cursor = 0
        self._last_sent: int | None = None

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._phase is _Phase.OPENING:
            return self._opening()
        while self._phase is _Phase.REPLAYING:
            chunk = await self._replay_page()
            if chunk:
                return chunk
        if self._phase is _Phase.LIVE:
            return await self._live_chunk()
        raise StopAsyncIteration

    def _opening(self) -> bytes:
        self._phase = _Phase.LIVE
        if self._resume_after is not None:
            self._phase = _Phase.REPLAYING
            self._cursor = -1  # Bounds not read yet.
        connected = {
            "message": "Connected to event stream",
            "subscribed_types": self._filter.subscribed_types,
            "flow_id": self._filter.flow_id,
            "last_event_id": self._resume_after,
            "timestamp": iso_utc(utc_now()),
        }
        return retry_frame() + control_frame("connected", connected)

    async def _replay_page(self) -> bytes:
        if self._cursor < 0:
            return await self._start_replay()
        page = await self._log.read(self._cursor, REPLAY_PAGE)
        chunk = self._frames(
            event_delivery(event) for event in page if self._filter.accepts(event)
        )
        if page:
            self._cursor = page[-1].id
        if len(page) < REPLAY_PAGE or self._live_covers_cursor():
            self._phase = _Phase.LIVE
        return chunk

    async def _start_replay(self) -> bytes:
        """Check the resume point against the log; maybe a `reset` frame."""
        after = self._resume_after or 0
        oldest, newest = await self._log.bounds()
        self._cursor = after
        if newest is None or after > newest:
            # An id past the head (a recreated state store): nothing to replay,
            # and live events numbered below it must not be taken as seen.
            self._cursor = 0
            self._phase = _Phase.LIVE
        if oldest is not None and after < oldest - 1:
            # Events between `after` and `oldest` were pruned: say so first.
            reset = {
                "requested_id": after,
                "oldest_id": oldest,
                "timestamp": iso_utc(utc_now()),
            }
            return control_frame("reset", reset)
        return b""

    def _live_covers_cursor(self) -> bool:
        """Whether the live buffer holds everything after `cursor`."""
        first = self._subscription.first_seen_id
        return first is not None and first <= self._cursor + 1

    async def _live_chunk(self) -> bytes:
        while True:
            taken = await self._subscription.take()
            fresh = [d for d in taken.deliveries if d.id > self._cursor]
            chunk = self._frames(fresh)
            if fresh:
                self._cursor = fresh[-1].id
            if taken.ending is not None:
                self._phase = _Phase.ENDED
                return chunk + self._ending_frame(taken.ending)
            if chunk:
                return chunk
            if taken.idle:
                return KEEPALIVE_FRAME

    def _frames(self, deliveries: Iterable[Delivery]) -> bytes:
        frames = []
        for delivery in deliveries:
            frames.append(delivery.frame)
            self._last_sent = delivery.id
        return b"".join(frames)

    def _ending_frame(self, ending: Ending) -> bytes:
        payload: dict[str, Any] = {"message": "Server is shutting down"}
        if ending is Ending.OVERFLOW:
            payload = {
                "message": "Event buffer overflowed; reconnect with Last-Event-ID "
                "to resume from the event log",
                "buffer_size": self._subscription.capacity,
                "last_event_id": self._last_sent,
            }
        payload["timestamp"] = iso_utc(utc_now())
        return control_frame(ending.value, payload)
