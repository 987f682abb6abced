"""The `view` materialisation: replace the view only when its SQL changed.

A persistent view must not reference the cursor's temporary upstream views
(other connections would not resolve them), so bare upstream names are
rewritten to their qualified sources with sqlglot before hashing. The SHA-256
of the final SQL is kept in the view's DuckDB comment (`interlace:sha256=`),
so the hash lives and dies with the view itself.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from interlace.engine.definition import ModelDefinition, ModelType
from interlace.errors import UnsupportedReturnType, WriteError
from interlace.warehouse.boundary import first_row
from interlace.warehouse.identifiers import qualified, quote_literal
from interlace.warehouse.inputs import UpstreamRef
from interlace.warehouse.table import Table

__all__ = ["qualify_upstreams", "stored_view_hash", "view_hash", "view_sql"]

logger = logging.getLogger(__name__)

_MARKER = "interlace:sha256="


def view_sql(definition: ModelDefinition, value: Any) -> str:
    """The query a view model defines, without a trailing semicolon."""
    if definition.type is ModelType.SQL and definition.sql:
        return _strip(definition.sql)
    if isinstance(value, Table):
        return _strip(value.query)
    if isinstance(value, duckdb.DuckDBPyRelation):
        return _strip(value.sql_query())
    raise UnsupportedReturnType(
        f"Model '{definition.name}' is a view and returned "
        f"'{type(value).__name__}'; expected a Table or a DuckDB relation",
        model=definition.name,
    )


def qualify_upstreams(
    sql: str, upstreams: Mapping[str, UpstreamRef], *, model: str
) -> str:
    """Rewrite bare references to bound upstreams into their sources.

    Returns `sql` unchanged when it references no bound upstream, so that
    the stored hash does not depend on sqlglot's formatting.
    """
    sources = {
        name.lower(): ref.source_sql
        for name, ref in upstreams.items()
        if ref.source_sql is not None
    }
    if not sources:
        return sql
    try:
        tree = sqlglot.parse_one(sql, dialect="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise WriteError(
            f"Model '{model}': the view SQL cannot be parsed to qualify its "
            f"upstream names: {exc}",
            model=model,
        ) from exc
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    replaced = False
    for table in list(tree.find_all(exp.Table)):
        name = table.name.lower()
        if table.db or table.catalog or name not in sources or name in ctes:
            continue
        table.replace(_source_table(sources[name], alias=table.alias or table.name))
        replaced = True
    return tree.sql(dialect="duckdb") if replaced else sql


def view_hash(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()


def stored_view_hash(
    cursor: duckdb.DuckDBPyConnection, schema: str, name: str
) -> str | None:
    """The hash recorded on an existing view, or None."""
    row = first_row(
        cursor,
        "SELECT comment FROM duckdb_views() WHERE database_name = current_database()"
        " AND schema_name = $schema AND view_name = $name AND NOT temporary",
        {"schema": schema, "name": name},
    )
    comment = row[0] if row else None
    if not isinstance(comment, str) or not comment.startswith(_MARKER):
        return None
    return comment[len(_MARKER) :]


def replace_view(
    cursor: duckdb.DuckDBPyConnection, schema: str, name: str, sql: str
) -> None:
    """`CREATE OR REPLACE VIEW` and record its hash (inside a transaction)."""
    target = qualified(schema, name)
    cursor.execute(f"CREATE OR REPLACE VIEW {target} AS {sql}")
    marker = quote_literal(_MARKER + view_hash(sql))
    cursor.execute(f"COMMENT ON VIEW {target} IS {marker}")


def _source_table(source: str, *, alias: str) -> exp.Table:
    table = exp.to_table(source, dialect="duckdb")
    table.set("alias", exp.TableAlias(this=exp.to_identifier(alias)))
    return table


def _strip(sql: str) -> str:
    return sql.strip().rstrip(";").strip()
