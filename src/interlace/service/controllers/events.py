"""`GET /api/v1/events`: run and task events as Server-Sent Events (§10.10).

The controller only reads the request: `EventHub` owns the subscriptions,
`EventStream` replay and live delivery (`interlace.service.events`), and
`SseResponse` the connection (`interlace.service.sse`). The service's one
hub is created on the first subscription, after the runtime started, and
hooked into the event relay and the shutdown drain then.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, HeaderParameter, QueryParameter

from interlace.service.events import EventFilter, EventHub, EventStream
from interlace.service.gateway import RuntimeGateway
from interlace.service.problems import service_unavailable, validation_error
from interlace.service.sse import (
    SSE_MEDIA_TYPE,
    Ending,
    SseResponse,
    SubscriberSeats,
    SubscriptionRefused,
)
from interlace.service.state import ServiceState
from interlace.state.records import EventRecord

__all__ = ["ENDPOINT", "EventsController", "event_hub", "subscriber_seats"]

ENDPOINT = "/api/v1/events"
MIN_KEEPALIVE_S = 0.05
"""A floor for `service.sse.keepalive_seconds`: 0 would spin the loop."""

_seats: weakref.WeakKeyDictionary[ServiceState, SubscriberSeats] = (
    weakref.WeakKeyDictionary()
)
_hubs: weakref.WeakKeyDictionary[ServiceState, EventHub] = weakref.WeakKeyDictionary()
_pending: set[asyncio.Future[None]] = set()
"""Scheduled endings, referenced until done (the loop keeps weak refs only)."""


class EventsController(Controller):
    path = ENDPOINT
    tags = ["events"]

    @get(
        "/",
        summary="Run, task and stream events as Server-Sent Events",
        description=(
            "Replays logged events after `Last-Event-ID` (else `since`), then "
            "streams live ones; `types` accepts `task.*` prefixes."
        ),
        media_type=SSE_MEDIA_TYPE,
    )
    async def events(
        self,
        service: NamedDependency[ServiceState],
        gateway: NamedDependency[RuntimeGateway],
        flow_id: FromQuery[str | None] = None,
        types: FromQuery[str | None] = None,
        since: Annotated[int | None, QueryParameter(ge=0)] = None,
        last_event_id: Annotated[
            str | None, HeaderParameter(name="Last-Event-ID", required=False)
        ] = None,
    ) -> SseResponse:
        event_filter = _event_filter(types, flow_id)
        resume_after = _resume_point(last_event_id, since)
        try:
            subscription = event_hub(service).open(ENDPOINT, event_filter.accepts)
        except SubscriptionRefused as exc:
            raise service_unavailable(str(exc)) from exc
        stream = EventStream(
            subscription,
            _GatewayLog(gateway),
            event_filter,
            resume_after=resume_after,
        )
        return SseResponse(stream, subscription.close)


def subscriber_seats(state: ServiceState) -> SubscriberSeats:
    """The `max_subscribers` budget every SSE endpoint of `state` shares."""
    seats = _seats.get(state)
    if seats is None:
        limit = state.settings.sse.max_subscribers
        seats = _seats[state] = SubscriberSeats(limit, state.metrics.sse_subscribers)
    return seats


def event_hub(state: ServiceState) -> EventHub:
    """The service's event hub, created and wired on first use."""
    hub = _hubs.get(state)
    if hub is not None:
        return hub
    if state.relay is None:
        raise service_unavailable("The service is starting; retry shortly")
    settings = state.settings.sse
    hub = EventHub(
        subscriber_seats(state),
        buffer_size=settings.buffer_size,
        keepalive_s=max(settings.keepalive_seconds, MIN_KEEPALIVE_S),
    )
    state.relay.add(hub.consume)
    state.on_drain.append(lambda drained: _end_after_drain(drained, hub))
    _hubs[state] = hub
    return hub


async def _end_after_drain(state: ServiceState, hub: EventHub) -> None:
    """An `on_drain` hook: subscribers keep following runs through the grace
    period and get `event: shutdown` once the drain is over (SPEC §12 step 4).

    Drain hooks run when the drain *starts*, so this one only schedules the
    ending. It wakes with the server's own step that stops granian (both
    wait for the drain); the frames are written while the lifespan stops the
    runtime, before the process exits. A hook list run at the *end* of the
    drain would state that order instead of relying on it.
    """
    drain_task = state.drain_task

    async def end() -> None:
        if drain_task is not None:
            # `wait` neither cancels the drain nor raises its error (the
            # server logs that); the streams end whatever the outcome.
            await asyncio.wait([drain_task])
        hub.end_all(Ending.SHUTDOWN)

    ending = asyncio.ensure_future(end())
    _pending.add(ending)
    ending.add_done_callback(_pending.discard)


class _GatewayLog:
    """The durable event log, read through the bridge."""

    def __init__(self, gateway: RuntimeGateway) -> None:
        self._gateway = gateway

    async def bounds(self) -> tuple[int | None, int | None]:
        return await self._gateway.event_bounds()

    async def read(self, after_id: int, limit: int) -> list[EventRecord]:
        return await self._gateway.read_events(after_id, limit)


def _event_filter(types: str | None, flow_id: str | None) -> EventFilter:
    try:
        return EventFilter.parse(types, flow_id)
    except ValueError as exc:
        message = str(exc)
        raise validation_error(
            f"Invalid query parameter `types`: {message}",
            [{"path": "query.types", "message": message}],
        ) from exc


def _resume_point(last_event_id: str | None, since: int | None) -> int | None:
    """`Last-Event-ID` wins over `since`; both name the last event seen."""
    if last_event_id is None or not last_event_id.strip():
        return since
    text = last_event_id.strip()
    if not (text.isascii() and text.isdigit()):
        message = f"expected a non-negative event id, got {text!r}"
        raise validation_error(
            f"Invalid header `Last-Event-ID`: {message}",
            [{"path": "header.Last-Event-ID", "message": message}],
        )
    return int(text)
