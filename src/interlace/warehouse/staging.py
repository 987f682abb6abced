"""Stage a result into a scratch table, shaped, before it is written.

Staging runs the model's relation inside DuckDB (`CREATE TABLE ... AS
SELECT`), or appends Arrow batches one at a time as they arrive, applying
the shaping SELECT (§4.9) on the way in. Cast failures therefore surface
here, before the write transaction starts, and the staged table gives the
exact row count (`rows_ingested`) and column types of the result.

A relation run on the task cursor is staged in a temporary table: it lives
in memory, private to the task, so staging costs no write-ahead log entry
and no fsync. Batches are appended through a second cursor of the same
database instead (into the scratch schema): a model may return a reader that
streams from the task cursor, and running another statement on that cursor
would invalidate the reader mid-stream.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import duckdb
import msgspec
import pyarrow as pa

from interlace.engine.definition import ModelDefinition
from interlace.errors import SchemaInferenceError, TaskError
from interlace.types import canonical_from_duckdb
from interlace.warehouse.boundary import (
    check_cancelled,
    duckdb_errors,
    first_row,
    translate,
)
from interlace.warehouse.identifiers import qualified, quote_ident
from interlace.warehouse.results import BatchResult, RelationResult, ResultData
from interlace.warehouse.scratch import SCRATCH_SCHEMA, ensure_schema, staging_name
from interlace.warehouse.shaping import declared_columns_ddl, shaped_select

__all__ = ["StagedResult", "drop_staged", "stage_result"]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
_FOREIGN_BATCH_ROWS = 100_000


class StagedResult(msgspec.Struct, frozen=True, kw_only=True):
    """A shaped result sitting in the scratch schema."""

    relation: str
    """The qualified staging table."""
    temporary: bool
    """True for a temporary table of the task cursor, False for the scratch
    schema (visible to every cursor)."""
    rows: int
    columns: list[tuple[str, str]]
    """Column names and canonical types, in order."""
    sql_columns: list[tuple[str, str]]
    """Column names and DuckDB types (as DESCRIBE reports them)."""


def stage_result(
    cursor: duckdb.DuckDBPyConnection,
    result: ResultData,
    definition: ModelDefinition,
    *,
    run_id: str,
    cancelled: Callable[[], bool],
    on_progress: Progress | None = None,
) -> StagedResult | None:
    """Stage `result`; None when it has no rows and no schema at all.

    On any failure (including cancellation) the partial staging table is
    dropped before the error propagates.
    """
    name = staging_name(run_id, definition.name)
    temporary = _TEMPORARY + quote_ident(name)
    target = qualified(SCRATCH_SCHEMA, name)
    try:
        staged = _stage_any(
            cursor, result, (temporary, target), definition, cancelled, on_progress
        )
        if staged is None and _stage_declared(cursor, target, definition):
            staged = _Staged(target, temporary=False, rows=0)
        if staged is None:
            return None
        described = _describe(cursor, staged, definition.name)
    except BaseException:
        _drop_quietly(cursor, temporary, temporary=True)
        _drop_quietly(cursor, target, temporary=False)
        raise
    if on_progress is not None and isinstance(result, RelationResult):
        on_progress(described.rows, None)
    return described


_TEMPORARY = '"temp"."main".'


class _Staged(msgspec.Struct, frozen=True):
    relation: str
    temporary: bool
    rows: int


def _stage_any(
    cursor: duckdb.DuckDBPyConnection,
    result: ResultData,
    targets: tuple[str, str],
    definition: ModelDefinition,
    cancelled: Callable[[], bool],
    on_progress: Progress | None,
) -> _Staged | None:
    """Stage into the temporary target (relations) or the scratch one."""
    temporary, target = targets
    if isinstance(result, RelationResult):
        rows = _stage_relation(cursor, result, temporary, definition)
        if rows is not None:
            return _Staged(temporary, temporary=True, rows=rows)
        result = _foreign_relation_stream(result.relation, definition.name)
    rows = _stage_batches(cursor, result, target, definition, cancelled, on_progress)
    return None if rows is None else _Staged(target, temporary=False, rows=rows)


def drop_staged(cursor: duckdb.DuckDBPyConnection, staged: StagedResult) -> None:
    """Drop a staging table; failures are logged, the run scratch sweep retries."""
    _drop_quietly(cursor, staged.relation, temporary=staged.temporary)


def _drop_quietly(
    cursor: duckdb.DuckDBPyConnection, table: str, *, temporary: bool
) -> None:
    # A temporary table is visible to the task cursor only. Otherwise use a
    # child cursor: the task cursor may still hold an open result (a model's
    # reader that failed mid-stream), which would block any statement on it.
    dropper = cursor if temporary else cursor.cursor()
    try:
        dropper.execute(f"DROP TABLE IF EXISTS {table}")
    except duckdb.Error as exc:
        logger.warning("could not drop staging table %s: %s", table, exc)
    finally:
        if not temporary:
            dropper.close()


def _stage_relation(
    cursor: duckdb.DuckDBPyConnection,
    result: RelationResult,
    target: str,
    definition: ModelDefinition,
) -> int | None:
    """Run the relation into a temporary table of the task cursor.

    Returns the row count, or None when the relation belongs to another
    database (its view is not visible here); the caller then streams it as
    Arrow instead.
    """
    relation = result.relation
    select = shaped_select(definition, list(relation.columns))
    # Model code may have left an execute() result half-read (`fetchone`),
    # which blocks relation methods on the cursor; it is of no further use.
    cursor.abort()
    if result.query is not None:
        statement = (
            f"CREATE TEMP TABLE {target} AS SELECT {select} FROM ({result.query})"
        )
        with _staging_errors(definition.name):
            row = first_row(cursor, statement)
        return int(row[0]) if row else 0
    view = f"_interlace_result_{secrets.token_hex(4)}"
    try:
        # `create_view` makes a catalog view on the relation's own connection:
        # visible here only when that connection shares this database.
        with duckdb_errors(model=definition.name, action="preparing the result"):
            relation.create_view(view, replace=True)
        if not _view_visible(cursor, view):
            return None
        statement = (
            f"CREATE TEMP TABLE {target} AS SELECT {select} FROM {quote_ident(view)}"
        )
        with _staging_errors(definition.name):
            row = first_row(cursor, statement)
    finally:
        _drop_result_view(relation, view)
    return int(row[0]) if row else 0


def _drop_result_view(relation: duckdb.DuckDBPyRelation, view: str) -> None:
    """Drop the helper view through the relation's own connection."""
    try:
        relation.query(view, f"DROP VIEW IF EXISTS {quote_ident(view)}")
    except duckdb.Error as exc:
        logger.warning("could not drop helper view %s: %s", view, exc)


