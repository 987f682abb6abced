"""Column lineage of a SQL model, computed from its query with sqlglot.

The query is parsed once and traced by `QueryTracer`; sqlglot errors are
translated here, at the one place SQL enters the lineage package.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError

from interlace.lineage.edges import (
    ColumnEdge,
    LineageColumn,
    LineageError,
    ModelColumnLineage,
    supersedes,
)
from interlace.lineage.sql_relations import Origin, Relation, SchemaCatalog
from interlace.lineage.sql_trace import QueryTracer

__all__ = ["parse_query", "sql_column_lineage"]

logger = logging.getLogger(__name__)

Schemas = Mapping[str, Mapping[str, str | None]]


def sql_column_lineage(
    model: str,
    sql: str,
    schemas: Schemas | SchemaCatalog,
    *,
    dialect: str = "duckdb",
) -> ModelColumnLineage:
    """Output columns of `model` and the edges to the upstream columns.

    `schemas` maps upstream model names to `{column: canonical type}` (type
    None when unknown); tables missing from it are traced with less
    confidence. Raises `LineageError` when the SQL cannot be parsed or is
    not a single query.
    """
    catalog = schemas if isinstance(schemas, SchemaCatalog) else SchemaCatalog(schemas)
    query = parse_query(model, sql, dialect)
    tracer = QueryTracer(catalog, dialect)
    try:
        relation = tracer.query(query, {}, None)
    except SqlglotError as exc:
        raise LineageError(f"`{model}`: {exc}", model=model) from exc
    warnings = tuple(dict.fromkeys(tracer.warnings))
    if warnings:
        logger.debug("lineage of %s: %s", model, "; ".join(warnings))
    return _result(model, relation, warnings, dialect)


@functools.cache
def _dialect(name: str) -> Dialect:
    """Dialect settings are immutable; building them per query costs time."""
    return Dialect.get_or_raise(name)


def parse_query(model: str, sql: str, dialect: str = "duckdb") -> exp.Query:
    """The single query of a SQL model; `LineageError` otherwise."""
    try:
        statements = _dialect(dialect).parse(sql)
    except ParseError as exc:
        raise LineageError(_parse_message(model, exc), model=model) from exc
    except SqlglotError as exc:
        raise LineageError(
            f"`{model}`: SQL could not be parsed: {exc}", model=model
        ) from exc
    queries = [statement for statement in statements if statement is not None]
    if len(queries) != 1:
        raise LineageError(
            f"`{model}`: expected one query, found {len(queries)} statements",
            model=model,
        )
    query = queries[0]
    if not isinstance(query, exp.Query):
        raise LineageError(
            f"`{model}`: expected a SELECT query, found `{query.key.upper()}`",
            model=model,
        )
    return query


def _parse_message(model: str, exc: ParseError) -> str:
    if not exc.errors:
        return f"`{model}`: SQL could not be parsed: {exc}"
    first = exc.errors[0]
    return (
        f"`{model}`: SQL could not be parsed at line {first.get('line')}, "
        f"column {first.get('col')}: {first.get('description')}"
    )


def _result(
    model: str, relation: Relation, warnings: tuple[str, ...], dialect: str
) -> ModelColumnLineage:
    text = _ExpressionText(dialect)
    edges = [
        ColumnEdge(
            source_model=origin.model,
            source_column=origin.column,
            output_model=model,
            output_column=column.name,
            transformation_type=origin.kind,
            transformation_expression=text(origin.node),
            confidence=origin.confidence,
        )
        for column in relation.columns.values()
        for origin in _strongest(column.origins)
    ]
    columns = tuple(
        LineageColumn(name=column.name, data_type=column.data_type)
        for column in relation.columns.values()
    )
    return ModelColumnLineage(
        model=model,
        columns=columns,
        edges=tuple(edges),
        warnings=warnings,
        complete=relation.complete,
    )


def _strongest(origins: tuple[Origin, ...]) -> list[Origin]:
    """One origin per upstream column: the strongest transformation wins
    (a column read by both branches of a UNION, or twice in one expression)."""
    chosen: dict[tuple[str, str], Origin] = {}
    for origin in origins:
        key = (origin.model, origin.column.lower())
        current = chosen.get(key)
        if current is None or _replaces(current, origin):
            chosen[key] = origin
    return list(chosen.values())


def _replaces(current: Origin, other: Origin) -> bool:
    if current.kind is other.kind:
        return other.confidence > current.confidence
    return supersedes(other.kind, current.kind)


class _ExpressionText:
    """Renders each expression node once: generating SQL is the costly part
    of building edges, and one expression often feeds several edges."""

    def __init__(self, dialect: str) -> None:
        self._generator = _dialect(dialect).generator()
        self._cache: dict[int, str] = {}

    def __call__(self, node: exp.Expr | None) -> str | None:
        if node is None:
            return None
        text = self._cache.get(id(node))
        if text is None:
            if isinstance(node, exp.Column):
                text = _column_text(node)
            else:
                # No copy: copying costs more than rendering. The generator's
                # rewrites (none apply to SQL read in the same dialect) could
                # only touch a tree that tracing has finished with.
                text = self._generator.generate(node, copy=False)
            self._cache[id(node)] = text
        return text


def _column_text(column: exp.Column) -> str:
    """`t.c` without the generator, which costs as much as parsing the column."""
    return ".".join(_identifier_text(part) for part in column.parts)


def _identifier_text(identifier: exp.Expr) -> str:
    name = identifier.name
    if isinstance(identifier, exp.Identifier) and identifier.quoted:
        return '"' + name.replace('"', '""') + '"'
    return name
