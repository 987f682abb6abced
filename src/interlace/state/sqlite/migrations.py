"""The versioned schema of the SQLite state store.

`MIGRATIONS` is an ordered list of steps, numbered from 1 without gaps. At
open the store applies, in one transaction, every step the database has not
recorded in its ledger (`schema_versions`), so a crash mid-upgrade leaves the
previous version intact. A database whose ledger names a version newer than
the newest step is refused: an older Interlace must not write to a schema it
does not understand.

Steps are append-only: once released, a step is never edited; a change to
the schema is a new step (a new column for a new record field, for example).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

import msgspec

from interlace.errors import StateStoreError

__all__ = ["MIGRATIONS", "Migration", "migrate"]


class Migration(msgspec.Struct, frozen=True, kw_only=True):
    """One schema step; `statements` run in order within the upgrade."""

    version: int
    name: str
    statements: tuple[str, ...]


_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_versions (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""

_V1_RUNS_AND_TASKS = (
    """
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        trigger_type TEXT NOT NULL,
        trigger_id TEXT,
        created_by TEXT,
        created_at TEXT NOT NULL,
        started_at TEXT,
        completed_at TEXT,
        error TEXT,
        metadata TEXT NOT NULL,
        model_selection TEXT,
        retry_of TEXT,
        owner TEXT
    )
    """,
    "CREATE INDEX runs_created_at ON runs (created_at, run_id)",
    "CREATE INDEX runs_status ON runs (status, created_at)",
    "CREATE INDEX runs_started_at ON runs (coalesce(started_at, created_at))",
    """
    CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
        model_name TEXT NOT NULL,
        schema_name TEXT NOT NULL,
        position INTEGER NOT NULL,
        status TEXT NOT NULL,
        attempt INTEGER NOT NULL,
        max_attempts INTEGER NOT NULL,
        enqueued_at TEXT NOT NULL,
        started_at TEXT,
        completed_at TEXT,
        materialise TEXT NOT NULL,
        strategy TEXT,
        dependencies TEXT NOT NULL,
        parent_task_ids TEXT NOT NULL,
        run_reason TEXT,
        rows_processed INTEGER,
        rows_ingested INTEGER,
        rows_inserted INTEGER,
        rows_updated INTEGER,
        rows_deleted INTEGER,
        schema_changes INTEGER NOT NULL,
        skipped_reason TEXT,
        error_type TEXT,
        error_message TEXT,
        error_stacktrace TEXT,
        metadata TEXT NOT NULL
    )
    """,
    "CREATE INDEX tasks_run_position ON tasks (run_id, position)",
    "CREATE INDEX tasks_model_enqueued ON tasks (model_name, enqueued_at)",
    """
    CREATE TABLE task_logs (
        task_id TEXT NOT NULL REFERENCES tasks (task_id) ON DELETE CASCADE,
        line INTEGER NOT NULL,
        timestamp TEXT NOT NULL,
        level TEXT NOT NULL,
        logger TEXT NOT NULL,
        stream TEXT NOT NULL,
        message TEXT NOT NULL,
        PRIMARY KEY (task_id, line)
    ) WITHOUT ROWID
    """,
)

_V1_STATE_AND_EVENTS = (
    """
    CREATE TABLE model_state (
        model_name TEXT PRIMARY KEY,
        code_hash TEXT,
        config_hash TEXT,
        last_success_at TEXT,
        last_materialised_at TEXT,
        last_run_at TEXT,
        last_run_id TEXT,
        last_status TEXT
    )
    """,
    # AUTOINCREMENT: ids grow monotonically and are never reused, even after
    # the newest events are pruned, so an SSE `Last-Event-ID` stays unique.
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        flow_id TEXT,
        timestamp TEXT NOT NULL,
        payload TEXT NOT NULL
    )
    """,
    "CREATE INDEX events_timestamp ON events (timestamp)",
)

