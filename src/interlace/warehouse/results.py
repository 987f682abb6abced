"""Turn whatever a model returned into `ResultData` (SPEC §4.5).

Two shapes come out: a `RelationResult` (a DuckDB relation or `Table`, which
executes inside the warehouse, so no data passes through Python) and a
`BatchResult` (a lazy stream of Arrow record batches). Generators, async
generators and readers are consumed one batch at a time; the first non-empty
batch fixes the schema and later batches are cast to it, so memory stays
bounded by one batch.
"""

from __future__ import annotations

import asyncio
import collections.abc as abc
import inspect
from collections.abc import Iterator, Mapping
from typing import Any

import duckdb
import msgspec
import pyarrow as pa

from interlace.errors import SchemaInferenceError, UnsupportedReturnType
from interlace.types import canonical_from_arrow
from interlace.warehouse.inference import columns_table, rows_table
from interlace.warehouse.table import Table

__all__ = ["BatchResult", "RelationResult", "ResultData", "to_result"]

_EXPECTED = (
    "expected None, rows, columns, Arrow, DataFrame, DuckDB relation or an "
    "iterator of these"
)
_EXPECTED_ITEM = "expected rows, columns, Arrow, DataFrame or DuckDB relation"
_ARROW_CAST_ERRORS = (pa.ArrowException, TypeError, ValueError)


class RelationResult(msgspec.Struct, frozen=True, kw_only=True):
    """A result that executes inside DuckDB on the task cursor."""

    relation: duckdb.DuckDBPyRelation
    query: str | None = None
    """The SQL the relation was built from on the task cursor, when known
    (SQL models): staging then runs it directly, with no helper view."""


class BatchResult:
    """A stream of Arrow batches conforming to the first non-empty batch.

    `schema` is known once the first non-empty batch was read; after the
    stream is exhausted it falls back to the schema of an empty Arrow item,
    and stays None when no item carried any schema (empty Python rows).
    """

    def __init__(
        self, items: Iterator[Any], *, model: str, hints: Mapping[str, str]
    ) -> None:
        self.model = model
        self.schema: pa.Schema | None = None
        self._items = items
        self._declared = dict(hints)
        self._hints = dict(hints)
        self._first_batch = 0
        self._empty_schema: pa.Schema | None = None

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        for number, item in enumerate(self._items, start=1):
            source = _item_arrow(item, self.model, number, self._hints)
            if self._empty_schema is None and source.schema.names:
                self._empty_schema = _normalised(source.schema)
            for batch in _source_batches(source):
                if batch.num_rows:
                    yield self._conform(batch, number)
        if self.schema is None:
            self.schema = self._empty_schema

    def close(self) -> None:
        """Finish the producing generator (runs its `finally` blocks)."""
        close = getattr(self._items, "close", None)
        if close is not None:
            close()

    def _conform(self, batch: pa.RecordBatch, number: int) -> pa.RecordBatch:
        if self.schema is None:
            self.schema = _normalised(batch.schema)
            self._first_batch = number
            fixed = {f.name: canonical_from_arrow(f.type) for f in self.schema}
            self._hints = {**fixed, **self._declared}
        if batch.schema.equals(self.schema):
            return batch
        try:
            return _cast_batch(batch, self.schema)
        except (_ExtraColumns, *_ARROW_CAST_ERRORS) as exc:
            raise SchemaInferenceError(
                f"Model '{self.model}': batch {number} does not match the schema "
                f"of batch {self._first_batch}: {exc}",
                model=self.model,
            ) from exc


ResultData = RelationResult | BatchResult


def to_result(
    value: Any, *, model: str, hints: Mapping[str, str] | None = None
) -> ResultData | None:
    """`ResultData` for a model's return value; None when it returned None.

    `hints` maps result column names (before `column_mapping`) to declared
    canonical types, used while converting Python values.
    """
    hints = hints or {}
    if value is None:
        return None
    if isinstance(value, Table):
        return RelationResult(relation=value.relation)
    if isinstance(value, duckdb.DuckDBPyRelation):
        return RelationResult(relation=value)
    if _is_async_iterator(value):
        return BatchResult(_async_items(value), model=model, hints=hints)
    if isinstance(value, abc.Iterator) and not _is_arrow(value):
        return BatchResult(_sync_items(value), model=model, hints=hints)
    _check_item(value, model, None)
    return BatchResult(iter([value]), model=model, hints=hints)


