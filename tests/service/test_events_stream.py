"""The SSE subscriber hub and the replay-then-live event stream, in process.

These drive `EventHub` and `EventStream` on an event loop with a real SQLite
state store, so the interleavings that are races over HTTP (an event both in
the log and in the live buffer) can be set up exactly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import msgspec
import pytest

from interlace.service.events import EventFilter, EventHub, EventStream
from interlace.service.metrics import ServiceMetrics
from interlace.service.sse import (
    WAKE_BATCH,
    Ending,
    SubscriberSeats,
    SubscriptionRefused,
)
from interlace.state.records import EventRecord
from interlace.state.sqlite.store import SQLiteStateStore
from interlace.state.writes import AppendEvent

pytestmark = pytest.mark.anyio

ENDPOINT = "/api/v1/events"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStateStore]:
    with SQLiteStateStore(tmp_path / "state.db") as opened:
        yield opened


class StoreLog:
    """`EventLog` over a store, called inline (no bridge needed in tests)."""

    def __init__(self, store: SQLiteStateStore) -> None:
        self.store = store
        self.reads = 0

    async def bounds(self) -> tuple[int | None, int | None]:
        return self.store.event_bounds()

    async def read(self, after_id: int, limit: int) -> list[EventRecord]:
        self.reads += 1
        return self.store.read_events(after_id, limit=limit)


def append(
    store: SQLiteStateStore, count: int, type_: str = "task.running", flow: str = "r1"
) -> list[EventRecord]:
    now = dt.datetime.now(dt.UTC).isoformat()
    writes = [
        AppendEvent(
            type=type_, flow_id=flow, payload={"flow_id": flow, "n": i, "at": now}
        )
        for i in range(count)
    ]
    return store.apply(writes)


def event(
    event_id: int, type_: str = "task.running", flow: str | None = "r1"
) -> EventRecord:
    return EventRecord(
        id=event_id,
        type=type_,
        flow_id=flow,
        timestamp=dt.datetime.now(dt.UTC),
        payload={"flow_id": flow},
    )


def parse(chunk: bytes) -> list[dict[str, Any]]:
    """Split SSE bytes into `{"id", "event", "data", "comment"}` dicts
    (the opening `retry:` frame is left out)."""
    frames = []
    for block in chunk.decode().split("\n\n"):
        if not block:
            continue
        frame: dict[str, Any] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            frame[name or "comment"] = value
        if "data" in frame:
            frame["data"] = msgspec.json.decode(frame["data"])
        if "retry" not in frame:
            frames.append(frame)
    return frames


def make_stream(
    hub: EventHub,
    log: StoreLog,
    *,
    resume_after: int | None = None,
    event_filter: EventFilter | None = None,
) -> AsyncIterator[bytes]:
    event_filter = event_filter or EventFilter()
    subscription = hub.open(ENDPOINT, event_filter.accepts)
    return EventStream(subscription, log, event_filter, resume_after=resume_after)


async def collect(frames: AsyncIterator[bytes], count: int) -> list[dict[str, Any]]:
    """The next `count` SSE frames, failing after one second."""
    seen: list[dict[str, Any]] = []
    with anyio.fail_after(1):
        while len(seen) < count:
            seen.extend(parse(await anext(frames)))
    return seen


def ids(frames: list[dict[str, Any]]) -> list[int]:
    return [int(frame["id"]) for frame in frames if "id" in frame]


def new_hub(
    limit: int = 10, buffer_size: int = 100, keepalive_s: float = 5.0
) -> EventHub:
    return EventHub(
        SubscriberSeats(limit), buffer_size=buffer_size, keepalive_s=keepalive_s
    )


async def test_stream_opens_with_retry_then_connected_without_id(
    store: SQLiteStateStore,
) -> None:
    frames = make_stream(
        new_hub(),
        StoreLog(store),
        event_filter=EventFilter.parse("flow.completed,task.*", "run_a"),
    )

    first = await anext(frames)

    assert first.startswith(b"retry: 3000\n\nevent: connected\n")
    connected = parse(first)[0]
    assert "id" not in connected
    assert connected["data"]["message"] == "Connected to event stream"
    assert connected["data"]["subscribed_types"] == ["flow.completed", "task.*"]
    assert connected["data"]["flow_id"] == "run_a"
    assert connected["data"]["last_event_id"] is None


async def test_filter_matches_exact_types_prefixes_and_flow(
    store: SQLiteStateStore,
) -> None:
    hub = new_hub()
    frames = make_stream(
        hub,
        StoreLog(store),
        event_filter=EventFilter.parse("flow.completed,task.*", "r1"),
    )
    await anext(frames)

    hub.consume(
        [
            event(1, "flow.started"),
            event(2, "task.running"),
            event(3, "task.completed", flow="r2"),
            event(4, "flow.completed"),
            event(5, "task.progress", flow=None),
            event(6, "taskforce.x"),
        ]
    )

    assert ids(await collect(frames, 3)) == [2, 4, 5]


def test_filter_rejects_a_wildcard_that_is_not_a_dotted_prefix() -> None:
    with pytest.raises(ValueError, match=r"prefix ending in `\.\*`, got `task\*`"):
        EventFilter.parse("task*", None)


async def test_replay_then_live_has_no_gap_and_no_duplicate(
    store: SQLiteStateStore,
) -> None:
    hub = new_hub()
    append(store, 3)
    log = StoreLog(store)
    frames = make_stream(hub, log, resume_after=1)
    # Committed before the log is read, delivered live after subscribing:
    # these reach both the replay and the live buffer.
    hub.consume(append(store, 2))

    replayed = await collect(frames, 5)
    hub.consume(append(store, 2))
    live = await collect(frames, 2)

    assert ids(replayed + live) == list(range(2, 8))
    assert replayed[1]["data"]["n"] == 1


async def test_replay_pages_through_a_long_log(store: SQLiteStateStore) -> None:
    append(store, 1200)
    log = StoreLog(store)
    frames = make_stream(new_hub(), log, resume_after=0)

    seen = await collect(frames, 1201)

    assert ids(seen) == list(range(1, 1201))
    assert log.reads == 3


async def test_resume_older_than_the_retained_log_yields_reset_then_all(
    store: SQLiteStateStore,
) -> None:
    append(store, 10)
    store.prune_events(None, max_rows=4)

    seen = await collect(make_stream(new_hub(), StoreLog(store), resume_after=2), 6)

    reset = seen[1]
    assert reset["event"] == "reset"
    assert "id" not in reset
    assert reset["data"]["requested_id"] == 2
    assert reset["data"]["oldest_id"] == 7
    assert ids(seen) == [7, 8, 9, 10]


async def test_resume_just_before_the_oldest_event_is_not_a_reset(
    store: SQLiteStateStore,
) -> None:
    append(store, 10)
    store.prune_events(None, max_rows=4)

    seen = await collect(make_stream(new_hub(), StoreLog(store), resume_after=6), 5)

    assert [frame.get("event") for frame in seen][1:] == ["task.running"] * 4
    assert ids(seen) == [7, 8, 9, 10]


async def test_resume_beyond_the_head_continues_with_live_events(
    store: SQLiteStateStore,
) -> None:
    hub = new_hub()
    append(store, 3)
    frames = make_stream(hub, StoreLog(store), resume_after=999)
    await anext(frames)

    hub.consume(append(store, 1))

    assert ids(await collect(frames, 1)) == [4]


async def test_idle_stream_sends_keepalive_comments(store: SQLiteStateStore) -> None:
    frames = make_stream(new_hub(keepalive_s=0.02), StoreLog(store))
    await anext(frames)

    seen = await collect(frames, 2)

    assert seen == [{"comment": "keepalive"}, {"comment": "keepalive"}]


async def test_overflow_drops_the_buffer_and_ends_with_overflow(
    store: SQLiteStateStore,
) -> None:
    hub = new_hub(buffer_size=2)
    frames = make_stream(hub, StoreLog(store))
    await anext(frames)
    hub.consume([event(1)])

    hub.consume([event(2), event(3)])
    seen = await collect(frames, 1)

    assert [frame["event"] for frame in seen] == ["overflow"]
    assert seen[0]["data"]["buffer_size"] == 2
    assert seen[0]["data"]["last_event_id"] is None
    with pytest.raises(StopAsyncIteration):
        await anext(frames)


async def test_overflowed_subscriber_does_not_slow_the_others(
    store: SQLiteStateStore,
) -> None:
    hub = new_hub(buffer_size=2)
    slow = make_stream(hub, StoreLog(store))
    fast = make_stream(hub, StoreLog(store))
    await anext(slow)
    await anext(fast)

    for event_id in range(1, 11):
        hub.consume([event(event_id)])
        await collect(fast, 1)

    assert parse(await anext(slow))[0]["event"] == "overflow"


async def test_shutdown_sends_buffered_events_then_shutdown(
    store: SQLiteStateStore,
) -> None:
    hub = new_hub()
    frames = make_stream(hub, StoreLog(store))
    await anext(frames)

    hub.consume([event(1), event(2)])
    hub.end_all(Ending.SHUTDOWN)
    seen = await collect(frames, 3)

    assert [frame["event"] for frame in seen] == [
        "task.running",
        "task.running",
        "shutdown",
    ]
    assert "id" not in seen[2]


async def test_seats_refuse_beyond_the_limit_and_free_on_close() -> None:
    metrics = ServiceMetrics()
    seats = SubscriberSeats(2, metrics.sse_subscribers)
    hub = EventHub(seats, buffer_size=10, keepalive_s=5.0)
    first = hub.open(ENDPOINT, EventFilter().accepts)
    hub.open(ENDPOINT, EventFilter().accepts)

    with pytest.raises(SubscriptionRefused, match="2 SSE connections"):
        hub.open(ENDPOINT, EventFilter().accepts)
    first.close()
    first.close()
    hub.open(ENDPOINT, EventFilter().accepts)

    assert hub.seats.count == 2
    assert 'interlace_sse_subscribers{endpoint="/api/v1/events"} 2' in metrics.render()


async def test_readers_not_yet_woken_take_a_burst_in_one_wake() -> None:
    hub = new_hub(limit=3 * WAKE_BATCH)
    subscriptions = [
        hub.open(ENDPOINT, EventFilter().accepts) for _ in range(2 * WAKE_BATCH + 1)
    ]
    takes: list[list[list[int]]] = [[] for _ in subscriptions]

    async def read(index: int) -> None:
        while sum(map(len, takes[index])) < 2:
            taken = await subscriptions[index].take()
            takes[index].append([delivery.id for delivery in taken.deliveries])

    async with anyio.create_task_group() as readers:
        for index in range(len(subscriptions)):
            readers.start_soon(read, index)
        await anyio.sleep(0.01)
        hub.consume([event(1)])
        # One loop turn: the first WAKE_BATCH readers run, the next are woken.
        await asyncio.sleep(0)
        hub.consume([event(2)])

    assert all(taken == [[1], [2]] for taken in takes[:WAKE_BATCH])
    assert all(taken == [[1, 2]] for taken in takes[WAKE_BATCH:])
