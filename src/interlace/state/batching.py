"""`BatchingWriter`: group state writes from many threads into few commits.

Each commit of the state store waits for the disk (`synchronous=FULL`), so
committing every write on its own would cap throughput at a few hundred
writes per second. The writer thread instead applies whatever has queued up
since its previous commit as one batch ("group commit"). There is no timed
window: an idle writer wakes as soon as a write arrives and adds only a
thread wake-up of latency, while under load the batch grows by itself with
the time one commit takes, up to `max_batch` writes.

The queue is unbounded so that `submit` never blocks an actor. The price:
if the disk stalls, writes pile up in memory (a few hundred bytes each)
until it recovers; `flush` with a timeout is how a caller notices.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence

from interlace.errors import StateStoreError
from interlace.state.records import EventRecord
from interlace.state.store import StateStore
from interlace.state.writes import (
    AppendEvent,
    AppendTaskLogs,
    InsertRun,
    SaveModelState,
    UpdateRun,
    UpdateTask,
    Write,
)

__all__ = ["BatchingWriter"]

logger = logging.getLogger(__name__)


class BatchingWriter:
    """Apply submitted writes in batches on a dedicated thread.

    Writes are applied in submission order. After each batch `on_events` is
    called on the writer thread with the events it appended (in order; not
    called when there are none). A batch that fails is logged and retried one
    write at a time, so a single bad write costs only itself; writes that
    still fail are dropped, logged at ERROR and counted in `dropped_count`.

    The thread starts with the writer and is a daemon so that a forgotten
    writer cannot hang interpreter exit; `close` it at shutdown, or writes
    still queued then are lost.
    """

    def __init__(
        self,
        store: StateStore,
        on_events: Callable[[list[EventRecord]], None],
        *,
        max_batch: int = 5000,
    ) -> None:
        self._store = store
        self._on_events = on_events
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._has_work = threading.Condition(self._lock)
        self._progress = threading.Condition(self._lock)
        self._queue: collections.deque[Write] = collections.deque()
        self._submitted = 0
        self._processed = 0
        self._dropped = 0
        self._batches = 0
        self._closing = False
        self._thread = threading.Thread(
            target=self._run, name="interlace-state-writer", daemon=True
        )
        self._thread.start()

    @property
    def dropped_count(self) -> int:
        """Writes given up after failing on their own; see the ERROR log."""
        with self._lock:
            return self._dropped

    @property
    def batch_count(self) -> int:
        """Batches applied so far (one store transaction each, when healthy)."""
        with self._lock:
            return self._batches

    def submit(self, write: Write) -> None:
        """Queue one write; returns at once."""
        self.submit_many((write,))

    def submit_many(self, writes: Iterable[Write]) -> None:
        """Queue writes that will be applied in this order; returns at once."""
        with self._lock:
            if self._closing:
                raise StateStoreError(
                    "the `BatchingWriter` is closed; it accepts no more writes"
                )
            before = len(self._queue)
            self._queue.extend(writes)
            self._submitted += len(self._queue) - before
            self._has_work.notify()

    def flush(self, timeout: float) -> None:
        """Block until every write submitted before this call was processed.

        Processed means durable, or dropped and logged. Raises `TimeoutError`
        after `timeout` seconds.
        """
        if threading.current_thread() is self._thread:
            raise RuntimeError(
                "`BatchingWriter.flush` was called from `on_events`; the writer "
                "thread cannot wait for itself"
            )
        with self._lock:
            target = self._submitted
            done = self._progress.wait_for(lambda: self._processed >= target, timeout)
            if not done:
                raise TimeoutError(
                    f"state writes not durable after {timeout}s: "
                    f"{target - self._processed} of them still queued or applying"
                )

    def close(self, timeout: float) -> None:
        """Apply everything queued, then stop the writer thread.

        Raises `TimeoutError` if that takes longer than `timeout` seconds.
        Closing again is harmless.
        """
        deadline = time.monotonic() + timeout
        with self._lock:
            self._closing = True
            self._has_work.notify()
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            with self._lock:
                pending = self._submitted - self._processed
            raise TimeoutError(
                f"the state writer did not finish within {timeout}s; "
                f"{pending} writes still queued or applying"
            )

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            dropped = self._write(batch)
            with self._lock:
                self._processed += len(batch)
                self._dropped += dropped
                self._batches += 1
                self._progress.notify_all()

    def _next_batch(self) -> list[Write] | None:
        """Wait for writes; None once closing and drained."""
        with self._lock:
            while not self._queue and not self._closing:
                self._has_work.wait()
            if not self._queue:
                return None
            size = min(len(self._queue), self._max_batch)
            return [self._queue.popleft() for _ in range(size)]

    def _write(self, batch: list[Write]) -> int:
        """Apply a batch and publish its events; returns the writes dropped."""
        try:
            events = self._store.apply(batch)
        except Exception as exc:
            logger.error(
                "state batch of %d writes failed; retrying them one by one",
                len(batch),
                exc_info=exc,
            )
            events, dropped = self._write_one_by_one(batch)
        else:
            dropped = 0
        if events:
            self._publish(events)
        return dropped

    def _write_one_by_one(
        self, batch: Sequence[Write]
    ) -> tuple[list[EventRecord], int]:
        events: list[EventRecord] = []
        dropped = 0
        for write in batch:
            try:
                events.extend(self._store.apply([write]))
            except Exception as exc:
                dropped += 1
                logger.error(
                    "dropped state write %s: %s", _describe(write), exc, exc_info=exc
                )
        return events, dropped

    def _publish(self, events: list[EventRecord]) -> None:
        try:
            self._on_events(events)
        except Exception:
            # The writes are durable; a failing listener must not stop the
            # writer or make the events look lost (readers replay the log).
            logger.exception("`on_events` failed for %d events", len(events))

    def __enter__(self) -> BatchingWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(timeout=30.0)


def _describe(write: Write) -> str:
    """A short identification of a write for the log, without its payload."""
    match write:
        case InsertRun():
            key = write.run.run_id
        case UpdateRun():
            key = write.run_id
        case UpdateTask():
            key = write.task_id
        case SaveModelState():
            key = write.state.model_name
        case AppendEvent():
            key = write.type
        case AppendTaskLogs():
            key = f"{len(write.lines)} lines"
        case _:
            key = str(getattr(write, "model_name", getattr(write, "key", "")))
    return f"`{type(write).__name__}` ({key})"
