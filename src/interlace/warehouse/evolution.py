"""Reconcile an existing target with the columns of a new result.

This is the single place where the result schema meets the target schema
before a write. For now it applies the `safe` default for additions only:
result columns the target lacks are added with `ALTER TABLE ADD COLUMN`;
target columns the result lacks are kept (NULL for new rows). Schema modes
(SPEC §8.1: widenings, strict, lenient rebuilds) will hook in here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import duckdb

from interlace.warehouse.identifiers import quote_ident

__all__ = ["reconcile_target", "target_columns"]

logger = logging.getLogger(__name__)


def target_columns(cursor: duckdb.DuckDBPyConnection, target: str) -> list[str]:
    """Column names of an existing table or view, in order."""
    return [str(row[0]) for row in cursor.execute(f"DESCRIBE {target}").fetchall()]


def reconcile_target(
    cursor: duckdb.DuckDBPyConnection,
    target: str,
    columns: Sequence[tuple[str, str]],
) -> list[str]:
    """Add the result columns `target` lacks; returns their names.

    `columns` are (name, DuckDB type) pairs as DESCRIBE reports them.
    Runs inside the write transaction, so a failed write also undoes the
    added columns.
    """
    existing = {name.lower() for name in target_columns(cursor, target)}
    added = [(name, kind) for name, kind in columns if name.lower() not in existing]
    for name, kind in added:
        cursor.execute(f"ALTER TABLE {target} ADD COLUMN {quote_ident(name)} {kind}")
    if added:
        logger.info(
            "added columns to %s: %s", target, ", ".join(name for name, _ in added)
        )
    return [name for name, _ in added]
