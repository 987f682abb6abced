"""Schema history in SQLite: one row per column of every recorded version.

The `schema_history` table (migration 1) keys rows by model, version and
column name; `position` keeps the table's column order. A version is
numbered inside the write transaction, from the rows already committed or
written earlier in the same batch, so it is always `max + 1` of what the
database holds at that moment.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Sequence
from typing import Any

from interlace.state.records import SchemaColumn, SchemaVersionRecord
from interlace.state.sqlite.tables import decode_timestamp, encode_timestamp
from interlace.state.writes import RecordSchemaVersion

__all__ = [
    "LATEST_VERSION_SQL",
    "VERSION_COUNT_SQL",
    "VERSION_PAGE_SQL",
    "VERSION_SQL",
    "record_schema_versions",
    "schema_changed",
    "versions_from_rows",
]

_COLUMNS = (
    "version, column_name, position, data_type, nullable, is_primary_key, detected_at"
)

VERSION_SQL = (
    f"SELECT {_COLUMNS} FROM schema_history WHERE model_name = ? AND version = ? "
    "ORDER BY position"
)
LATEST_VERSION_SQL = (
    f"SELECT {_COLUMNS} FROM schema_history WHERE model_name = ?1 AND version = "
    "(SELECT max(version) FROM schema_history WHERE model_name = ?1) "
    "ORDER BY position"
)
# Parameters: model name, limit, offset (numbered: the name is used twice).
VERSION_PAGE_SQL = (
    f"SELECT {_COLUMNS} FROM schema_history WHERE model_name = ?1 AND version IN "
    "(SELECT DISTINCT version FROM schema_history WHERE model_name = ?1 "
    "ORDER BY version DESC LIMIT ?2 OFFSET ?3) ORDER BY version DESC, position"
)
VERSION_COUNT_SQL = (
    "SELECT count(DISTINCT version) FROM schema_history WHERE model_name = ?"
)

_INSERT = (
    "INSERT INTO schema_history (model_name, version, column_name, position, "
    "data_type, nullable, is_primary_key, detected_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def record_schema_versions(
    conn: sqlite3.Connection, writes: Sequence[RecordSchemaVersion]
) -> None:
    """Insert each write as the model's next version when its schema changed.

    Writes are handled one by one: two writes for one model in a batch
    compare and number against each other as if they came in two batches.
    """
    for write in writes:
        latest = versions_from_rows(
            write.model_name,
            conn.execute(LATEST_VERSION_SQL, (write.model_name,)).fetchall(),
        )
        previous = latest[0] if latest else None
        if previous is not None and not schema_changed(previous.columns, write):
            continue
        version = 1 if previous is None else previous.version + 1
        conn.executemany(_INSERT, _rows(write, version))


def schema_changed(
    previous: Sequence[SchemaColumn], write: RecordSchemaVersion
) -> bool:
    """True when a column of `write` is new or has another type."""
    known = {column.name: column.type for column in previous}
    return any(known.get(column.name) != column.type for column in write.columns)


def _rows(write: RecordSchemaVersion, version: int) -> list[tuple[Any, ...]]:
    detected_at = encode_timestamp(write.detected_at)
    return [
        (
            write.model_name,
            version,
            column.name,
            position,
            column.type,
            int(column.nullable),
            int(column.is_primary_key),
            detected_at,
        )
        for position, column in enumerate(write.columns)
    ]


def versions_from_rows(
    model_name: str, rows: Sequence[Sequence[Any]]
) -> list[SchemaVersionRecord]:
    """Group column rows (ordered by version, then position) into versions."""
    versions = []
    for version, group in itertools.groupby(rows, key=lambda row: row[0]):
        members = list(group)
        versions.append(
            SchemaVersionRecord(
                model_name=model_name,
                version=version,
                detected_at=decode_timestamp(members[0][6]),
                columns=[
                    SchemaColumn(
                        name=row[1],
                        type=row[3],
                        nullable=bool(row[4]),
                        is_primary_key=bool(row[5]),
                    )
                    for row in members
                ],
            )
        )
    return versions
