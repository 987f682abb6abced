"""Reconcile an existing target with a new result, by schema mode (SPEC §8.1).

`reconcile_target` is the one place where the result schema meets the
target schema. It runs inside the write transaction before any row is
written: a change the model's `schema_mode` forbids raises
`SchemaEvolutionError` before any statement touched the target, and a later
failure rolls back the columns it added or retyped.

| mode     | added      | removed | safe widening | other type change        |
|----------|------------|---------|---------------|--------------------------|
| strict   | error      | error   | error         | error                    |
| safe     | ADD COLUMN | kept    | ALTER TYPE    | error                    |
| flexible | ADD COLUMN | kept    | ALTER TYPE    | cast existing values, or |
|          |            |         |               | error if one fails       |
| lenient  | ADD COLUMN | kept    | ALTER TYPE    | column rebuilt, values   |
|          |            |         |               | that do not convert NULL |
| ignore   | ADD COLUMN | kept    | (insert casts)| (insert casts)           |

Only declared columns are validated when the model has `fields`; the others
are treated as under `ignore`. Removed columns stay in the table and are
NULL for new rows. Columns are always added, whatever the mode, because an
insert by name cannot write a column the target lacks.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence

import duckdb

from interlace.engine.definition import ModelDefinition, SchemaMode
from interlace.errors import SchemaEvolutionError
from interlace.state.records import SchemaColumn
from interlace.types import canonical_from_duckdb
from interlace.warehouse.boundary import first_row
from interlace.warehouse.identifiers import quote_ident
from interlace.warehouse.schema_changes import (
    ChangeKind,
    ColumnChange,
    compare_columns,
    describe_change,
    is_safe_widening,
)
from interlace.warehouse.staging import StagedResult

__all__ = ["reconcile_target", "table_schema", "target_columns"]

logger = logging.getLogger(__name__)


def target_columns(cursor: duckdb.DuckDBPyConnection, target: str) -> list[str]:
    """Column names of an existing table or view, in order."""
    return [str(row[0]) for row in cursor.execute(f"DESCRIBE {target}").fetchall()]


def table_schema(
    cursor: duckdb.DuckDBPyConnection, target: str, primary_key: Collection[str]
) -> list[SchemaColumn]:
    """Every column of `target` as schema history records it."""
    keys = {key.lower() for key in primary_key}
    return [
        SchemaColumn(
            name=str(row[0]),
            type=canonical_from_duckdb(str(row[1])),
            nullable=row[2] != "NO",
            is_primary_key=str(row[0]).lower() in keys,
        )
        for row in cursor.execute(f"DESCRIBE {target}").fetchall()
    ]


def reconcile_target(
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    target: str,
    staged: StagedResult,
    *,
    managed: Collection[str] = (),
    keeps_rows: bool = True,
) -> int:
    """Check and apply the schema changes of `staged` to `target`.

    `managed` names target columns the strategy maintains (never removed);
    `keeps_rows` is False when the strategy replaces every row, so existing
    values need not convert. Returns how many columns were added or retyped.
    """
    existing = [
        (name, canonical_from_duckdb(kind)) for name, kind in _described(cursor, target)
    ]
    changes = compare_columns(existing, staged.columns, managed=managed)
    checked = [change for change in changes if _validated(definition, change.name)]
    _reject_forbidden(definition, checked)
    retyped = [change for change in checked if change.kind is ChangeKind.TYPE_CHANGED]
    if definition.schema_mode is SchemaMode.FLEXIBLE and keeps_rows:
        _check_casts(cursor, definition, target, retyped, staged)
    added = [change for change in changes if change.kind is ChangeKind.ADDED]
    for change in added:
        kind = _sql_type(staged, change.name)
        cursor.execute(
            f"ALTER TABLE {target} ADD COLUMN {quote_ident(change.name)} {kind}"
        )
    for change in retyped:
        _retype(cursor, definition, target, change, staged, keeps_rows)
    if added or retyped:
        logger.info(
            "model %s: schema of %s changed: %s",
            definition.name,
            target,
            "; ".join(describe_change(change) for change in [*added, *retyped]),
        )
    return len(added) + len(retyped)


def _described(cursor: duckdb.DuckDBPyConnection, target: str) -> list[tuple[str, str]]:
    rows = cursor.execute(f"DESCRIBE {target}").fetchall()
    return [(str(row[0]), str(row[1])) for row in rows]


def _validated(definition: ModelDefinition, column: str) -> bool:
    if definition.schema_mode is SchemaMode.IGNORE:
        return False
    if definition.fields is None:
        return True
    return column.lower() in {name.lower() for name in definition.fields}


def _reject_forbidden(
    definition: ModelDefinition, changes: Sequence[ColumnChange]
) -> None:
    mode = definition.schema_mode
    if mode is SchemaMode.STRICT:
        offending = list(changes)
    elif mode is SchemaMode.SAFE:
        offending = [change for change in changes if _incompatible(change)]
    else:
        return
    if not offending:
        return
    listed = "; ".join(describe_change(change) for change in offending)
    raise SchemaEvolutionError(
        f"Model '{definition.name}': schema_mode '{mode}' rejects changes: {listed}",
        model=definition.name,
        columns=[change.name for change in offending],
    )


def _incompatible(change: ColumnChange) -> bool:
    """A type change that is not a safe widening."""
    if change.kind is not ChangeKind.TYPE_CHANGED:
        return False
    return not is_safe_widening(change.old_type or "", change.new_type or "")


def _check_casts(
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    target: str,
    retyped: Sequence[ColumnChange],
    staged: StagedResult,
) -> None:
    """`flexible`: every existing value must convert to its column's new type."""
    failures = []
    for change in retyped:
        if not _incompatible(change):
            continue
        lost = _unconvertible(
            cursor, target, change.name, _sql_type(staged, change.name)
        )
        if lost:
            noun = "value does" if lost == 1 else "values do"
            failures.append(
                (
                    change.name,
                    f"{describe_change(change)} ({lost} existing {noun} not convert)",
                )
            )
    if failures:
        raise SchemaEvolutionError(
            f"Model '{definition.name}': schema_mode 'flexible' cannot cast "
            f"existing values: {'; '.join(text for _, text in failures)}",
            model=definition.name,
            columns=[name for name, _ in failures],
        )


