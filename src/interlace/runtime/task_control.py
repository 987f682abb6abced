"""The handle through which a task actor stops work on a worker thread."""

from __future__ import annotations

import threading
from typing import Protocol

__all__ = ["TaskControl"]

_REINTERRUPT_SECONDS = 0.05


class _Interruptible(Protocol):
    def interrupt(self) -> None: ...


class TaskControl:
    """Shared by a task actor (which cancels) and its worker (which checks).

    DuckDB's `interrupt()` only stops a query that is already executing, so a
    cancel that lands between two statements would be lost. After a cancel we
    therefore keep interrupting the worker's connection until the work ends.
    """

    def __init__(self) -> None:
        self._cancelled = threading.Event()
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._connection: _Interruptible | None = None
        self.timed_out = False

    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def attach(self, connection: _Interruptible) -> None:
        with self._lock:
            self._connection = connection

    def detach(self) -> None:
        with self._lock:
            self._connection = None

    def finish(self) -> None:
        self._finished.set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True when cancelled meanwhile."""
        return self._cancelled.wait(seconds)

    def cancel(self, *, timed_out: bool = False) -> None:
        if self._cancelled.is_set() or self._finished.is_set():
            return
        self.timed_out = timed_out
        self._cancelled.set()
        threading.Thread(
            target=self._interrupt_until_finished,
            name="interlace-interrupt",
            daemon=True,
        ).start()

    def _interrupt_until_finished(self) -> None:
        while not self._finished.is_set():
            with self._lock:
                if self._connection is not None:
                    self._connection.interrupt()
            self._finished.wait(_REINTERRUPT_SECONDS)
