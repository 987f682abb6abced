"""Capture what a task logs and prints, line by line, into the state store.

Capture is per worker thread: while a task executes, log records emitted on
its thread and text it writes to stdout or stderr are recorded for that task
(up to `executor.task_log_max_lines`) and still reach their usual handlers and
streams. Threads the model starts itself are not captured.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from interlace.state.ids import utc_now
from interlace.state.records import TaskLogRecord
from interlace.state.writes import AppendTaskLogs, UpdateTask, Write

__all__ = ["TaskLogCapture", "capturing", "install_capture"]

_local = threading.local()
_install_lock = threading.Lock()
_installed = False


class TaskLogCapture:
    """The captured lines of one task; `sink` receives writes for the store."""

    def __init__(
        self, task_id: str, max_lines: int, sink: Callable[[list[Write]], None]
    ) -> None:
        self.task_id = task_id
        self.max_lines = max_lines
        self.lines = 0
        self.truncated = False
        self._sink = sink

    def add(self, level: str, logger: str, stream: str, message: str) -> None:
        if self.lines >= self.max_lines:
            self.truncated = True
            return
        self.lines += 1
        record = TaskLogRecord(
            task_id=self.task_id,
            line=self.lines,
            timestamp=utc_now(),
            level=level,
            logger=logger,
            stream=stream,
            message=message,
        )
        self._sink([AppendTaskLogs(lines=[record])])

    def close(self) -> None:
        """Record how many lines were kept, and whether some were dropped."""
        metadata = {"log_lines": self.lines, "logs_truncated": self.truncated}
        self._sink([UpdateTask(task_id=self.task_id, changes={"metadata": metadata})])


@contextmanager
def capturing(capture: TaskLogCapture) -> Iterator[None]:
    """Capture this thread's logs and prints into `capture` while inside."""
    install_capture()
    _local.capture = capture
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            if isinstance(stream, _StreamTee):
                stream.flush_partial()
        _local.capture = None
        capture.close()


def _current() -> TaskLogCapture | None:
    return getattr(_local, "capture", None)


class _CaptureHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        capture = _current()
        if capture is None:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            capture.add(record.levelname, record.name, "log", message)
        except Exception:  # noqa: BLE001 - handlers report through handleError
            self.handleError(record)


class _StreamTee:
    """Forwards to the real stream and copies complete lines to the capture."""

    def __init__(self, original: TextIO, name: str) -> None:
        self._original = original
        self._name = name

    def write(self, text: str) -> int:
        written = self._original.write(text)
        capture = _current()
        if capture is not None:
            pending = getattr(_local, self._name, "") + text
            *lines, rest = pending.split("\n")
            for line in lines:
                capture.add("INFO", self._name, self._name, line)
            setattr(_local, self._name, rest)
        return written

    def flush_partial(self) -> None:
        rest = getattr(_local, self._name, "")
        capture = _current()
        if rest and capture is not None:
            capture.add("INFO", self._name, self._name, rest)
        setattr(_local, self._name, "")

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._original, attribute)


def install_capture() -> None:
    """Install the log handler once, and the stream tees where missing.

    The tees are checked on every capture because test runners and embedding
    applications may swap `sys.stdout` back; wrapping whatever stream is
    current keeps their output working.
    """
    global _installed
    with _install_lock:
        if not _installed:
            logging.getLogger().addHandler(_CaptureHandler())
            models = logging.getLogger("interlace.models")
            if models.level == logging.NOTSET:
                # Model loggers default to INFO so that their records exist to
                # be captured even when the console shows only warnings.
                models.setLevel(logging.INFO)
            _installed = True
        if not isinstance(sys.stdout, _StreamTee):
            sys.stdout = _StreamTee(sys.stdout, "stdout")
        if not isinstance(sys.stderr, _StreamTee):
            sys.stderr = _StreamTee(sys.stderr, "stderr")
