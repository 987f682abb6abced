"""`SQLiteStateStore`: the embedded state backend (SPEC §2.3).

Connections: one writer connection, used only by `apply` and `prune_events`
under a lock, and one reader connection per thread (`threading.local`). In
WAL mode readers never block the writer nor each other, so API reads stay
fast while a run writes. Every connection runs in autocommit mode and opens
explicit transactions: `BEGIN IMMEDIATE` for writes takes the write lock up
front instead of failing on lock upgrade halfway through a batch.

`sqlite3` errors (and file-system and JSON decoding errors) are translated
into `StateStoreError` in `_translated`, the single boundary of this backend.
Invalid writes (unknown fields, wrong value types, naive datetimes) raise
`ValueError` before anything is committed: they are programming errors.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from interlace.errors import StateStoreError
from interlace.state.ids import utc_now
from interlace.state.records import (
    EventRecord,
    IdempotencyRecord,
    LineageEdgeRecord,
    LineageModelRecord,
    ModelStateRecord,
    RunRecord,
    SchedulerStateRecord,
    SchemaVersionRecord,
    TaskLogRecord,
    TaskRecord,
)
from interlace.state.sqlite import lineage
from interlace.state.sqlite import schema_history as history
from interlace.state.sqlite.apply import apply_writes
from interlace.state.sqlite.migrations import MIGRATIONS, Migration, migrate
from interlace.state.sqlite.queries import Query, run_filter_query
from interlace.state.sqlite.tables import (
    EVENTS,
    IDEMPOTENCY_KEYS,
    MODEL_STATE,
    RUNS,
    TASK_LOGS,
    TASKS,
    decode_timestamp,
    encode_timestamp,
)
from interlace.state.store import RunFilter
from interlace.state.writes import Write

__all__ = ["SQLiteStateStore"]

logger = logging.getLogger(__name__)

_BUSY_TIMEOUT_MS = 5000

_OPEN_RUN_STATUSES = ("cancelling", "pending", "running")

T = TypeVar("T")


class SQLiteStateStore:
    """The `StateStore` on one SQLite file (created with its parent dirs)."""

    def __init__(
        self, path: Path, *, migrations: Sequence[Migration] = MIGRATIONS
    ) -> None:
        self.path = path
        self._write_lock = threading.Lock()
        self._readers_lock = threading.Lock()
        self._readers: list[sqlite3.Connection] = []
        self._local = threading.local()
        self._closed = False
        with self._translated("open"):
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect()
        try:
            applied = self._prepare(migrations)
        except BaseException:
            self._writer.close()
            raise
        if applied:
            logger.info("state store %s migrated to versions %s", path, applied)

    # -- writes ---------------------------------------------------------

    def apply(self, writes: Sequence[Write]) -> list[EventRecord]:
        if not writes:
            return []
        with self._write_lock, self._translated("apply writes to"):
            return self._in_write_transaction(
                lambda conn: apply_writes(conn, writes, utc_now())
            )

    def prune_events(
        self,
        retention_days: float | None,
        max_rows: int | None,
        *,
        now: dt.datetime | None = None,
    ) -> int:
        """Delete events older than `retention_days` and beyond the newest
        `max_rows`; returns how many were deleted. None disables a limit.

        Ids are never reused afterwards (AUTOINCREMENT).
        """
        cutoff = None
        if retention_days is not None:
            moment = now or utc_now()
            cutoff = encode_timestamp(moment - dt.timedelta(days=retention_days))
        with self._write_lock, self._translated("prune events in"):
            return self._in_write_transaction(
                lambda conn: _delete_events(conn, cutoff, max_rows)
            )

    # -- reads ----------------------------------------------------------

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._read(
            f"SELECT {RUNS.select_list} FROM runs WHERE run_id = ?", (run_id,)
        )
        return RUNS.from_row(rows[0]) if rows else None

    def list_runs(
        self, filters: RunFilter, *, limit: int, offset: int = 0
    ) -> tuple[list[RunRecord], int]:
        query = run_filter_query(filters)
        page_sql = (
            f"SELECT {RUNS.select_list} FROM runs{query.where} "
            "ORDER BY created_at DESC, run_id DESC LIMIT ? OFFSET ?"
        )
        count_sql = f"SELECT count(*) FROM runs{query.where}"
        rows, total = self._page(query, page_sql, count_sql, limit, offset)
        return RUNS.from_rows(rows), total

    def open_runs(self) -> list[RunRecord]:
        marks = ", ".join("?" * len(_OPEN_RUN_STATUSES))
        rows = self._read(
            f"SELECT {RUNS.select_list} FROM runs WHERE status IN ({marks}) "
            "ORDER BY created_at, run_id",
            _OPEN_RUN_STATUSES,
        )
        return RUNS.from_rows(rows)

    def get_tasks(self, run_id: str) -> list[TaskRecord]:
        rows = self._read(
            f"SELECT {TASKS.select_list} FROM tasks WHERE run_id = ? "
            "ORDER BY position, task_id",
            (run_id,),
        )
        return TASKS.from_rows(rows)

    def get_task(self, task_id: str) -> TaskRecord | None:
        rows = self._read(
            f"SELECT {TASKS.select_list} FROM tasks WHERE task_id = ?", (task_id,)
        )
        return TASKS.from_row(rows[0]) if rows else None

    def model_tasks(
        self, model_name: str, *, limit: int, offset: int = 0
    ) -> tuple[list[TaskRecord], int]:
        query = Query(where=" WHERE model_name = ?", params=(model_name,))
        page_sql = (
            f"SELECT {TASKS.select_list} FROM tasks{query.where} "
            "ORDER BY enqueued_at DESC, task_id DESC LIMIT ? OFFSET ?"
        )
        count_sql = f"SELECT count(*) FROM tasks{query.where}"
        rows, total = self._page(query, page_sql, count_sql, limit, offset)
        return TASKS.from_rows(rows), total

    def get_model_state(self, model_name: str) -> ModelStateRecord | None:
        rows = self._read(
            f"SELECT {MODEL_STATE.select_list} FROM model_state WHERE model_name = ?",
            (model_name,),
        )
        return MODEL_STATE.from_row(rows[0]) if rows else None

    def model_states(self) -> dict[str, ModelStateRecord]:
        rows = self._read(f"SELECT {MODEL_STATE.select_list} FROM model_state", ())
        states = MODEL_STATE.from_rows(rows)
        return {state.model_name: state for state in states}

    def watermarks(self) -> dict[str, str]:
        rows = self._read("SELECT model_name, watermark FROM cursors", ())
        return {name: watermark for name, watermark in rows if watermark is not None}

    def scheduler_states(self) -> dict[str, SchedulerStateRecord]:
        rows = self._read(
            "SELECT model_name, last_run_at, next_fire_at, paused, updated_at "
            "FROM scheduler_state",
            (),
        )
        return {row[0]: _scheduler_state(row) for row in rows}

    def read_events(self, after_id: int, *, limit: int) -> list[EventRecord]:
        rows = self._read(
            f"SELECT {EVENTS.select_list} FROM events WHERE id > ? ORDER BY id LIMIT ?",
            (after_id, limit),
        )
        return EVENTS.from_rows(rows)

    def get_idempotency_key(self, scope: str, key: str) -> IdempotencyRecord | None:
        rows = self._read(
            f"SELECT {IDEMPOTENCY_KEYS.select_list} FROM idempotency_keys "
            "WHERE scope = ? AND key = ? AND expires_at > ?",
            (scope, key, encode_timestamp(utc_now())),
        )
        return IDEMPOTENCY_KEYS.from_row(rows[0]) if rows else None

    def schema_versions(
        self, model_name: str, *, limit: int, offset: int = 0
    ) -> tuple[list[SchemaVersionRecord], int]:
        query = Query(params=(model_name,))
        rows, total = self._page(
            query, history.VERSION_PAGE_SQL, history.VERSION_COUNT_SQL, limit, offset
        )
        return history.versions_from_rows(model_name, rows), total

    def schema_version(
        self, model_name: str, version: int
    ) -> SchemaVersionRecord | None:
        rows = self._read(history.VERSION_SQL, (model_name, version))
        versions = history.versions_from_rows(model_name, rows)
        return versions[0] if versions else None

    def latest_schema_version(self, model_name: str) -> SchemaVersionRecord | None:
        rows = self._read(history.LATEST_VERSION_SQL, (model_name,))
        versions = history.versions_from_rows(model_name, rows)
        return versions[0] if versions else None

    def column_lineage(
        self, models: Collection[str] | None = None
    ) -> list[LineageEdgeRecord]:
        sql, params = lineage.edges_query(models)
        return lineage.edges_from_rows(self._read(sql, params))

    def lineage_models(
        self, models: Collection[str] | None = None
    ) -> dict[str, LineageModelRecord]:
        sql, params = lineage.models_query(models)
        records = lineage.models_from_rows(self._read(sql, params))
        return {record.model_name: record for record in records}

    def lineage_hashes(self) -> dict[str, str]:
        rows = self._read("SELECT model_name, definition_hash FROM lineage_models", ())
        return dict(rows)

    def event_bounds(self) -> tuple[int | None, int | None]:
        rows = self._read("SELECT min(id), max(id) FROM events", ())
        oldest, newest = rows[0]
        return oldest, newest

    def task_logs(self, task_id: str, *, after: int, limit: int) -> list[TaskLogRecord]:
        rows = self._read(
            f"SELECT {TASK_LOGS.select_list} FROM task_logs "
            "WHERE task_id = ? AND line > ? ORDER BY line LIMIT ?",
            (task_id, after, limit),
        )
        return TASK_LOGS.from_rows(rows)

    # -- lifecycle ------------------------------------------------------

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close every connection.

        Reader connections of other threads are closed too; a later call on
        the store raises `StateStoreError`. Closing twice is harmless.
        """
        with self._write_lock:
            if self._closed:
                return
            self._closed = True
            with self._readers_lock:
                readers, self._readers = self._readers, []
            for conn in readers:
                conn.close()
            with self._translated("checkpoint"):
                self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._writer.close()

    def __enter__(self) -> SQLiteStateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------

    @contextlib.contextmanager
    def _translated(self, action: str) -> Iterator[None]:
        """The one place where foreign errors become `StateStoreError`."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StateStoreError(
                f"could not {action} the state database `{self.path}`: {exc}"
            ) from exc
        except OSError as exc:
            raise StateStoreError(
                f"could not {action} the state database `{self.path}`: {exc}"
            ) from exc
        except msgspec.DecodeError as exc:
            raise StateStoreError(
                f"the state database `{self.path}` holds invalid JSON: {exc}"
            ) from exc

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread=False: `close` runs on whichever thread shuts the
        # store down and must close connections created on other threads.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _prepare(self, migrations: Sequence[Migration]) -> list[int]:
        """Configure the writer connection and migrate the schema."""
        with self._translated("open"):
            conn = self._writer
            (mode,) = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode != "wal":
                raise StateStoreError(
                    f"expected SQLite to use `journal_mode=WAL` for "
                    f"`{self.path}`, found `{mode}`"
                )
            conn.execute("PRAGMA synchronous = FULL")
            stamp = encode_timestamp(utc_now())
            return migrate(conn, migrations, path=self.path, applied_at=stamp)

    def _reader(self) -> sqlite3.Connection:
        if self._closed:
            raise StateStoreError(f"the state store `{self.path}` is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._connect()
            conn.execute("PRAGMA query_only = ON")
            with self._readers_lock:
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    def _read(self, sql: str, params: Sequence[Any]) -> list[Any]:
        with self._translated("read"):
            return self._reader().execute(sql, params).fetchall()

    def _page(
        self, query: Query, page_sql: str, count_sql: str, limit: int, offset: int
    ) -> tuple[list[Any], int]:
        """A page and the total count, read in one snapshot so they agree."""
        with self._translated("read"):
            conn = self._reader()
            conn.execute("BEGIN")
            try:
                rows = conn.execute(page_sql, (*query.params, limit, offset))
                page = rows.fetchall()
                (total,) = conn.execute(count_sql, query.params).fetchone()
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")
        return page, total

    def _in_write_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            raise StateStoreError(f"the state store `{self.path}` is closed")
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = work(conn)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        return result


def _scheduler_state(row: Sequence[Any]) -> SchedulerStateRecord:
    name, last_run_at, next_fire_at, paused, updated_at = row
    return SchedulerStateRecord(
        model_name=name,
        last_run_at=None if last_run_at is None else decode_timestamp(last_run_at),
        next_fire_at=None if next_fire_at is None else decode_timestamp(next_fire_at),
        paused=bool(paused),
        updated_at=decode_timestamp(updated_at),
    )


def _delete_events(
    conn: sqlite3.Connection, cutoff: str | None, max_rows: int | None
) -> int:
    deleted = 0
    if cutoff is not None:
        cursor = conn.execute("DELETE FROM events WHERE timestamp < ?", (cutoff,))
        deleted += cursor.rowcount
    if max_rows is not None:
        cursor = conn.execute(
            "DELETE FROM events WHERE id <= "
            "(SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (max_rows,),
        )
        deleted += cursor.rowcount
    return deleted
