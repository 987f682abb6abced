"""Ctrl-C handling for long commands: cancel first, exit at once second.

The handler only records the first SIGINT; the command's loop notices it and
asks the runtime to cancel, then keeps rendering until the run ends. A second
SIGINT leaves immediately with status 130 without waiting for workers:
the state store then still shows the run open, and the next start-up's crash
recovery closes it (SPEC §5.6).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from interlace.cli.console import console

__all__ = ["InterruptGuard", "exit_now"]

EXIT_INTERRUPTED = 130


def exit_now() -> None:
    """Flush what was printed, then end the process without clean-up."""
    console.show_cursor(True)  # a live table hides it while it redraws
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    os._exit(EXIT_INTERRUPTED)


class InterruptGuard:
    """Replaces the SIGINT handler while active (main thread only)."""

    def __init__(self, on_second: Callable[[], None] = exit_now) -> None:
        self._on_second = on_second
        self._previous: Any = None
        self._installed = False
        self.interrupted = False

    def __enter__(self) -> InterruptGuard:
        # Signal handlers can only be set from the main thread; elsewhere
        # (e.g. a CLI invoked from a worker thread) Ctrl-C is not ours.
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.interrupted:
            self._on_second()
            return
        self.interrupted = True
