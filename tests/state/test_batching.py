from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from interlace.errors import StateStoreError
from interlace.state.batching import BatchingWriter
from interlace.state.records import EventRecord
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import AppendEvent, InsertRun, UpdateTask, Write
from tests.state.factories import make_run, make_task

TIMEOUT = 10.0


class RecordingStore(SQLiteStateStore):
    """A real SQLite store that records the size of every `apply` call and
    can hold batches back until the test opens its gate."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batch_sizes: list[int] = []
        self.gate = threading.Event()
        self.gate.set()

    def apply(self, writes: Sequence[Write]) -> list[EventRecord]:
        self.gate.wait(TIMEOUT)
        self.batch_sizes.append(len(writes))
        return super().apply(writes)


class Collected:
    def __init__(self) -> None:
        self.events: list[EventRecord] = []

    def __call__(self, events: list[EventRecord]) -> None:
        self.events.extend(events)


@pytest.fixture
def recording(state_path: Path) -> Iterator[RecordingStore]:
    store = RecordingStore(state_path)
    yield store
    store.gate.set()
    store.close()


@pytest.fixture
def collected() -> Collected:
    return Collected()


def event(number: int) -> AppendEvent:
    return AppendEvent(type="task.ready", flow_id="run_1", payload={"n": number})


def test_concurrent_submits_share_few_transactions(
    recording: RecordingStore, collected: Collected
) -> None:
    writer = BatchingWriter(recording, collected)

    def produce(thread: int) -> None:
        for n in range(250):
            writer.submit(event(thread * 1000 + n))

    producers = [threading.Thread(target=produce, args=(t,)) for t in range(8)]
    for producer in producers:
        producer.start()
    for producer in producers:
        producer.join()
    writer.close(TIMEOUT)

    assert sum(recording.batch_sizes) == 2000
    assert len(recording.batch_sizes) < 2000 / 4
    assert len(recording.read_events(0, limit=5000)) == 2000


def test_each_producer_s_writes_keep_their_order(
    recording: RecordingStore, collected: Collected
) -> None:
    writer = BatchingWriter(recording, collected)

    def produce(thread: int) -> None:
        for n in range(100):
            writer.submit(event(thread * 1000 + n))

    producers = [threading.Thread(target=produce, args=(t,)) for t in range(4)]
    for producer in producers:
        producer.start()
    for producer in producers:
        producer.join()
    writer.close(TIMEOUT)

    numbers = [e.payload["n"] for e in collected.events]
    for thread in range(4):
        mine = [n for n in numbers if n // 1000 == thread]
        assert mine == sorted(mine) and len(mine) == 100


def test_on_events_receives_the_appended_events_with_ids_in_order(
    recording: RecordingStore, collected: Collected
) -> None:
    writer = BatchingWriter(recording, collected)

    writer.submit_many([event(1), InsertRun(run=make_run(), tasks=[]), event(2)])
    writer.submit(event(3))
    writer.flush(TIMEOUT)

    assert [e.payload["n"] for e in collected.events] == [1, 2, 3]
    assert collected.events == recording.read_events(0, limit=10)
    writer.close(TIMEOUT)


def test_flushed_writes_are_durable_for_a_freshly_opened_store(
    recording: RecordingStore, collected: Collected, state_path: Path
) -> None:
    writer = BatchingWriter(recording, collected)
    writer.submit(InsertRun(run=make_run(), tasks=[make_task()]))
    writer.submit(UpdateTask(task_id="task_000000000001", changes={"status": "ready"}))

    writer.flush(TIMEOUT)

    with SQLiteStateStore(state_path) as fresh:
        task = fresh.get_task("task_000000000001")
    assert task is not None and task.status == "ready"
    writer.close(TIMEOUT)


def test_a_bad_write_is_dropped_without_losing_the_rest_of_its_batch(
    recording: RecordingStore,
    collected: Collected,
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = BatchingWriter(recording, collected)
    bad = UpdateTask(task_id="task_missing", changes={"status": "ready"})

    with caplog.at_level(logging.ERROR, logger="interlace.state.batching"):
        writer.submit_many(
            [InsertRun(run=make_run(), tasks=[]), event(1), bad, event(2)]
        )
        writer.flush(TIMEOUT)

    assert writer.dropped_count == 1
    assert recording.get_run("run_000000000001") is not None
    assert [e.payload["n"] for e in collected.events] == [1, 2]
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("batch of 4 writes failed" in m for m in messages)
    assert any("`UpdateTask` (task_missing)" in m for m in messages)
    writer.close(TIMEOUT)


def test_a_failing_listener_does_not_stop_the_writer(
    recording: RecordingStore, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(events: list[EventRecord]) -> None:
        raise RuntimeError("listener bug")

    writer = BatchingWriter(recording, explode)

    with caplog.at_level(logging.ERROR, logger="interlace.state.batching"):
        writer.submit(event(1))
        writer.flush(TIMEOUT)
        writer.submit(event(2))
        writer.flush(TIMEOUT)

    assert len(recording.read_events(0, limit=10)) == 2
    assert writer.dropped_count == 0
    assert any("`on_events` failed" in r.getMessage() for r in caplog.records)
    writer.close(TIMEOUT)


def test_a_batch_never_exceeds_max_batch(
    recording: RecordingStore, collected: Collected
) -> None:
    writer = BatchingWriter(recording, collected, max_batch=10)
    recording.gate.clear()
    writer.submit(event(0))  # the writer picks this up and waits at the gate

    writer.submit_many([event(n) for n in range(1, 36)])
    recording.gate.set()
    writer.close(TIMEOUT)

    assert sum(recording.batch_sizes) == 36
    assert max(recording.batch_sizes) == 10


def test_flush_times_out_while_writes_are_stuck(
    recording: RecordingStore, collected: Collected
) -> None:
    writer = BatchingWriter(recording, collected)
    recording.gate.clear()
    writer.submit(event(1))

    with pytest.raises(TimeoutError, match="not durable after 0.05s"):
        writer.flush(0.05)

    recording.gate.set()
    writer.flush(TIMEOUT)
    writer.close(TIMEOUT)


def test_close_applies_queued_writes_and_then_refuses_new_ones(
    recording: RecordingStore, collected: Collected
) -> None:
    writer = BatchingWriter(recording, collected)
    writer.submit_many([event(n) for n in range(50)])

    writer.close(TIMEOUT)

    assert len(recording.read_events(0, limit=100)) == 50
    with pytest.raises(StateStoreError, match="closed"):
        writer.submit(event(51))


def test_submit_does_not_wait_for_a_slow_store(
    recording: RecordingStore, collected: Collected
) -> None:
    writer = BatchingWriter(recording, collected)
    recording.gate.clear()
    writer.submit(event(0))

    for n in range(1, 1000):
        writer.submit(event(n))
    applied_while_submitting = list(recording.batch_sizes)

    recording.gate.set()
    writer.close(TIMEOUT)
    assert applied_while_submitting == []
    assert len(recording.read_events(0, limit=2000)) == 1000
