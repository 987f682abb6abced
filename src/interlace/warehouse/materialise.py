"""Materialise a model's result (SPEC §4.7, §4.8): the task's write step.

`materialise` takes what the model produced (a Python return value, or the
relation of a SQL model), stages it in the scratch schema (shaped by
`fields` / `strict` / `column_mapping`), then writes it in one transaction on
the task cursor according to the materialisation and strategy; an existing
table is first reconciled with the result by the model's `schema_mode`
(`evolution`), inside the same transaction. A failed or cancelled task
leaves the target unchanged; the staging table is always dropped afterwards.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import duckdb
import msgspec

from interlace.engine.definition import (
    Materialise,
    ModelDefinition,
    ModelType,
    Strategy,
)
from interlace.errors import SchemaInferenceError, WriteError
from interlace.state.records import SchemaColumn
from interlace.types import canonical_from_duckdb
from interlace.warehouse.boundary import (
    check_cancelled,
    duckdb_errors,
    write_transaction,
)
from interlace.warehouse.database import DuckDBWarehouse
from interlace.warehouse.evolution import reconcile_target, table_schema
from interlace.warehouse.identifiers import qualified, quote_ident
from interlace.warehouse.inputs import bound_inputs
from interlace.warehouse.results import RelationResult, to_result
from interlace.warehouse.scd2 import scd2_options, write_scd2
from interlace.warehouse.scratch import (
    SCRATCH_SCHEMA,
    ensure_schema,
    run_output_name,
)
from interlace.warehouse.shaping import raw_hints
from interlace.warehouse.staging import StagedResult, drop_staged, stage_result
from interlace.warehouse.strategies import (
    Counters,
    create_target,
    write_append,
    write_merge,
    write_replace,
)
from interlace.warehouse.views import (
    qualify_upstreams,
    replace_view,
    stored_view_hash,
    view_hash,
    view_sql,
)

__all__ = ["WriteResult", "materialise"]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
Materialising = Callable[[int | None], None]


def _silent(rows_ingested: int | None) -> None:
    del rows_ingested


# Strategies that replace every row: existing values need not convert.
_REPLACING = frozenset({Strategy.REPLACE, Strategy.NONE})


class WriteResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one task wrote."""

    rows_ingested: int | None = None
    """Rows the model returned (None when it returned None)."""
    rows_processed: int | None = None
    """Rows written by this task: inserted + updated + deleted (a replace
    counts only the rows it inserted); never the table total."""
    rows_inserted: int | None = None
    rows_updated: int | None = None
    rows_deleted: int | None = None
    materialised: bool = False
    """The target's data may have changed."""
    columns: list[tuple[str, str]] = msgspec.field(default_factory=list)
    """Name and canonical type of each written result column."""
    schema_columns: list[SchemaColumn] = msgspec.field(default_factory=list)
    """Every column of the target table after a `table` write, as schema
    history records it (SPEC §8.1); empty when no table was written."""
    schema_changes: int = 0
    """Columns this write added to or retyped in an existing target."""


def materialise(
    warehouse: DuckDBWarehouse,
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    value: Any,
    *,
    run_id: str,
    cancelled: Callable[[], bool],
    on_progress: Progress | None = None,
    on_materialising: Materialising | None = None,
) -> WriteResult:
    """Write `value` as `definition` says; see the module docstring.

    `on_materialising(rows_ingested)` is called once the result is staged and
    its schema accepted, just before the target is written (SPEC §5.4).
    """
    announce = on_materialising or _silent
    check_cancelled(cancelled, definition.name)
    if value is None:
        return WriteResult()
    if definition.materialise is Materialise.VIEW:
        announce(None)
        return _write_view(warehouse, cursor, definition, value, cancelled)
    result = to_result(value, model=definition.name, hints=raw_hints(definition))
    if result is None:
        return WriteResult()
    if isinstance(result, RelationResult) and definition.type is ModelType.SQL:
        query = (definition.sql or "").strip().rstrip(";")
        result = msgspec.structs.replace(result, query=query)
    staged = stage_result(
        cursor,
        result,
        definition,
        run_id=run_id,
        cancelled=cancelled,
        on_progress=on_progress,
    )
    if staged is None:
        return _no_schema(warehouse, cursor, definition)
    try:
        check_cancelled(cancelled, definition.name)
        written = _write_staged(
            warehouse, cursor, definition, staged, run_id, cancelled, announce
        )
    finally:
        drop_staged(cursor, staged)
    if on_progress is not None and written.rows_processed is not None:
        on_progress(written.rows_processed, written.rows_processed)
    return written


def _write_staged(
    warehouse: DuckDBWarehouse,
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    staged: StagedResult,
    run_id: str,
    cancelled: Callable[[], bool],
    announce: Materialising,
) -> WriteResult:
    if definition.materialise in (Materialise.EPHEMERAL, Materialise.NONE):
        announce(staged.rows)
        _write_run_output(cursor, definition, staged, run_id, cancelled)
        return WriteResult(
            rows_ingested=staged.rows,
            rows_processed=staged.rows,
            columns=staged.columns,
        )
    return _write_table(warehouse, cursor, definition, staged, cancelled, announce)


