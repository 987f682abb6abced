"""Upstream bindings: make every upstream visible by its bare name.

For each upstream the task cursor gets a temporary view named after it
(`CREATE TEMP VIEW orders AS SELECT * FROM "staging"."orders" [WHERE ...]`).
DuckDB resolves an unqualified name to the cursor's temporary objects before
the `main` schema (checked against DuckDB 2.0), and temporary objects are
private to a cursor, so concurrent tasks never see each other's bindings.

The bindings of each cursor are also remembered here: a persistent view
cannot reference a temporary view (it would break for every other
connection), so view materialisation rewrites bare upstream names to their
qualified sources using `bound_inputs`.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping

import duckdb
import msgspec
from sqlglot import exp

from interlace.errors import MissingDependency
from interlace.warehouse.boundary import (
    check_cancelled,
    duckdb_errors,
    first_row,
    translate,
)
from interlace.warehouse.cursors import database_of
from interlace.warehouse.identifiers import quote_ident
from interlace.warehouse.table import Table

__all__ = ["UpstreamRef", "bind_inputs", "bound_inputs"]

logger = logging.getLogger(__name__)

_bindings: weakref.WeakKeyDictionary[
    duckdb.DuckDBPyConnection, dict[str, UpstreamRef]
] = weakref.WeakKeyDictionary()
_bindings_lock = threading.Lock()


class UpstreamRef(msgspec.Struct, frozen=True, kw_only=True):
    """Where one upstream of a task reads from."""

    name: str
    """The name the model uses (parameter name, bare SQL name)."""
    source_sql: str | None = None
    """Qualified, quoted relation such as `"staging"."orders"`; None for an
    external table resolved by bare name on the connection."""
    filter_sql: str | None = None
    """Optional predicate (incremental cursors) applied to the source."""
    optional: bool = False
    """A missing optional upstream is left out instead of failing."""


def bind_inputs(
    cursor: duckdb.DuckDBPyConnection,
    refs: Iterable[UpstreamRef],
    *,
    cancelled: Callable[[], bool],
    model: str | None = None,
) -> dict[str, Table]:
    """Create the temporary views and return one `Table` per bound upstream.

    Raises `MissingDependency` for a missing required upstream; a missing
    optional one is left out so that the Python default applies.
    """
    tables: dict[str, Table] = {}
    for ref in refs:
        check_cancelled(cancelled, model)
        source = _bind(cursor, ref, model)
        if source is None:
            if ref.optional:
                logger.debug("optional upstream %s is absent", ref.name)
                continue
            raise MissingDependency(_missing_message(ref, model), model=model)
        _remember(cursor, msgspec.structs.replace(ref, source_sql=source))
        tables[ref.name] = Table(cursor, ref.name, cancelled=cancelled)
    return tables


def _bind(
    cursor: duckdb.DuckDBPyConnection, ref: UpstreamRef, model: str | None
) -> str | None:
    """Create the temporary view of `ref`; its source, or None when missing.

    A model's source is bound directly: creating the view fails with a
    catalog error when the source is missing, which saves a probe query per
    upstream on the hot path of every task.
    """
    if ref.source_sql is None:
        source = _external_source(cursor, ref.name)
        if source is not None:
            _create_view(cursor, ref, _in_catalog(cursor, source), model)
        return source
    try:
        _create_view(cursor, ref, _in_catalog(cursor, ref.source_sql), model)
    except MissingDependency:
        return None
    return ref.source_sql


def bound_inputs(cursor: duckdb.DuckDBPyConnection) -> Mapping[str, UpstreamRef]:
    """The upstreams bound on `cursor`, by name, with resolved sources."""
    with _bindings_lock:
        return dict(_bindings.get(cursor, {}))


def _external_source(cursor: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """Qualify an external table found in the connection's default schema."""
    query = (
        "SELECT schema_name FROM duckdb_tables() WHERE database_name ="
        " current_database() AND schema_name = current_schema()"
        " AND table_name = $name AND NOT temporary UNION ALL"
        " SELECT schema_name FROM duckdb_views() WHERE database_name ="
        " current_database() AND schema_name = current_schema()"
        " AND view_name = $name AND NOT temporary"
    )
    with duckdb_errors(model=None, action=f"looking up external table `{name}`"):
        row = first_row(cursor, query, {"name": name})
    if row is None:
        return None
    return f"{quote_ident(row[0])}.{quote_ident(name)}"


def _in_catalog(cursor: duckdb.DuckDBPyConnection, source: str) -> str:
    """`source` with the database name in front when it has none.

    The temporary catalog has a `main` schema too, so `"main"."orders"` inside
    the temporary view `orders` would resolve to the view itself.
    """
    table = exp.to_table(source, dialect="duckdb")
    if table.catalog:
        return source
    database = database_of(cursor)
    return f"{quote_ident(database)}.{source}" if database else source


def _create_view(
    cursor: duckdb.DuckDBPyConnection,
    ref: UpstreamRef,
    source: str,
    model: str | None,
) -> None:
    statement = (
        f"CREATE OR REPLACE TEMP VIEW {quote_ident(ref.name)} AS SELECT * FROM {source}"
    )
    if ref.filter_sql:
        statement += f" WHERE {ref.filter_sql}"
    try:
        cursor.execute(statement)
    except duckdb.CatalogException as exc:
        raise MissingDependency(_missing_message(ref, model), model=model) from exc
    except duckdb.Error as exc:
        action = f"binding upstream `{ref.name}`"
        raise translate(exc, model=model, action=action) from exc


def _remember(cursor: duckdb.DuckDBPyConnection, ref: UpstreamRef) -> None:
    with _bindings_lock:
        _bindings.setdefault(cursor, {})[ref.name] = ref


def _missing_message(ref: UpstreamRef, model: str | None) -> str:
    who = f"Model '{model}'" if model else "The model"
    where = ref.source_sql or "the connection's default schema"
    return (
        f"{who} depends on '{ref.name}', which does not exist "
        f"(looked for {where}); run its model first or create the table"
    )
