"""Incremental cursors in SQL: filter upstreams past a watermark, find the next.

A watermark is stored as text. It is compared in the column's own type:
numerically for numeric columns (when the watermark parses as a number), as
the column's temporal type for dates and timestamps, and as text otherwise,
which orders ISO-8601 strings correctly.
"""

from __future__ import annotations

import duckdb
import msgspec

from interlace.warehouse.boundary import duckdb_errors, first_row
from interlace.warehouse.identifiers import quote_ident, quote_literal

__all__ = ["CursorBounds", "column_type", "cursor_predicate", "max_value"]

_NUMERIC = (
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT",
    "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL",
)  # fmt: skip
_TEMPORAL = ("DATE", "TIME", "TIMESTAMP")


class CursorBounds(msgspec.Struct, frozen=True, kw_only=True):
    """Rows with `lower < column <= upper`; None leaves a side open."""

    column: str
    lower: str | None = None
    upper: str | None = None


def column_type(
    cursor: duckdb.DuckDBPyConnection, source: str, column: str
) -> str | None:
    """The DuckDB type of `column` in the relation `source`, or None if absent."""
    with duckdb_errors(model=None, action=f"describing {source}"):
        rows = cursor.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    for name, kind, *_ in rows:
        if str(name).lower() == column.lower():
            return str(kind)
    return None


def cursor_predicate(bounds: CursorBounds, kind: str) -> str | None:
    """The SQL predicate for `bounds` on a column of type `kind`."""
    parts = []
    if bounds.lower is not None:
        parts.append(_comparison(bounds.column, ">", bounds.lower, kind))
    if bounds.upper is not None:
        parts.append(_comparison(bounds.column, "<=", bounds.upper, kind))
    return " AND ".join(parts) or None


def _comparison(column: str, operator: str, value: str, kind: str) -> str:
    name = quote_ident(column)
    upper_kind = kind.upper()
    if upper_kind.startswith(_NUMERIC) and _is_number(value):
        return f"{name} {operator} {value}"
    if upper_kind.startswith(_TEMPORAL):
        return f"{name} {operator} CAST({quote_literal(value)} AS {kind})"
    return f"CAST({name} AS VARCHAR) {operator} {quote_literal(value)}"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def max_value(
    cursor: duckdb.DuckDBPyConnection, sources: list[str], column: str
) -> str | None:
    """The largest `column` over `sources`, as text; None when all are empty."""
    if not sources:
        return None
    branches = " UNION ALL ".join(
        f"SELECT max({quote_ident(column)}) AS value FROM {source}"
        for source in sources
    )
    query = f"SELECT CAST(max(value) AS VARCHAR) FROM ({branches})"
    with duckdb_errors(model=None, action=f"reading the watermark `{column}`"):
        row = first_row(cursor, query)
    return None if row is None or row[0] is None else str(row[0])
