"""Call a model: inject upstream tables, `connection` and `context` (§4.3).

`call_model` runs on a worker thread. An `async def` model is run to
completion with `asyncio.run` there (the thread has no event loop); an async
generator is returned as it is, and `results` drives it batch by batch.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from typing import Any

import duckdb

from interlace.engine.context import RunContext
from interlace.engine.definition import ModelDefinition
from interlace.errors import MissingDependency, TaskCancelled, TaskError
from interlace.warehouse.boundary import translate
from interlace.warehouse.table import Table

__all__ = ["call_model", "sql_result"]


def call_model(
    definition: ModelDefinition,
    tables: Mapping[str, Table],
    cursor: duckdb.DuckDBPyConnection,
    context: RunContext,
) -> Any:
    """Call the model's function and return what it returned.

    Exceptions raised by user code propagate unchanged (the runtime records
    and may retry them), except a DuckDB interrupt, which means the run was
    cancelled.
    """
    function = definition.function
    if function is None:
        raise TaskError(
            f"Model '{definition.name}' has no function to call", model=definition.name
        )
    arguments = _arguments(definition, tables, cursor, context)
    try:
        value = function(**arguments)
        if inspect.iscoroutine(value):
            value = asyncio.run(value)
    except duckdb.InterruptException as exc:
        raise TaskCancelled(
            f"Model '{definition.name}' was cancelled", model=definition.name
        ) from exc
    return value


def sql_result(
    definition: ModelDefinition, cursor: duckdb.DuckDBPyConnection
) -> duckdb.DuckDBPyRelation:
    """The SQL model's query as a relation on the task cursor (not executed)."""
    query = (definition.sql or "").strip().rstrip(";").strip()
    if not query:
        raise TaskError(
            f"Model '{definition.name}' has no SQL query", model=definition.name
        )
    try:
        relation = cursor.sql(query)
    except duckdb.Error as exc:
        missing = isinstance(exc, duckdb.CatalogException) and "Table with name" in str(
            exc
        )
        error = MissingDependency if missing else TaskError
        action = "binding the SQL query"
        raise translate(exc, model=definition.name, action=action, error=error) from exc
    if relation is None:
        raise TaskError(
            f"Model '{definition.name}': the SQL is a statement, not a query; "
            "expected a SELECT returning rows",
            model=definition.name,
        )
    return relation


def _arguments(
    definition: ModelDefinition,
    tables: Mapping[str, Table],
    cursor: duckdb.DuckDBPyConnection,
    context: RunContext,
) -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    for name in definition.parameters:
        if name in tables:
            arguments[name] = tables[name]
        elif name not in definition.optional_parameters:
            raise MissingDependency(
                f"Model '{definition.name}' depends on '{name}', which was not "
                "bound; expected an upstream table",
                model=definition.name,
            )
    if definition.injects_connection:
        arguments["connection"] = cursor
    if definition.injects_context:
        arguments["context"] = context
    return arguments