def _write_table(
    warehouse: DuckDBWarehouse,
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    staged: StagedResult,
    cancelled: Callable[[], bool],
    announce: Materialising,
) -> WriteResult:
    kind = warehouse.relation_kind(cursor, definition.schema, definition.name)
    if kind is None:
        # An existing target proves its schema exists: create it only when
        # the target is new, which saves a statement on every later write.
        ensure_schema(cursor, definition.schema)
    if staged.rows == 0 and kind == "table":
        logger.debug("model %s returned no rows; target left as is", definition.name)
        return _written(staged, Counters(), materialised=False)
    target = qualified(definition.schema, definition.name)
    with write_transaction(
        cursor, model=definition.name, cancelled=cancelled, error=WriteError
    ):
        if kind == "view":
            # A model that used to be a view: the view holds no data.
            cursor.execute(f"DROP VIEW {target}")
        changed = 0
        if kind == "table":
            changed = _evolve(cursor, definition, target, staged)
        announce(staged.rows)
        counters = _apply_strategy(cursor, definition, target, staged, kind == "table")
        schema = table_schema(cursor, target, definition.primary_key)
    return msgspec.structs.replace(
        _written(staged, counters, materialised=True),
        schema_columns=schema,
        schema_changes=changed,
    )


def _evolve(
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    target: str,
    staged: StagedResult,
) -> int:
    """Apply the schema mode to an existing target (see `evolution`)."""
    strategy = definition.effective_strategy
    managed: list[str] = []
    if strategy is Strategy.SCD_TYPE_2:
        managed = scd2_options(definition).history_columns
    return reconcile_target(
        cursor,
        definition,
        target,
        staged,
        managed=managed,
        keeps_rows=strategy not in _REPLACING,
    )


def _apply_strategy(
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    target: str,
    staged: StagedResult,
    exists: bool,
) -> Counters:
    strategy = definition.effective_strategy
    if strategy is Strategy.SCD_TYPE_2:
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        return write_scd2(cursor, target, staged, definition, exists=exists, now=now)
    if not exists:
        return create_target(cursor, target, staged)
    if strategy is Strategy.APPEND:
        return write_append(cursor, target, staged)
    if strategy is Strategy.MERGE_BY_KEY:
        return write_merge(cursor, target, staged, definition)
    return write_replace(cursor, target, staged)


def _write_run_output(
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    staged: StagedResult,
    run_id: str,
    cancelled: Callable[[], bool],
) -> None:
    """Keep an ephemeral / none output for downstream tasks of this run."""
    name = run_output_name(run_id, definition.name)
    ensure_schema(cursor, SCRATCH_SCHEMA)
    with write_transaction(
        cursor, model=definition.name, cancelled=cancelled, error=WriteError
    ):
        output = qualified(SCRATCH_SCHEMA, name)
        cursor.execute(f"DROP TABLE IF EXISTS {output}")
        if staged.temporary:
            # Other tasks' cursors cannot see a temporary table: copy it.
            cursor.execute(f"CREATE TABLE {output} AS SELECT * FROM {staged.relation}")
        else:
            # Renaming the staging table avoids copying the data a second time.
            cursor.execute(
                f"ALTER TABLE {staged.relation} RENAME TO {quote_ident(name)}"
            )


def _write_view(
    warehouse: DuckDBWarehouse,
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
    value: Any,
    cancelled: Callable[[], bool],
) -> WriteResult:
    sql = qualify_upstreams(
        view_sql(definition, value), bound_inputs(cursor), model=definition.name
    )
    schema, name = definition.schema, definition.name
    ensure_schema(cursor, schema)
    kind = warehouse.relation_kind(cursor, schema, name)
    if kind == "table":
        raise WriteError(
            f"Model '{name}' is a view but `{schema}.{name}` is a table; drop the "
            "table or change the materialisation",
            model=name,
        )
    if kind is None or stored_view_hash(cursor, schema, name) != view_hash(sql):
        with write_transaction(
            cursor, model=name, cancelled=cancelled, error=WriteError
        ):
            replace_view(cursor, schema, name, sql)
        logger.info("view %s.%s (re)created", schema, name)
    return WriteResult(materialised=True, columns=_view_columns(cursor, schema, name))


def _view_columns(
    cursor: duckdb.DuckDBPyConnection, schema: str, name: str
) -> list[tuple[str, str]]:
    with duckdb_errors(model=name, action="describing the view"):
        rows = cursor.execute(f"DESCRIBE {qualified(schema, name)}").fetchall()
    return [(str(row[0]), canonical_from_duckdb(str(row[1]))) for row in rows]


def _no_schema(
    warehouse: DuckDBWarehouse,
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
) -> WriteResult:
    """An empty result without any schema: fine only if the target exists."""
    in_run = definition.materialise in (Materialise.EPHEMERAL, Materialise.NONE)
    if not in_run and warehouse.table_exists(
        cursor, definition.schema, definition.name
    ):
        return WriteResult(rows_ingested=0, rows_processed=0)
    raise SchemaInferenceError(
        f"Model '{definition.name}' returned no rows and declares no fields; "
        "cannot infer a schema",
        model=definition.name,
    )


def _written(
    staged: StagedResult, counters: Counters, *, materialised: bool
) -> WriteResult:
    return WriteResult(
        rows_ingested=staged.rows,
        rows_processed=counters.processed,
        rows_inserted=counters.inserted,
        rows_updated=counters.updated,
        rows_deleted=counters.deleted,
        materialised=materialised,
        columns=staged.columns,
    )
