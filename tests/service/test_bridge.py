"""The bridge: deadlines on blocking calls and events handed to the loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import anyio
import pytest

from interlace.service import bridge
from interlace.state.records import EventRecord

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def test_a_blocking_call_runs_off_the_loop_thread() -> None:
    async def run() -> tuple[str, str]:
        loop_thread = threading.current_thread().name
        worker = await bridge.call(lambda: threading.current_thread().name)
        return loop_thread, worker

    loop_thread, worker = anyio.run(run)

    assert worker != loop_thread


def test_a_call_past_its_deadline_raises_bridge_timeout() -> None:
    release = threading.Event()

    async def run() -> None:
        await bridge.call(release.wait, 5, timeout=0.05)

    started = time.monotonic()
    with pytest.raises(bridge.BridgeTimeout, match="did not answer within 0.05 s"):
        anyio.run(run)
    release.set()

    assert time.monotonic() - started < 2


def test_the_relay_delivers_batches_from_another_thread_on_the_loop() -> None:
    async def run() -> tuple[list[int], bool]:
        loop = asyncio.get_running_loop()
        relay = bridge.LoopRelay(loop)
        received: list[int] = []
        on_loop: list[bool] = []
        done = asyncio.Event()

        def consume(events: list[EventRecord]) -> None:
            on_loop.append(asyncio.get_running_loop() is loop)
            received.extend(event.id for event in events)
            done.set()

        relay.add(consume)
        batch = [
            EventRecord(
                id=7, type="flow.started", flow_id="r", timestamp=NOW, payload={}
            )
        ]
        threading.Thread(target=relay.deliver, args=(batch,)).start()
        await asyncio.wait_for(done.wait(), 5)
        return received, all(on_loop)

    received, on_loop = asyncio.run(run())

    assert received == [7]
    assert on_loop is True


def test_a_failing_consumer_is_removed_and_others_still_receive() -> None:
    async def run() -> tuple[int, list[int]]:
        relay = bridge.LoopRelay(asyncio.get_running_loop())
        received: list[int] = []

        def broken(events: list[EventRecord]) -> None:
            raise ValueError("boom")

        relay.add(broken)
        relay.add(lambda events: received.extend(e.id for e in events))
        relay.deliver(
            [EventRecord(id=1, type="t", flow_id=None, timestamp=NOW, payload={})]
        )
        await asyncio.sleep(0.01)
        return relay.consumer_count, received

    count, received = asyncio.run(run())

    assert count == 1
    assert received == [1]
