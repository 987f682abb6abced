"""A service's run events, read from `GET /api/v1/events` (SSE, SPEC §10.10).

`ServiceEventReader` subscribes *before* the run is submitted, exactly as the
local `run` subscribes to its runtime first: once the service's `connected`
message arrived, every later event is on its way, so the new run's first
events cannot be missed. A thread then reads the stream into the same
`RunEventFeed` the local path fills, as `EventRecord`s, and the renderer
cannot tell the two apart.

A stream can end early: the service closes it when the subscriber's buffer
overflows, or the connection breaks. The reader then reconnects, resuming
after the last event id it saw (`Last-Event-ID`, else `since=0`), filtered
to the followed run once its id is known; the service replays from its
durable log with no gap and no duplicate.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import msgspec

from interlace.cli.run_feed import FLOW_END_EVENTS
from interlace.cli.service_client import (
    EventConnection,
    ServiceClient,
    ServiceRequestError,
    ServiceUnreachable,
)

if TYPE_CHECKING:
    from interlace.cli.run_feed import RunEventFeed
    from interlace.state.records import EventRecord

__all__ = ["ServiceEventReader", "SseMessage", "event_record", "read_messages"]

logger = logging.getLogger(__name__)

EVENTS_PATH = "/api/v1/events"
EVENT_TYPES = "flow.*,task.*"
READ_TIMEOUT_S = 75.0
"""Longer than two keepalive periods (30 s by default): a silent stream
past this is taken as broken and resumed."""
RECONNECT_ATTEMPTS = 5
RECONNECT_DELAY_S = 0.5
JOIN_TIMEOUT_S = 5.0


class SseMessage(msgspec.Struct, frozen=True, kw_only=True):
    """One dispatched message; `id` is its own `id:` line (None when absent).

    Browsers keep the last id across messages; here a control message
    (`connected`, `overflow`, ...) keeps `id` None, which is how it is told
    apart from a logged event.
    """

    event: str = "message"
    data: str = ""
    id: str | None = None


def read_messages(lines: Iterable[bytes]) -> Iterator[SseMessage]:
    """Parse `text/event-stream` lines; comments (keepalives) are skipped."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if not line:
            if data or "event" in fields:
                yield SseMessage(
                    event=fields.get("event") or "message",
                    data="\n".join(data),
                    id=fields.get("id"),
                )
            fields, data = {}, []
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name in {"event", "id"}:
            fields[name] = value


def event_record(message: SseMessage) -> EventRecord | None:
    """The logged event a message carries; None (and a warning) if malformed."""
    from interlace.state.records import EventRecord

    try:
        payload = msgspec.json.decode(message.data)
        return msgspec.convert(
            {
                "id": int(message.id or ""),
                "type": message.event,
                "flow_id": payload.get("flow_id"),
                "timestamp": payload.get("timestamp") or _now(),
                "payload": payload,
            },
            EventRecord,
        )
    except (ValueError, AttributeError, msgspec.DecodeError) as exc:
        # msgspec's DecodeError and ValidationError are ValueErrors as well.
        logger.warning("skipping malformed event %s: %s", message.id, exc)
        return None


class ServiceEventReader:
    """Reads the service's run events into `feed` on a thread of its own."""

    def __init__(self, client: ServiceClient, feed: RunEventFeed) -> None:
        self._client = client
        self._feed = feed
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._connection: EventConnection | None = None
        self._thread: threading.Thread | None = None
        self._last_id: int | None = None
        self._resume_now = False
        self.failure: ServiceUnreachable | None = None
        """Set when the stream was lost for good; the run's end is unknown."""

    def start(self) -> None:
        """Subscribe, wait for `connected`, then read on a thread.

        Raises `ServiceRequestError` (401, 403, 503...) or
        `ServiceUnreachable` when the subscription fails.
        """
        query = urlencode({"types": EVENT_TYPES})
        messages = self._connect(f"{EVENTS_PATH}?{query}", {})
        try:
            first = next(messages, None)
        except ServiceUnreachable:
            self.close()
            raise
        if first is None or first.event != "connected":
            self.close()
            raise ServiceUnreachable(
                f"expected `event: connected` first from {self._client.url}"
                f"{EVENTS_PATH}, got {first.event if first else 'end of stream'}"
            )
        self._thread = threading.Thread(
            target=self._pump, args=(messages,), name="interlace-events", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop reading; safe to call more than once and from `start`."""
        self._stop.set()
        with self._lock:
            if self._connection is not None:
                self._connection.abort()
        if self._thread is not None:
            self._thread.join(JOIN_TIMEOUT_S)
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _connect(self, path: str, headers: dict[str, str]) -> Iterator[SseMessage]:
        connection = self._client.open_events(
            path, headers=headers, timeout=READ_TIMEOUT_S
        )
        with self._lock:
            previous, self._connection = self._connection, connection
        if previous is not None:
            previous.close()
        if self._stop.is_set():
            connection.abort()  # `close` ran while this connection opened
        return read_messages(connection.lines())

    def _pump(self, messages: Iterator[SseMessage]) -> None:
        current: Iterator[SseMessage] | None = messages
        while current is not None and not self._follow(current):
            current = self._reconnect()

    def _follow(self, messages: Iterator[SseMessage]) -> bool:
        """Deliver events; True once reading is over (run ended, or stopped)."""
        try:
            for message in messages:
                if self._stop.is_set():
                    return True
                if message.id is None:
                    self._control(message)
                elif self._deliver(message):
                    return True
        except ServiceUnreachable as exc:
            logger.debug("event stream broke: %s", exc)
        return self._stop.is_set()

    def _control(self, message: SseMessage) -> None:
        logger.debug("event stream: %s %s", message.event, message.data)
        # The service is healthy and closes the stream right after this;
        # resuming at once keeps the display close to live.
        self._resume_now = message.event == "overflow"

    def _deliver(self, message: SseMessage) -> bool:
        """Hand one event to the feed; True if it ends the followed run."""
        record = event_record(message)
        if record is None:
            return False
        self._last_id = record.id
        self._feed.deliver([record])
        run_id = self._feed.run_id
        return record.type in FLOW_END_EVENTS and record.flow_id == run_id

    def _reconnect(self) -> Iterator[SseMessage] | None:
        """A resumed stream, or None (with `failure` set unless stopping)."""
        error: Exception | None = None
        for _ in range(RECONNECT_ATTEMPTS):
            delay = 0.0 if self._resume_now else RECONNECT_DELAY_S
            self._resume_now = False
            if self._stop.wait(delay):
                return None
            path, headers = self._resume_request()
            try:
                return self._connect(path, headers)
            except (ServiceUnreachable, ServiceRequestError) as exc:
                logger.debug("event stream: reconnecting failed: %s", exc)
                error = exc
        self.failure = ServiceUnreachable(
            f"Lost the event stream of the service at {self._client.url} "
            f"before the run ended: {error}"
        )
        return None

    def _resume_request(self) -> tuple[str, dict[str, str]]:
        """Resume after the last event seen, else from the log's start;
        only the followed run's events once its id is known."""
        query = {"types": EVENT_TYPES}
        if self._feed.run_id is not None:
            query["flow_id"] = self._feed.run_id
        if self._last_id is None:
            query["since"] = "0"
            return f"{EVENTS_PATH}?{urlencode(query)}", {}
        headers = {"Last-Event-ID": str(self._last_id)}
        return f"{EVENTS_PATH}?{urlencode(query)}", headers


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
