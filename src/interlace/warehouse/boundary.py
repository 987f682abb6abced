"""The one place where DuckDB exceptions become Interlace errors.

Warehouse code runs DuckDB statements inside `duckdb_errors(...)`; a
`duckdb.Error` leaving the block is re-raised as the Interlace error the
caller asked for, with the original chained (`raise ... from exc`). An
interrupt (`connection.interrupt()` from the cancelling thread) always becomes
`TaskCancelled`, whatever the block was doing.

`write_transaction` wraps every write of a task in BEGIN ... COMMIT on the
task cursor, so that a failure or a cancellation leaves the target unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import duckdb

from interlace.errors import (
    InterlaceError,
    TaskCancelled,
    TaskError,
    WarehouseError,
)

__all__ = [
    "check_cancelled",
    "duckdb_errors",
    "first_row",
    "translate",
    "write_transaction",
]

logger = logging.getLogger(__name__)


def translate(
    exc: duckdb.Error,
    *,
    model: str | None,
    action: str,
    error: type[InterlaceError] = WarehouseError,
) -> InterlaceError:
    """The Interlace error for a DuckDB error raised while doing `action`."""
    where = f"Model '{model}': " if model else ""
    if isinstance(exc, duckdb.InterruptException):
        return TaskCancelled(f"{where}cancelled while {action}", model=model)
    message = f"{where}{action} failed: {_describe(exc)}"
    if issubclass(error, TaskError):
        return error(message, model=model)
    return error(message)


@contextmanager
def duckdb_errors(
    *,
    model: str | None,
    action: str,
    error: type[InterlaceError] = WarehouseError,
) -> Iterator[None]:
    """Translate any `duckdb.Error` raised in the block (see `translate`)."""
    try:
        yield
    except duckdb.Error as exc:
        raise translate(exc, model=model, action=action, error=error) from exc


def first_row(
    cursor: duckdb.DuckDBPyConnection,
    statement: str,
    parameters: dict[str, Any] | None = None,
) -> tuple[Any, ...] | None:
    """The first row of a statement's result, or None.

    The whole result is fetched: in DuckDB 2.0 a result that was not read to
    the end blocks relation methods (`to_arrow_table`, ...) on the same
    cursor with "connection has an unfinished result".
    """
    rows = cursor.execute(statement, parameters).fetchall()
    return rows[0] if rows else None


def check_cancelled(cancelled: Callable[[], bool], model: str | None) -> None:
    """Raise `TaskCancelled` when the run was cancelled."""
    if cancelled():
        where = f"Model '{model}' was" if model else "Task"
        raise TaskCancelled(f"{where} cancelled", model=model)


@contextmanager
def write_transaction(
    cursor: duckdb.DuckDBPyConnection,
    *,
    model: str,
    cancelled: Callable[[], bool],
    error: type[InterlaceError],
) -> Iterator[None]:
    """BEGIN on entry, COMMIT on success, ROLLBACK on any exception.

    Cancellation is checked once more just before COMMIT: a cancel that
    arrives while the last statement runs must still leave the target as it
    was, because the run will report the task as cancelled.
    """
    with duckdb_errors(model=model, action="starting the write", error=error):
        cursor.execute("BEGIN TRANSACTION")
    try:
        with duckdb_errors(model=model, action="writing the result", error=error):
            yield
            check_cancelled(cancelled, model)
            cursor.execute("COMMIT")
    except BaseException:
        _rollback(cursor, model)
        raise


def _rollback(cursor: duckdb.DuckDBPyConnection, model: str) -> None:
    try:
        cursor.execute("ROLLBACK")
    except duckdb.Error as exc:
        # An interrupted or failed statement may already have aborted the
        # transaction; nothing was committed either way.
        logger.debug("rollback for %s reported: %s", model, exc)


def _describe(exc: BaseException) -> str:
    return str(exc).strip() or type(exc).__name__