def _item_arrow(
    item: Any, model: str, number: int, hints: Mapping[str, str]
) -> pa.Table | pa.RecordBatchReader:
    """One returned or yielded item as an Arrow table or reader."""
    if isinstance(item, (pa.Table, pa.RecordBatchReader)):
        return item
    if isinstance(item, pa.RecordBatch):
        return pa.Table.from_batches([item])
    if isinstance(item, Table):
        return item.arrow()
    if isinstance(item, duckdb.DuckDBPyRelation):
        return item.to_arrow_table()
    frame = _frame_kind(item)
    if frame is not None:
        return _frame_arrow(item, frame, model)
    _check_item(item, model, number)
    if isinstance(item, list):
        return rows_table(item, model=model, hints=hints)
    if all(isinstance(column, list) for column in item.values()) and item:
        return _columns_arrow(item, model, hints)
    return rows_table([item], model=model, hints=hints)


def _check_item(item: Any, model: str, number: int | None) -> None:
    """Raise `UnsupportedReturnType` unless `item` is a convertible batch."""
    supported = (pa.Table, pa.RecordBatch, pa.RecordBatchReader, dict, Table)
    if isinstance(item, supported) or _frame_kind(item) is not None:
        return
    if isinstance(item, duckdb.DuckDBPyRelation):
        return
    if isinstance(item, list):
        _check_rows(item, model, number)
        return
    kind = type(item).__name__
    if number is None:
        message = f"Model '{model}' returned unsupported type '{kind}'; {_EXPECTED}"
    else:
        message = (
            f"Model '{model}' yielded unsupported type '{kind}' as batch {number}; "
            f"{_EXPECTED_ITEM}"
        )
    raise UnsupportedReturnType(message, model=model)


def _check_rows(rows: list[Any], model: str, number: int | None) -> None:
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            where = "" if number is None else f" (batch {number})"
            raise UnsupportedReturnType(
                f"Model '{model}' returned a list{where} whose item {index} is "
                f"'{type(row).__name__}'; expected dict rows",
                model=model,
            )


def _columns_arrow(
    columns: dict[str, list[Any]], model: str, hints: Mapping[str, str]
) -> pa.Table:
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) > 1:
        found = ", ".join(f"`{name}` has {size}" for name, size in lengths.items())
        raise UnsupportedReturnType(
            f"Model '{model}' returned columns of unequal lengths ({found}); "
            "expected every list to have the same length",
            model=model,
        )
    return columns_table(columns, model=model, hints=hints)


def _frame_kind(value: Any) -> str | None:
    module = type(value).__module__.split(".", 1)[0]
    if module in {"pandas", "polars"} and type(value).__name__ == "DataFrame":
        return module
    return None


def _frame_arrow(frame: Any, kind: str, model: str) -> pa.Table:
    try:
        if kind == "polars":
            table: pa.Table = frame.to_arrow()
            return table
        # A named index carries data (e.g. after a groupby); an unnamed one is
        # only row numbering and is dropped.
        named = any(name is not None for name in frame.index.names)
        return pa.Table.from_pandas(frame, preserve_index=named)
    except _ARROW_CAST_ERRORS as exc:
        raise SchemaInferenceError(
            f"Model '{model}': the {kind} DataFrame cannot be converted to Arrow: "
            f"{exc}",
            model=model,
        ) from exc


def _source_batches(
    source: pa.Table | pa.RecordBatchReader,
) -> Iterator[pa.RecordBatch]:
    if isinstance(source, pa.Table):
        yield from source.to_batches()
        return
    while True:
        try:
            yield source.read_next_batch()
        except StopIteration:
            return


class _ExtraColumns(Exception):
    """A later batch has columns the first batch did not have."""


def _cast_batch(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    names = set(batch.schema.names)
    extra = [name for name in batch.schema.names if name not in schema.names]
    if extra:
        raise _ExtraColumns(f"unexpected columns {', '.join(extra)}")
    arrays = [
        batch.column(field.name).cast(field.type)
        if field.name in names
        else pa.nulls(batch.num_rows, field.type)
        for field in schema
    ]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _normalised(schema: pa.Schema) -> pa.Schema:
    """Null-typed columns (no value anywhere) become strings."""
    fields = [
        field.with_type(pa.string()) if pa.types.is_null(field.type) else field
        for field in schema
    ]
    return pa.schema(fields)


def _is_arrow(value: Any) -> bool:
    return isinstance(value, (pa.Table, pa.RecordBatch, pa.RecordBatchReader))


def _is_async_iterator(value: Any) -> bool:
    return inspect.isasyncgen(value) or isinstance(value, abc.AsyncIterator)


def _sync_items(iterator: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from iterator
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()


def _async_items(iterator: abc.AsyncIterator[Any]) -> Iterator[Any]:
    """Drive an async iterator from this (worker) thread, one item at a time."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                item = loop.run_until_complete(anext(iterator))
            except StopAsyncIteration:
                return
            yield item
    finally:
        aclose = getattr(iterator, "aclose", None)
        if aclose is not None:
            loop.run_until_complete(aclose())
        loop.close()