# Created now, used by later features (cursors §4.11, schema history §8.1,
# lineage §8.2, scheduler §9, idempotency §10.7), so those add code only.
_V1_LATER_FEATURES = (
    """
    CREATE TABLE cursors (
        model_name TEXT PRIMARY KEY,
        watermark TEXT,
        run_id TEXT,
        updated_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE schema_history (
        model_name TEXT NOT NULL,
        version INTEGER NOT NULL,
        column_name TEXT NOT NULL,
        position INTEGER NOT NULL,
        data_type TEXT NOT NULL,
        nullable INTEGER NOT NULL,
        is_primary_key INTEGER NOT NULL,
        detected_at TEXT,
        PRIMARY KEY (model_name, version, column_name)
    ) WITHOUT ROWID
    """,
    """
    CREATE TABLE column_lineage (
        output_model TEXT NOT NULL,
        output_column TEXT NOT NULL,
        source_model TEXT NOT NULL,
        source_column TEXT NOT NULL,
        transformation_type TEXT NOT NULL,
        transformation_expression TEXT,
        confidence REAL NOT NULL,
        computed_at TEXT NOT NULL,
        PRIMARY KEY (output_model, output_column, source_model, source_column)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX column_lineage_source ON column_lineage (source_model, source_column)",
    """
    CREATE TABLE scheduler_state (
        model_name TEXT PRIMARY KEY,
        last_run_at TEXT,
        next_fire_at TEXT,
        paused INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    )
    """,
    """
    CREATE TABLE idempotency_keys (
        scope TEXT NOT NULL,
        key TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        status_code INTEGER,
        response_body TEXT,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        PRIMARY KEY (scope, key)
    ) WITHOUT ROWID
    """,
    "CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at)",
)

# Column lineage (§8.2) also needs, per model, the definition it was computed
# from (to know when it is stale), the output columns (a model may have
# columns without edges) and why it failed; edges keep their column order.
_V2_LINEAGE_MODELS = (
    """
    CREATE TABLE lineage_models (
        model_name TEXT PRIMARY KEY,
        definition_hash TEXT NOT NULL,
        columns TEXT NOT NULL,
        complete INTEGER NOT NULL,
        error TEXT,
        computed_at TEXT NOT NULL
    )
    """,
    "ALTER TABLE column_lineage ADD COLUMN position INTEGER NOT NULL DEFAULT 0",
)

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        version=1,
        name="initial",
        statements=_V1_RUNS_AND_TASKS + _V1_STATE_AND_EVENTS + _V1_LATER_FEATURES,
    ),
    Migration(version=2, name="lineage_models", statements=_V2_LINEAGE_MODELS),
)


def migrate(
    conn: sqlite3.Connection,
    migrations: Sequence[Migration],
    *,
    path: Path,
    applied_at: str,
) -> list[int]:
    """Bring the database to the newest step; returns the versions applied.

    `conn` must be in autocommit mode (`isolation_level=None`): the upgrade is
    one explicit `BEGIN IMMEDIATE` transaction, which also keeps two processes
    opening the same new file from both running step 1.
    """
    _check_sequence(migrations)
    conn.execute("BEGIN IMMEDIATE")
    try:
        applied = _apply_missing(conn, migrations, path, applied_at)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return applied


def _apply_missing(
    conn: sqlite3.Connection,
    migrations: Sequence[Migration],
    path: Path,
    applied_at: str,
) -> list[int]:
    conn.execute(_LEDGER)
    (current,) = conn.execute("SELECT max(version) FROM schema_versions").fetchone()
    current = current or 0
    newest = len(migrations)
    if current > newest:
        raise StateStoreError(
            f"state database `{path}` has schema version {current}, newer than "
            f"version {newest} that this Interlace supports; upgrade Interlace "
            "or point `state.path` at another file"
        )
    pending = [step for step in migrations if step.version > current]
    for step in pending:
        for statement in step.statements:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO schema_versions (version, name, applied_at) VALUES (?, ?, ?)",
            (step.version, step.name, applied_at),
        )
    return [step.version for step in pending]


def _check_sequence(migrations: Sequence[Migration]) -> None:
    versions = [step.version for step in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise ValueError(
            f"expected migration versions 1..{len(versions)} in order, found {versions}"
        )
