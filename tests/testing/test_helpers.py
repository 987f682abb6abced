"""The model testing helpers (SPEC §14)."""

from __future__ import annotations

import asyncio

import duckdb
import pyarrow as pa

from interlace.engine.context import RunContext
from interlace.engine.decorators import model
from interlace.errors import MissingDependency, UnsupportedReturnType
from interlace.testing import (
    TestResult,
    mock_dependency,
    test_model,
    test_model_sync,
    test_sql_model,
)
from interlace.warehouse.table import Table


@model(name="orders_clean", fields={"order_id": "int64", "amount": "float64"})
def orders_clean(raw_orders, context):
    context.logger.info("cleaning")
    return raw_orders.sql("SELECT * FROM raw_orders WHERE amount > 0")


def test_helpers_are_not_collected_by_pytest():
    helpers = [TestResult, test_model, test_model_sync, test_sql_model]

    assert all(helper.__test__ is False for helper in helpers)


def test_mock_dependency_builds_a_table_from_rows():
    raw = mock_dependency([{"order_id": 1, "amount": 5.0}, {"order_id": 2}])

    assert isinstance(raw, Table)
    assert raw.count() == 2
    assert raw.columns == ["order_id", "amount"]


def test_mock_dependency_applies_fields_and_strict():
    raw = mock_dependency(
        {"id": ["1", "2"], "noise": [0, 0]}, fields={"id": "int32"}, strict=True
    )

    assert raw.schema == pa.schema([("id", pa.int32())])


def test_model_sync_runs_the_spec_example():
    raw = mock_dependency(
        [{"order_id": 1, "amount": 5.0}, {"order_id": 2, "amount": -1.0}]
    )

    result = test_model_sync(orders_clean, deps={"raw_orders": raw})

    assert result.status == "success"
    assert result.rows == [{"order_id": 1, "amount": 5.0}]
    assert result.row_count == 1
    assert result.columns == ["order_id", "amount"]
    assert result.arrow.num_rows == 1
    assert list(result.df["order_id"]) == [1]
    assert result.duration > 0


def test_raw_dependency_data_is_typed_by_per_dependency_fields():
    result = test_model_sync(
        orders_clean,
        deps={"raw_orders": {"order_id": ["7"], "amount": ["2.5"]}},
        fields={"raw_orders": {"amount": "float64"}},
    )

    assert result.rows == [{"order_id": 7, "amount": 2.5}]


def test_model_options_shape_the_result():
    @model(column_mapping={"ID": "id"}, fields={"id": "int64"}, strict=True)
    def shaped():
        return [{"ID": "3", "dropped": True}]

    result = test_model_sync(shaped)

    assert result.rows == [{"id": 3}]


def test_plain_function_options_come_from_the_model_attribute():
    def plain(source):
        return source.sql("SELECT v * 2 AS v FROM source")

    plain.__interlace_model__ = {"fields": {"v": "float64"}}

    result = test_model_sync(plain, deps={"source": [{"v": 2}]})

    assert result.rows == [{"v": 4.0}]


def test_exceptions_are_captured_in_the_result():
    @model
    def broken():
        return "not a table"

    result = test_model_sync(broken)

    assert result.status == "error"
    assert isinstance(result.error, UnsupportedReturnType)
    assert result.rows == []


def test_missing_dependency_is_reported_as_an_error():
    result = test_model_sync(orders_clean, deps={})

    assert result.status == "error"
    assert isinstance(result.error, MissingDependency)


def test_model_returning_none_succeeds_without_rows():
    @model
    def side_effect(connection):
        connection.execute("SELECT 1").fetchall()

    result = test_model_sync(side_effect)

    assert (result.status, result.row_count, result.table) == ("success", None, None)


def test_async_helper_runs_async_models_and_passes_the_context():
    @model
    async def fetched(context):
        await asyncio.sleep(0)
        return [{"run": context.run_id}]

    context = RunContext(run_id="run_custom", task_id="task_1", model="fetched")

    result = asyncio.run(test_model(fetched, context=context))

    assert result.rows == [{"run": "run_custom"}]


def test_sql_model_from_text_with_header_options():
    sql = (
        "-- @model(name='doubled', fields={'n': 'int32'})\n"
        "SELECT n * 2 AS n FROM numbers;\n"
    )

    result = test_sql_model(sql, deps={"numbers": {"n": [1, 2]}})

    assert result.status == "success"
    assert sorted(row["n"] for row in result.rows) == [2, 4]
    assert result.arrow.schema.field("n").type == pa.int32()


def test_sql_model_from_a_file(tmp_path):
    path = tmp_path / "totals.sql"
    path.write_text("SELECT sum(v) AS total FROM items\n", encoding="utf-8")

    result = test_sql_model(path, deps={"items": [{"v": 1}, {"v": 2}]})

    assert result.rows == [{"total": 3}]


def test_sql_model_errors_are_captured():
    result = test_sql_model("SELECT * FROM absent")

    assert result.status == "error"
    assert isinstance(result.error, MissingDependency)


def test_fixtures_provide_a_file_database_and_the_mock(
    interlace_test_db, interlace_mock, tmp_path
):
    interlace_test_db.execute("CREATE TABLE t AS SELECT 1 AS a")

    assert isinstance(interlace_test_db, duckdb.DuckDBPyConnection)
    assert (tmp_path / "interlace_test.duckdb").exists()
    assert interlace_mock([{"a": 1}]).count() == 1
