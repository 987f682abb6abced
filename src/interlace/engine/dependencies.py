"""Dependency inference and normalisation of SQL, via sqlglot.

Only names that can be another model or an external table count as
dependencies. Left out: CTE names, table functions (`read_csv(...)`,
`range(10)`), names starting with `_` or `read_`, file paths used as tables
(`'data/*.parquet'`), catalog-qualified names (`pg.public.customers`, which
live in an attached database, never in the warehouse where models are), and
the system schemas `information_schema` and `pg_catalog`.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError, TokenError
from sqlglot.optimizer.scope import traverse_scope

__all__ = ["normalise_sql", "sql_dependencies"]

_SYSTEM_SCHEMAS = frozenset({"information_schema", "pg_catalog"})
_PATH_CHARACTERS = frozenset("./\\*:")


def sql_dependencies(sql: str, dialect: str = "duckdb") -> list[str]:
    """Bare names of the tables `sql` reads, deduplicated in text order.

    Raises `ValueError` with sqlglot's description when `sql` does not parse.
    """
    tables = [
        table for statement in _parse(sql, dialect) for table in _tables(statement)
    ]
    tables.sort(key=_position)
    names = [table.name for table in tables if _is_dependency(table)]
    return list(dict.fromkeys(names))


def normalise_sql(sql: str, dialect: str = "duckdb") -> str:
    """Canonical text of `sql` with comments dropped, for change detection.

    When sqlglot cannot parse the query, the text with whitespace collapsed
    is used instead, so formatting-only edits still leave the hash alone.
    """
    try:
        statements = _parse(sql, dialect)
    except ValueError:
        return " ".join(sql.split())
    return ";\n".join(
        statement.sql(dialect=dialect, pretty=True, comments=False)
        for statement in statements
    )


def _parse(sql: str, dialect: str) -> list[exp.Expr]:
    try:
        parsed = sqlglot.parse(sql, read=dialect)
    except ParseError as exc:
        raise ValueError(_describe(exc)) from exc
    except TokenError as exc:
        raise ValueError(str(exc)) from exc
    return [statement for statement in parsed if statement is not None]


def _describe(exc: ParseError) -> str:
    """sqlglot's first error without the terminal colour codes it embeds."""
    if not exc.errors:
        return str(exc)
    first = exc.errors[0]
    return f"{first['description']} (line {first['line']}, column {first['col']})"


def _position(table: exp.Table) -> int:
    start = table.this.meta.get("start") if table.this is not None else None
    return start if isinstance(start, int) else 1 << 62


def _tables(statement: exp.Expr) -> list[exp.Table]:
    """Tables read by `statement`, CTE references excluded.

    Scopes resolve CTE names where they are visible, so the `orders` inside
    `WITH orders AS (SELECT * FROM orders)` still counts. Statements sqlglot
    cannot scope (such as `PIVOT`) fall back to every table not named like
    a CTE.
    """
    try:
        scopes = traverse_scope(statement)
    except OptimizeError:
        scopes = []
    if scopes:
        return [
            source
            for scope in scopes
            for source in scope.sources.values()
            if isinstance(source, exp.Table)
        ]
    ctes = {cte.alias_or_name.lower() for cte in statement.find_all(exp.CTE)}
    return [
        table
        for table in statement.find_all(exp.Table)
        if table.name.lower() not in ctes
    ]


def _is_dependency(table: exp.Table) -> bool:
    if not isinstance(table.this, exp.Identifier):
        return False  # a table function such as read_csv(...) or range(10)
    name = table.name
    lowered = name.lower()
    if not name or lowered.startswith(("_", "read_")):
        return False
    if table.catalog or table.db.lower() in _SYSTEM_SCHEMAS:
        return False
    return not _PATH_CHARACTERS.intersection(name)
