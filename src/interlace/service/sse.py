"""Server-Sent Events building blocks shared by every SSE endpoint.

- Framing: frames are bytes built once and written as they are, so an event
  fanned out to a thousand subscribers is encoded a single time.
- `SubscriberHub` and `Subscription`: bounded per-connection buffers, filled
  on the event loop by a hub that never waits for a client. A buffer that
  would exceed its capacity is dropped and its subscription ends with
  `overflow`: a slow client costs only itself and resumes from a durable log.
- `SseResponse`: the ASGI response that drains one subscription.

Everything here runs on the event loop and is not thread-safe on purpose.
Control events (`connected`, `reset`, `overflow`, `shutdown`) carry no `id:`:
a browser keeps the id of the last *data* event as its `Last-Event-ID`,
which is exactly where a reconnect must resume.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, Generic, NamedTuple, TypeVar

import anyio
import msgspec

from interlace.errors import InterlaceError
from interlace.service.asgi.connection import Receive, Scope, Send
from interlace.service.metrics import Gauge

__all__ = [
    "KEEPALIVE_FRAME",
    "RETRY_MS",
    "SSE_HEADERS",
    "SSE_MEDIA_TYPE",
    "WAKE_BATCH",
    "Delivery",
    "Ending",
    "SseResponse",
    "SubscriberHub",
    "SubscriberSeats",
    "Subscription",
    "SubscriptionRefused",
    "Taken",
    "control_frame",
    "encode_data",
    "event_frame",
    "retry_frame",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

SSE_MEDIA_TYPE = "text/event-stream"
SSE_HEADERS = {
    "Cache-Control": "no-cache",
    "Connection": "keep-alive",
    # Tells nginx-style proxies not to buffer the stream.
    "X-Accel-Buffering": "no",
}
"""Response headers besides `Content-Type` (SPEC §10.10)."""
RETRY_MS = 3000
"""How long a client waits before reconnecting, announced first."""
KEEPALIVE_FRAME = b": keepalive\n\n"
WAKE_BATCH = 64
"""Subscribers woken per loop callback; see `SubscriberHub.publish`."""

_encoder = msgspec.json.Encoder()
_START_HEADERS = [
    (b"content-type", SSE_MEDIA_TYPE.encode()),
    *((name.lower().encode(), value.encode()) for name, value in SSE_HEADERS.items()),
]


# --- framing -----------------------------------------------------------------


def encode_data(payload: Any) -> bytes:
    """One-line JSON: msgspec escapes newlines inside strings, so the
    document can never break out of its `data:` line."""
    return _encoder.encode(payload)


def event_frame(event_id: int, event_type: str, data: bytes) -> bytes:
    """`id:`, `event:` and `data:` lines and the blank line ending the event."""
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (event_id, _field(event_type), data)


def control_frame(event_type: str, payload: Any) -> bytes:
    """An event without `id:` (see the module docstring for why)."""
    return b"event: %s\ndata: %s\n\n" % (_field(event_type), encode_data(payload))


def retry_frame(milliseconds: int = RETRY_MS) -> bytes:
    return b"retry: %d\n\n" % milliseconds


def _field(value: str) -> bytes:
    """A single-line field value; a line break would start a new field."""
    if "\n" in value or "\r" in value:
        raise ValueError(f"an SSE field must be one line, got {value!r}")
    return value.encode()


# --- subscriptions -------------------------------------------------------------


class Ending(enum.StrEnum):
    """Why the server ends a subscription (the SSE event sent last)."""

    OVERFLOW = "overflow"
    """The client fell `buffer_size` items behind."""
    SHUTDOWN = "shutdown"
    """The service is stopping."""


class Delivery(NamedTuple):
    """One item ready for the wire: its id and its complete frame."""

    id: int
    frame: bytes


class Taken(NamedTuple):
    """What a subscriber collects at once."""

    deliveries: list[Delivery]
    ending: Ending | None
    """Set once: the deliveries are the last ones (none after an overflow)."""
    idle: bool
    """Nothing was taken for a keepalive interval."""


class SubscriptionRefused(InterlaceError):
    """No subscription now: `service.sse.max_subscribers` connections are
    open, or the service is shutting down."""

    code = "SERVICE_UNAVAILABLE"


class SubscriberSeats:
    """The `max_subscribers` budget, shared by every SSE endpoint.

    Keeps the `interlace_sse_subscribers{endpoint}` gauge (and through it
    the health `subscribers` count) exact: a seat is taken before a
    response starts and released when the connection ends, whatever ended it.
    """

    def __init__(self, limit: int, gauge: Gauge | None = None) -> None:
        self.limit = limit
        self._gauge = gauge
        self._open: collections.Counter[str] = collections.Counter()

    @property
    def count(self) -> int:
        return self._open.total()

    def take(self, endpoint: str) -> None:
        if self.count >= self.limit:
            raise SubscriptionRefused(
                f"Subscriber limit reached: {self.limit} SSE connections are open "
                "(`service.sse.max_subscribers`); retry later"
            )
        self._open[endpoint] += 1
        self._publish(endpoint)

    def release(self, endpoint: str) -> None:
        self._open[endpoint] -= 1
        self._publish(endpoint)

    def _publish(self, endpoint: str) -> None:
        if self._gauge is not None:
            self._gauge.set((endpoint,), self._open[endpoint])


class Subscription(Generic[T]):
    """One connection's bounded buffer: filled by its hub, drained by the
    connection's response task. Create it with `SubscriberHub.open`.

    Waiting costs a bare future, and idleness is checked by one timer per
    keepalive interval rather than a timeout per wait: with a thousand
    subscribers every event wakes each of them, so a wake must be cheap.
    """

    def __init__(
        self,
        hub: SubscriberHub[T],
        endpoint: str,
        accepts: Callable[[T], bool],
        *,
        capacity: int,
        keepalive_s: float,
    ) -> None:
        self.endpoint = endpoint
        self.accepts = accepts
        self.capacity = capacity
        self.first_seen_id: int | None = None
        """Id of the first item published after subscribing (accepted or not)."""
        self._hub = hub
        self._buffer: collections.deque[Delivery] = collections.deque()
        self._ending: Ending | None = None
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._keepalive_s = keepalive_s
        self._active = False
        self._idle = False
        self._timer = self._loop.call_later(keepalive_s, self._tick)
        self._closed = False

    @property
    def waiting(self) -> bool:
        """Whether the reader waits for a wake (not already woken)."""
        return self._waiter is not None and not self._waiter.done()

    def offer(self, delivery: Delivery) -> None:
        """Buffer one delivery without waking the reader (the hub does)."""
        if self._ending is not None:
            return
        if len(self._buffer) >= self.capacity:
            # Dropping the buffer bounds memory; the client re-reads the log.
            logger.debug("SSE subscriber on %s overflowed", self.endpoint)
            self._buffer.clear()
            self.end(Ending.OVERFLOW)
            return
        self._buffer.append(delivery)

    def end(self, ending: Ending) -> None:
        """Stop accepting deliveries; the reader sees `ending` after the
        deliveries still buffered."""
        if self._ending is None:
            self._ending = ending
            self._hub.detach(self)
            self.wake()

    def wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self) -> Taken:
        """Everything buffered, once there is something (or idleness) to report."""
        while not self._buffer and self._ending is None and not self._idle:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        deliveries = list(self._buffer)
        self._buffer.clear()
        idle, self._idle = self._idle, False
        self._active = self._active or bool(deliveries)
        return Taken(deliveries, self._ending, idle and not deliveries)

    def close(self) -> None:
        """Leave the hub and free the seat; safe to call more than once."""
        if not self._closed:
            self._closed = True
            self._timer.cancel()
            self._hub.release(self)

    def _tick(self) -> None:
        """Every keepalive interval: report idleness if nothing was taken."""
        if not self._active:
            self._idle = True
            self.wake()
        self._active = False
        self._timer = self._loop.call_later(self._keepalive_s, self._tick)


class SubscriberHub(Generic[T]):
    """Fans published items out to the subscriptions of one source.

    `frame` turns an item into its `Delivery` once per publish, however
    many subscribers receive it. Seats may be shared with other hubs so
    that `max_subscribers` bounds every SSE endpoint together.
    """

    def __init__(
        self,
        seats: SubscriberSeats,
        frame: Callable[[T], Delivery],
        *,
        buffer_size: int,
        keepalive_s: float,
    ) -> None:
        self.seats = seats
        self._frame = frame
        self._buffer_size = buffer_size
        self._keepalive_s = keepalive_s
        self._live: dict[Subscription[T], None] = {}
        self._fresh: list[Subscription[T]] = []
        self._to_wake: collections.OrderedDict[Subscription[T], None] = (
            collections.OrderedDict()
        )
        self._wake_scheduled = False
        self._ended = False

    def open(self, endpoint: str, accepts: Callable[[T], bool]) -> Subscription[T]:
        """Subscribe (on the loop); raises `SubscriptionRefused` when no seat
        is free or the hub was ended."""
        if self._ended:
            raise SubscriptionRefused("The service is shutting down")
        self.seats.take(endpoint)
        subscription = Subscription(
            self,
            endpoint,
            accepts,
            capacity=self._buffer_size,
            keepalive_s=self._keepalive_s,
        )
        self._live[subscription] = None
        self._fresh.append(subscription)
        return subscription

    def publish(self, items: Sequence[T]) -> None:
        """Fan a batch out; runs on the loop and never waits for a client.

        Readers are woken WAKE_BATCH at a time, one loop callback per group:
        batches published meanwhile (their callbacks queue behind the woken
        readers) reach the readers not yet woken before they write, so with
        a thousand readers a burst of batches costs most of them one write
        instead of one write per batch.
        """
        if not items or not self._live:
            return
        deliveries = [(item, self._frame(item)) for item in items]
        if self._fresh:
            for subscription in self._fresh:
                subscription.first_seen_id = deliveries[0][1].id
            self._fresh.clear()
        for subscription in list(self._live):
            accepts = subscription.accepts
            offered = False
            for item, delivery in deliveries:
                if accepts(item):
                    subscription.offer(delivery)
                    offered = True
            if offered and subscription.waiting:
                self._to_wake[subscription] = None
        self._wake_some()

    def end_all(self, ending: Ending) -> None:
        """End every subscription, e.g. with `shutdown` when the service
        stops; later subscriptions are refused."""
        self._ended = True
        for subscription in list(self._live):
            subscription.end(ending)

    def detach(self, subscription: Subscription[T]) -> None:
        """Stop fanning out to `subscription` (it keeps its seat)."""
        self._live.pop(subscription, None)

    def release(self, subscription: Subscription[T]) -> None:
        self.detach(subscription)
        self._to_wake.pop(subscription, None)
        if subscription in self._fresh:
            self._fresh.remove(subscription)
        self.seats.release(subscription.endpoint)

    def _wake_some(self) -> None:
        if not self._wake_scheduled:
            # Otherwise the pending callback reaches these readers in order.
            self._wake_batch()

    def _wake_batch(self) -> None:
        for _ in range(min(WAKE_BATCH, len(self._to_wake))):
            self._to_wake.popitem(last=False)[0].wake()
        if self._to_wake:
            self._wake_scheduled = True
            asyncio.get_running_loop().call_soon(self._wake_later)

    def _wake_later(self) -> None:
        self._wake_scheduled = False
        self._wake_batch()


# --- the response ----------------------------------------------------------------


class SseResponse:
    """An ASGI app sending `chunks` until they end or the client goes away.

    A handler returns it instead of a Litestar `Stream` to own the end of
    the connection: once the server calls it, `on_close` runs exactly once
    whether the chunks ran out, the client disconnected or the server is
    stopping, so a subscriber's seat is not left taken.
    """

    def __init__(
        self, chunks: AsyncIterator[bytes], on_close: Callable[[], None]
    ) -> None:
        self._chunks = chunks
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            start = {"type": "http.response.start", "status": 200}
            await send({**start, "headers": list(_START_HEADERS)})
            async with anyio.create_task_group() as group:
                group.start_soon(_watch_disconnect, receive, group.cancel_scope)
                await self._pump(send)
                group.cancel_scope.cancel()
        finally:
            self._on_close()

    async def _pump(self, send: Send) -> None:
        async for chunk in self._chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _watch_disconnect(receive: Receive, scope: anyio.CancelScope) -> None:
    """Cancel the response when the client disconnects (the only message a
    GET can still receive once its empty body was read)."""
    while (await receive())["type"] != "http.disconnect":
        pass
    logger.debug("SSE client disconnected")
    scope.cancel()
