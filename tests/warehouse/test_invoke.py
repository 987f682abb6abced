"""Calling models: injection, async functions, SQL relations (SPEC §4.3)."""

from __future__ import annotations

import inspect

import pytest

from interlace.engine.context import RunContext
from interlace.engine.definition import ModelType
from interlace.errors import MissingDependency, TaskError
from interlace.warehouse.inputs import UpstreamRef, bind_inputs
from interlace.warehouse.invoke import call_model, sql_result
from interlace.warehouse.table import Table


@pytest.fixture
def context():
    return RunContext(run_id="run_1", task_id="task_1", model="orders")


@pytest.fixture
def tables(cursor):
    cursor.execute("CREATE TABLE raw AS SELECT 1 AS a")
    refs = [UpstreamRef(name="raw", source_sql='"main"."raw"')]
    return bind_inputs(cursor, refs, cancelled=lambda: False)


def python_model(define, function, **options):
    parameters = inspect.signature(function).parameters
    upstream = tuple(p for p in parameters if p not in {"connection", "context"})
    optional = frozenset(
        name
        for name in upstream
        if parameters[name].default is not inspect.Parameter.empty
    )
    return define(
        function=function,
        parameters=upstream,
        optional_parameters=optional,
        injects_connection="connection" in parameters,
        injects_context="context" in parameters,
        **options,
    )


def test_upstreams_connection_and_context_are_injected(define, tables, cursor, context):
    seen = {}

    def model(raw, connection, context):
        seen.update(raw=raw, connection=connection, context=context)
        return raw

    result = call_model(python_model(define, model), tables, cursor, context)

    assert isinstance(seen["raw"], Table)
    assert seen["connection"] is cursor
    assert seen["context"] is context
    assert result is seen["raw"]


def test_optional_parameter_keeps_its_default_when_unbound(define, cursor, context):
    def model(lookup=None):
        return lookup

    assert call_model(python_model(define, model), {}, cursor, context) is None


def test_required_unbound_parameter_is_a_missing_dependency(define, cursor, context):
    def model(raw):
        return raw

    with pytest.raises(MissingDependency, match="'raw'"):
        call_model(python_model(define, model), {}, cursor, context)


def test_async_function_is_run_to_completion(define, tables, cursor, context):
    async def model(raw):
        return raw.count()

    assert call_model(python_model(define, model), tables, cursor, context) == 1


def test_async_generator_is_returned_as_is(define, cursor, context):
    async def model():
        yield [{"a": 1}]

    value = call_model(python_model(define, model), {}, cursor, context)

    assert inspect.isasyncgen(value)


def test_user_errors_propagate_unchanged(define, cursor, context):
    def model():
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        call_model(python_model(define, model), {}, cursor, context)


def test_context_logger_is_named_after_the_model(context):
    assert context.logger.name == "interlace.models.orders"
    assert context.cancelled() is False


def test_sql_result_accepts_a_trailing_semicolon(define, tables, cursor):
    model = define(type=ModelType.SQL, sql="SELECT a + 1 AS b FROM raw ;\n")

    relation = sql_result(model, cursor)

    assert relation.fetchall() == [(2,)]


def test_sql_result_with_missing_table_is_a_missing_dependency(define, cursor):
    model = define(type=ModelType.SQL, sql="SELECT * FROM nowhere")

    with pytest.raises(MissingDependency, match="Model 'orders'"):
        sql_result(model, cursor)


def test_sql_result_with_a_syntax_error_is_a_task_error(define, cursor):
    model = define(type=ModelType.SQL, sql="SELEC 1")

    with pytest.raises(TaskError, match="binding the SQL query failed"):
        sql_result(model, cursor)
