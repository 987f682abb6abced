"""`Table`: the lazy handle a model receives for each upstream.

A `Table` is a name plus a query on the task cursor; nothing is read until a
method asks for data, and every such method first checks whether the run was
cancelled, so Python code stops at its next `Table` call (SPEC §5.5).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from interlace.errors import InterlaceError
from interlace.warehouse.boundary import check_cancelled, duckdb_errors, first_row
from interlace.warehouse.identifiers import quote_ident

if TYPE_CHECKING:
    import pandas
    import polars

__all__ = ["MissingExtraError", "Table"]


def _never_cancelled() -> bool:
    return False


class MissingExtraError(InterlaceError, ImportError):
    """An optional library (pandas, polars) is not installed."""

    code = "MISSING_EXTRA"


class Table:
    """A lazy, SQL-visible relation on the task cursor."""

    __slots__ = ("_cancelled", "_cursor", "_name", "_query")

    def __init__(
        self,
        cursor: duckdb.DuckDBPyConnection,
        name: str,
        *,
        query: str | None = None,
        cancelled: Callable[[], bool] = _never_cancelled,
    ) -> None:
        self._cursor = cursor
        self._name = name
        self._query = query or f"SELECT * FROM {quote_ident(name)}"
        self._cancelled = cancelled

    @property
    def name(self) -> str:
        """The name under which SQL on the task cursor sees this table."""
        return self._name

    @property
    def query(self) -> str:
        """The SQL this handle reads (`SELECT * FROM "<name>"` for upstreams)."""
        return self._query

    @property
    def relation(self) -> duckdb.DuckDBPyRelation:
        """A new DuckDB relation over the table, on the task cursor."""
        self._check()
        with self._errors("binding"):
            return self._cursor.sql(self._query)

    @property
    def columns(self) -> list[str]:
        return list(self.relation.columns)

    @property
    def schema(self) -> pa.Schema:
        relation = self.relation
        with self._errors("reading the schema of"):
            schema: pa.Schema = relation.limit(0).to_arrow_table().schema
        return schema

    def count(self) -> int:
        self._check()
        query = f"SELECT count(*) FROM ({self._query})"
        with self._errors("counting"):
            row = first_row(self._cursor, query)
        return int(row[0]) if row else 0

    def arrow(self) -> pa.Table:
        """All rows as a `pyarrow.Table` (in memory)."""
        relation = self.relation
        with self._errors("reading"):
            table: pa.Table = relation.to_arrow_table()
        return table

    def reader(self, batch_size: int = 100_000) -> pa.RecordBatchReader:
        """A streaming reader; cancellation is checked between batches."""
        relation = self.relation
        with self._errors("reading"):
            source = relation.to_arrow_reader(batch_size)
        batches = self._checked_batches(source)
        return pa.RecordBatchReader.from_batches(source.schema, batches)

    def df(self) -> pandas.DataFrame:
        """All rows as a pandas DataFrame (extra `pandas`)."""
        _require("pandas")
        return self.arrow().to_pandas()

    def pl(self) -> polars.DataFrame:
        """All rows as a polars DataFrame (extra `polars`)."""
        _require("polars")
        import polars

        frame = polars.from_arrow(self.arrow())
        assert isinstance(frame, polars.DataFrame)
        return frame

    def sql(self, query: str) -> Table:
        """A new `Table` over `query`; upstreams are visible by their names.

        The new table is itself SQL-visible under a generated name (a
        temporary view on the task cursor), so handles compose.
        """
        self._check()
        name = f"_interlace_q_{secrets.token_hex(4)}"
        body = query.strip().rstrip(";")
        with self._errors("defining a query over"):
            self._cursor.execute(
                f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS {body}"
            )
        return Table(self._cursor, name, query=body, cancelled=self._cancelled)

    def _checked_batches(
        self, source: pa.RecordBatchReader
    ) -> Iterator[pa.RecordBatch]:
        while True:
            self._check()
            try:
                with self._errors("reading"):
                    batch = source.read_next_batch()
            except StopIteration:
                return
            yield batch

    def _check(self) -> None:
        check_cancelled(self._cancelled, None)

    def _errors(self, action: str) -> Any:
        return duckdb_errors(model=None, action=f"{action} table `{self._name}`")

    def __repr__(self) -> str:
        return f"Table({self._name!r})"


def _require(module: str) -> None:
    try:
        __import__(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"`{module}` is not installed; install it with "
            f"`pip install 'interlace[{module}]'`"
        ) from exc
