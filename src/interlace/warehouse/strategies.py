"""Write strategies for `table` models (SPEC §4.8): replace, append, merge.

Each function runs inside the task's write transaction and returns how many
rows it inserted, updated and deleted. Columns are always matched by name
(`INSERT ... BY NAME`), so the column order of a result never matters.
`scd_type_2` lives in its own module (`scd2`).
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import msgspec

from interlace.engine.definition import DeleteMode, ModelDefinition
from interlace.errors import WriteError
from interlace.warehouse.boundary import first_row
from interlace.warehouse.identifiers import quote_ident
from interlace.warehouse.staging import StagedResult

__all__ = [
    "Counters",
    "check_unique_keys",
    "create_target",
    "key_match",
    "require_key_columns",
    "write_append",
    "write_merge",
    "write_replace",
]


class Counters(msgspec.Struct, frozen=True, kw_only=True):
    """Rows changed by one write."""

    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    processed: int = 0
    """Rows written: `rows_processed` of the task."""

    @classmethod
    def of(cls, *, inserted: int = 0, updated: int = 0, deleted: int = 0) -> Counters:
        """Counters where every insert, update and delete counts as processed."""
        processed = inserted + updated + deleted
        return cls(
            inserted=inserted, updated=updated, deleted=deleted, processed=processed
        )


def create_target(
    cursor: duckdb.DuckDBPyConnection, target: str, staged: StagedResult
) -> Counters:
    """Create a missing target from the staged result (any strategy)."""
    cursor.execute(f"CREATE TABLE {target} AS SELECT * FROM {staged.relation}")
    return Counters.of(inserted=staged.rows)


def write_replace(
    cursor: duckdb.DuckDBPyConnection, target: str, staged: StagedResult
) -> Counters:
    """Replace every row; target columns absent from the result become NULL.

    Only the inserted rows count as processed: a replace of 1,200 rows
    processes 1,200 rows, however many it replaced.
    """
    deleted = _count(cursor, f"DELETE FROM {target}")
    inserted = _insert_all(cursor, target, staged)
    return Counters(inserted=inserted, deleted=deleted, processed=inserted)


def write_append(
    cursor: duckdb.DuckDBPyConnection, target: str, staged: StagedResult
) -> Counters:
    """Insert every row, matching columns by name."""
    return Counters.of(inserted=_insert_all(cursor, target, staged))


def write_merge(
    cursor: duckdb.DuckDBPyConnection,
    target: str,
    staged: StagedResult,
    definition: ModelDefinition,
) -> Counters:
    """Upsert on the primary key, NULL-safe; optionally delete missing keys.

    Only keys whose non-key values changed are updated, so `rows_updated`
    counts real changes and unchanged rows are never rewritten.
    """
    keys = definition.primary_key
    require_key_columns(staged, keys, definition.name)
    check_unique_keys(cursor, staged, keys, definition.name)
    source = staged.relation
    values = [name for name, _ in staged.columns if name not in keys]
    updated = _update_changed(cursor, target, source, keys, values)
    inserted = _count(
        cursor,
        f"INSERT INTO {target} BY NAME SELECT s.* FROM {source} AS s WHERE NOT "
        f"EXISTS (SELECT 1 FROM {target} AS t WHERE {key_match(keys)})",
    )
    deleted = 0
    if definition.delete_mode is DeleteMode.DELETE_MISSING:
        deleted = _count(
            cursor,
            f"DELETE FROM {target} AS t WHERE NOT EXISTS "
            f"(SELECT 1 FROM {source} AS s WHERE {key_match(keys)})",
        )
    return Counters.of(inserted=inserted, updated=updated, deleted=deleted)


def require_key_columns(staged: StagedResult, keys: Sequence[str], model: str) -> None:
    """Fail unless the result has every primary key column."""
    present = {name for name, _ in staged.columns}
    missing = [key for key in keys if key not in present]
    if not keys or missing:
        found = ", ".join(f"`{name}`" for name in sorted(present)) or "no columns"
        wanted = ", ".join(f"`{key}`" for key in missing) or "a `primary_key`"
        raise WriteError(
            f"Model '{model}': the result lacks primary key column {wanted}; "
            f"found {found}",
            model=model,
        )


def check_unique_keys(
    cursor: duckdb.DuckDBPyConnection,
    staged: StagedResult,
    keys: Sequence[str],
    model: str,
) -> None:
    """Fail when a key occurs twice in the result (NULLs compare equal)."""
    columns = ", ".join(quote_ident(key) for key in keys)
    row = first_row(
        cursor,
        f"SELECT count(*) FROM (SELECT {columns} FROM {staged.relation} "
        f"GROUP BY ALL HAVING count(*) > 1)",
    )
    duplicates = int(row[0]) if row else 0
    if duplicates:
        noun = "key" if duplicates == 1 else "keys"
        raise WriteError(
            f"Model '{model}': duplicate primary key values: {duplicates} {noun}",
            model=model,
        )


def key_match(keys: Sequence[str], left: str = "t", right: str = "s") -> str:
    """NULL-safe equality of every key column between two aliases."""
    return " AND ".join(
        f"{left}.{quote_ident(key)} IS NOT DISTINCT FROM {right}.{quote_ident(key)}"
        for key in keys
    )


def _update_changed(
    cursor: duckdb.DuckDBPyConnection,
    target: str,
    source: str,
    keys: Sequence[str],
    values: Sequence[str],
) -> int:
    if not values:
        return 0
    assignments = ", ".join(f"{quote_ident(v)} = s.{quote_ident(v)}" for v in values)
    changed = " OR ".join(
        f"t.{quote_ident(v)} IS DISTINCT FROM s.{quote_ident(v)}" for v in values
    )
    return _count(
        cursor,
        f"UPDATE {target} AS t SET {assignments} FROM {source} AS s "
        f"WHERE {key_match(keys)} AND ({changed})",
    )


def _insert_all(
    cursor: duckdb.DuckDBPyConnection, target: str, staged: StagedResult
) -> int:
    return _count(
        cursor, f"INSERT INTO {target} BY NAME SELECT * FROM {staged.relation}"
    )


def _count(cursor: duckdb.DuckDBPyConnection, statement: str) -> int:
    row = first_row(cursor, statement)
    return int(row[0]) if row else 0