def _foreign_relation_stream(
    relation: duckdb.DuckDBPyRelation, model: str
) -> BatchResult:
    logger.debug("model %s returned a relation of another connection", model)
    with duckdb_errors(model=model, action="reading the returned relation"):
        reader = relation.to_arrow_reader(_FOREIGN_BATCH_ROWS)
    return BatchResult(iter([reader]), model=model, hints={})


def _stage_batches(
    cursor: duckdb.DuckDBPyConnection,
    result: BatchResult,
    target: str,
    definition: ModelDefinition,
    cancelled: Callable[[], bool],
    on_progress: Progress | None,
) -> int | None:
    """Append the batches to `target`; the row count, None when none came."""
    writer = cursor.cursor()
    rows = 0
    try:
        ensure_schema(writer, SCRATCH_SCHEMA)
        for batch in result:
            check_cancelled(cancelled, definition.name)
            _append(writer, target, definition, batch, first=rows == 0)
            rows += batch.num_rows
            if on_progress is not None:
                on_progress(rows, None)
        if rows == 0 and result.schema is not None:
            empty = result.schema.empty_table().to_batches() or [
                pa.RecordBatch.from_pylist([], schema=result.schema)
            ]
            _append(writer, target, definition, empty[0], first=True)
            return 0
        return rows if rows > 0 else None
    finally:
        result.close()
        writer.close()


def _append(
    writer: duckdb.DuckDBPyConnection,
    target: str,
    definition: ModelDefinition,
    batch: pa.RecordBatch,
    *,
    first: bool,
) -> None:
    source = f"_interlace_batch_{secrets.token_hex(4)}"
    select = shaped_select(definition, batch.schema.names)
    if first:
        statement = f"CREATE TABLE {target} AS SELECT {select} FROM {source}"
    else:
        statement = f"INSERT INTO {target} BY NAME SELECT {select} FROM {source}"
    writer.register(source, batch)
    try:
        with _staging_errors(definition.name):
            writer.execute(statement)
    finally:
        writer.unregister(source)


def _stage_declared(
    cursor: duckdb.DuckDBPyConnection, target: str, definition: ModelDefinition
) -> bool:
    """Create an empty staging table from `fields`; False without fields."""
    columns = declared_columns_ddl(definition)
    if not columns:
        return False
    with _staging_errors(definition.name):
        cursor.execute(f"CREATE TABLE {target} ({columns})")
    return True


def _describe(
    cursor: duckdb.DuckDBPyConnection, staged: _Staged, model: str
) -> StagedResult:
    with duckdb_errors(model=model, action="reading the staged result"):
        described = cursor.execute(f"DESCRIBE {staged.relation}").fetchall()
    sql_columns = [(str(col[0]), str(col[1])) for col in described]
    columns = [(col, canonical_from_duckdb(kind)) for col, kind in sql_columns]
    return StagedResult(
        relation=staged.relation,
        temporary=staged.temporary,
        rows=staged.rows,
        columns=columns,
        sql_columns=sql_columns,
    )


@contextmanager
def _staging_errors(model: str) -> Iterator[None]:
    """Cast failures are schema errors; other failures are the model's."""
    try:
        yield
    except duckdb.ConversionException as exc:
        raise SchemaInferenceError(
            f"Model '{model}': the result does not match the declared "
            f"`fields`: {str(exc).strip()}",
            model=model,
        ) from exc
    except duckdb.Error as exc:
        action = "running the model's query"
        raise translate(exc, model=model, action=action, error=TaskError) from exc


def _view_visible(cursor: duckdb.DuckDBPyConnection, view: str) -> bool:
    row = first_row(
        cursor,
        "SELECT count(*) FROM duckdb_views() WHERE view_name = $name",
        {"name": view},
    )
    return row is not None and row[0] > 0
