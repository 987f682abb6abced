"""Apply a batch of write operations on an open SQLite transaction.

Consecutive writes of the same shape (same operation, same changed fields)
are grouped and sent with one `executemany`, which keeps a batch of a
thousand small writes within a few milliseconds. Grouping only consecutive
writes preserves the batch's order, so an update may follow the insert of
the row it updates.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from interlace.errors import StateStoreError
from interlace.state.ids import iso_utc
from interlace.state.records import EventRecord, RunRecord, TaskRecord
from interlace.state.sqlite.lineage import save_column_lineage
from interlace.state.sqlite.schema_history import record_schema_versions
from interlace.state.sqlite.tables import (
    IDEMPOTENCY_KEYS,
    MODEL_STATE,
    RUNS,
    TASK_LOGS,
    TASKS,
    ColumnMap,
    decode_timestamp,
    encode_timestamp,
)
from interlace.state.writes import (
    AppendEvent,
    AppendTaskLogs,
    InsertRun,
    RecordSchemaVersion,
    SaveColumnLineage,
    SaveIdempotencyKey,
    SaveModelState,
    SaveSchedulerState,
    SaveWatermark,
    UpdateRun,
    UpdateTask,
    Write,
)

__all__ = ["apply_writes"]


def apply_writes(  # noqa: C901 - one case per write operation
    conn: sqlite3.Connection, writes: Sequence[Write], now: dt.datetime
) -> list[EventRecord]:
    """Execute `writes` in order; returns the appended events in order."""
    events: list[EventRecord] = []
    for shape, group in itertools.groupby(writes, key=_shape):
        # Every write of a group has the type named by its shape.
        batch: list[Any] = list(group)
        match batch[0]:
            case InsertRun():
                _insert_runs(conn, batch)
            case UpdateRun():
                keys = [write.run_id for write in batch]
                _update(conn, RUNS, "UpdateRun", shape[1], batch, keys)
            case UpdateTask():
                keys = [write.task_id for write in batch]
                _update(conn, TASKS, "UpdateTask", shape[1], batch, keys)
            case SaveModelState():
                _save_model_states(conn, batch)
            case SaveSchedulerState():
                _save_scheduler_states(conn, batch)
            case AppendEvent():
                events.extend(_append_events(conn, batch, now))
            case AppendTaskLogs():
                _append_task_logs(conn, batch)
            case SaveWatermark():
                _save_watermarks(conn, batch, now)
            case SaveIdempotencyKey():
                _save_idempotency_keys(conn, batch, now)
            case RecordSchemaVersion():
                record_schema_versions(conn, batch)
            case SaveColumnLineage():
                save_column_lineage(conn, batch, now)
    return events


def _shape(write: Write) -> tuple[type, tuple[str, ...]]:
    """Writes of one shape share one statement: the type and changed fields."""
    if isinstance(write, UpdateRun):
        return UpdateRun, RUNS.check_changes("UpdateRun", write.changes)
    if isinstance(write, UpdateTask):
        return UpdateTask, TASKS.check_changes("UpdateTask", write.changes)
    if not isinstance(write, _SIMPLE_WRITES):
        raise ValueError(
            f"expected a state write operation, got `{type(write).__name__}`"
        )
    return type(write), ()


_SIMPLE_WRITES = (
    InsertRun,
    SaveModelState,
    SaveSchedulerState,
    AppendEvent,
    AppendTaskLogs,
    SaveWatermark,
    SaveIdempotencyKey,
    RecordSchemaVersion,
    SaveColumnLineage,
)


def _insert_sql(table: ColumnMap[Any]) -> str:
    marks = ", ".join("?" * len(table.fields))
    return f"INSERT INTO {table.table} ({table.select_list}) VALUES ({marks})"


_INSERT_RUN = _insert_sql(RUNS)
_INSERT_TASK = _insert_sql(TASKS)
_INSERT_TASK_LOG = _insert_sql(TASK_LOGS)


def _insert_runs(conn: sqlite3.Connection, writes: list[Any]) -> None:
    runs: list[RunRecord] = [write.run for write in writes]
    tasks: list[TaskRecord] = [task for write in writes for task in write.tasks]
    conn.executemany(_INSERT_RUN, [RUNS.to_row(run) for run in runs])
    conn.executemany(_INSERT_TASK, [TASKS.to_row(task) for task in tasks])


def _update(
    conn: sqlite3.Connection,
    table: ColumnMap[Any],
    write_name: str,
    fields: tuple[str, ...],
    writes: list[Any],
    keys: list[str],
) -> None:
    if not fields:
        return  # an update that changes nothing
    assignments = ", ".join(f'"{name}" = ?' for name in fields)
    sql = f"UPDATE {table.table} SET {assignments} WHERE {table.key} = ?"
    params = [
        [table.encode_change(write_name, name, w.changes[name]) for name in fields]
        + [key]
        for w, key in zip(writes, keys, strict=True)
    ]
    cursor = conn.executemany(sql, params)
    if cursor.rowcount != len(writes):
        _raise_unknown_keys(conn, table, write_name, keys)


def _raise_unknown_keys(
    conn: sqlite3.Connection, table: ColumnMap[Any], write_name: str, keys: list[str]
) -> None:
    marks = ", ".join("?" * len(keys))
    sql = f"SELECT {table.key} FROM {table.table} WHERE {table.key} IN ({marks})"
    found = {row[0] for row in conn.execute(sql, keys)}
    missing = sorted(set(keys) - found)
    raise StateStoreError(
        f"`{write_name}` expected existing `{table.table}` rows, found no row "
        f"with `{table.key}` in {missing}"
    )


def _save_model_states(conn: sqlite3.Connection, writes: list[Any]) -> None:
    conn.executemany(_UPSERT_MODEL_STATE, [MODEL_STATE.to_row(w.state) for w in writes])


def _upsert_model_state_sql() -> str:
    # `coalesce(excluded.x, x)`: a None field in the write keeps the stored value.
    updates = ", ".join(
        f'"{name}" = coalesce(excluded."{name}", model_state."{name}")'
        for name in MODEL_STATE.fields
        if name != MODEL_STATE.key
    )
    return (
        _insert_sql(MODEL_STATE)
        + f" ON CONFLICT ({MODEL_STATE.key}) DO UPDATE SET {updates}"
    )


_UPSERT_MODEL_STATE = _upsert_model_state_sql()

_UPSERT_SCHEDULER_STATE = (
    "INSERT OR REPLACE INTO scheduler_state"
    " (model_name, last_run_at, next_fire_at, paused, updated_at)"
    " VALUES (?, ?, ?, ?, ?)"
)


def _save_scheduler_states(conn: sqlite3.Connection, writes: list[Any]) -> None:
    rows = [
        (
            w.state.model_name,
            _optional_timestamp(w.state.last_run_at),
            _optional_timestamp(w.state.next_fire_at),
            int(w.state.paused),
            encode_timestamp(w.state.updated_at),
        )
        for w in writes
    ]
    conn.executemany(_UPSERT_SCHEDULER_STATE, rows)


def _optional_timestamp(value: dt.datetime | None) -> str | None:
    return None if value is None else encode_timestamp(value)


_JSON = msgspec.json.Encoder()

_INSERT_EVENT = (
    "INSERT INTO events (type, flow_id, timestamp, payload) VALUES (?, ?, ?, ?)"
)


def _append_events(
    conn: sqlite3.Connection, writes: list[Any], now: dt.datetime
) -> list[EventRecord]:
    bodies = [_event_body(w, now) for w in writes]
    rows = [
        (w.type, w.flow_id, encode_timestamp(stamp), _JSON.encode(payload).decode())
        for w, (stamp, payload) in zip(writes, bodies, strict=True)
    ]
    conn.executemany(_INSERT_EVENT, rows)
    # The writer holds the database's write lock for the whole transaction,
    # so this group's rows received consecutive ids ending at the last rowid.
    (last_id,) = conn.execute("SELECT last_insert_rowid()").fetchone()
    first_id = last_id - len(writes) + 1
    return [
        EventRecord(
            id=first_id + index,
            type=w.type,
            flow_id=w.flow_id,
            timestamp=stamp,
            payload=payload,
        )
        for index, (w, (stamp, payload)) in enumerate(zip(writes, bodies, strict=True))
    ]


def _event_body(
    write: AppendEvent, now: dt.datetime
) -> tuple[dt.datetime, dict[str, Any]]:
    """The event's time and its full payload (`flow_id`, `timestamp` first).

    A payload without `timestamp` gets the batch time; one without `flow_id`
    gets the write's `flow_id` unless that is None (e.g. `stream.published`).
    """
    stamp_text = write.payload.get("timestamp")
    if stamp_text is None:
        stamp = now
        stamp_text = iso_utc(now)
    elif isinstance(stamp_text, str):
        stamp = _parse_event_time(write, stamp_text)
    else:
        raise ValueError(
            f"`AppendEvent` `{write.type}`: expected `$.timestamp` to be an "
            f"ISO-8601 string, found {stamp_text!r}"
        )
    head: dict[str, Any] = {} if write.flow_id is None else {"flow_id": write.flow_id}
    head["timestamp"] = stamp_text
    return stamp, {**head, **write.payload}


def _parse_event_time(write: AppendEvent, text: str) -> dt.datetime:
    try:
        stamp = decode_timestamp(text)
    except ValueError as exc:
        raise ValueError(
            f"`AppendEvent` `{write.type}`: `$.timestamp` {text!r} is not ISO-8601"
        ) from exc
    if stamp.tzinfo is None:
        raise ValueError(
            f"`AppendEvent` `{write.type}`: `$.timestamp` {text!r} has no UTC offset"
        )
    return stamp


def _append_task_logs(conn: sqlite3.Connection, writes: list[Any]) -> None:
    rows = [TASK_LOGS.to_row(line) for w in writes for line in w.lines]
    conn.executemany(_INSERT_TASK_LOG, rows)


_UPSERT_WATERMARK = (
    "INSERT INTO cursors (model_name, watermark, run_id, updated_at)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (model_name) DO UPDATE SET"
    " watermark = excluded.watermark, run_id = excluded.run_id,"
    " updated_at = excluded.updated_at"
)


def _save_watermarks(
    conn: sqlite3.Connection, writes: list[Any], now: dt.datetime
) -> None:
    stamp = encode_timestamp(now)
    rows = [(w.model_name, w.watermark, w.run_id, stamp) for w in writes]
    conn.executemany(_UPSERT_WATERMARK, rows)


def _save_idempotency_keys(
    conn: sqlite3.Connection, writes: list[Any], now: dt.datetime
) -> None:
    # Expired keys go first, so a key reused after expiry is simply new.
    conn.execute(
        "DELETE FROM idempotency_keys WHERE expires_at <= ?",
        (encode_timestamp(now),),
    )
    rows = [IDEMPOTENCY_KEYS.to_row(w.record) for w in writes]
    conn.executemany(_UPSERT_IDEMPOTENCY_KEY, rows)


_UPSERT_IDEMPOTENCY_KEY = _insert_sql(IDEMPOTENCY_KEYS).replace(
    "INSERT INTO", "INSERT OR REPLACE INTO", 1
)