def _retype(
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    target: str,
    change: ColumnChange,
    staged: StagedResult,
    keeps_rows: bool,
) -> None:
    column = quote_ident(change.name)
    kind = _sql_type(staged, change.name)
    statement = f"ALTER TABLE {target} ALTER COLUMN {column} SET DATA TYPE {kind}"
    if not _incompatible(change):
        cursor.execute(statement)
        return
    # Flexible has verified that every value converts; lenient rebuilds the
    # column and accepts that values which do not convert become NULL.
    if definition.schema_mode is SchemaMode.LENIENT and keeps_rows:
        lost = _unconvertible(cursor, target, change.name, kind)
        if lost:
            logger.warning(
                "model %s: rebuilding column %s of %s as %s set %d value(s) "
                "that do not convert to NULL",
                definition.name,
                change.name,
                target,
                change.new_type,
                lost,
            )
    cursor.execute(f"{statement} USING TRY_CAST({column} AS {kind})")


def _unconvertible(
    cursor: duckdb.DuckDBPyConnection, target: str, name: str, kind: str
) -> int:
    """Non-NULL values of a column that do not convert to the DuckDB `kind`."""
    column = quote_ident(name)
    row = first_row(
        cursor,
        f"SELECT count(*) FROM {target} WHERE {column} IS NOT NULL "
        f"AND TRY_CAST({column} AS {kind}) IS NULL",
    )
    return int(row[0]) if row else 0


def _sql_type(staged: StagedResult, name: str) -> str:
    """The DuckDB type of a staged column (names compare case-insensitively)."""
    wanted = name.lower()
    return next(kind for column, kind in staged.sql_columns if column.lower() == wanted)
