"""Upstream bindings and the `Table` handle (SPEC §4.3, §4.4)."""

from __future__ import annotations

import sys

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from interlace.errors import MissingDependency, TaskCancelled
from interlace.warehouse.inputs import UpstreamRef, bind_inputs, bound_inputs
from interlace.warehouse.table import MissingExtraError


@pytest.fixture
def orders(cursor):
    cursor.execute("CREATE SCHEMA staging")
    cursor.execute(
        "CREATE TABLE staging.orders AS SELECT range AS id, range * 1.5 AS amount"
        " FROM range(5)"
    )
    cursor.execute("CREATE TABLE main.orders AS SELECT 'decoy' AS id")
    ref = UpstreamRef(name="orders", source_sql='"staging"."orders"')
    return bind_inputs(cursor, [ref], cancelled=lambda: False)["orders"]


def test_bare_name_resolves_to_the_upstream_before_main(orders, cursor):
    rows = cursor.execute("SELECT count(*) FROM orders").fetchall()

    assert rows == [(5,)]


def test_bindings_are_private_to_their_cursor(orders, warehouse):
    other = warehouse.cursor()

    assert other.execute("SELECT id FROM orders").fetchall() == [("decoy",)]


def test_filter_predicate_applies_to_the_bound_view(cursor, orders):
    ref = UpstreamRef(
        name="recent", source_sql='"staging"."orders"', filter_sql="id > 2"
    )

    table = bind_inputs(cursor, [ref], cancelled=lambda: False)["recent"]

    assert table.count() == 2
    assert bound_inputs(cursor)["recent"].source_sql == '"staging"."orders"'


def test_missing_upstream_raises_missing_dependency(cursor):
    ref = UpstreamRef(name="ghost", source_sql='"staging"."ghost"')

    with pytest.raises(MissingDependency) as raised:
        bind_inputs(cursor, [ref], cancelled=lambda: False, model="report")

    assert str(raised.value).startswith(
        "Model 'report' depends on 'ghost', which does not exist"
    )


def test_missing_optional_upstream_is_left_out(cursor):
    ref = UpstreamRef(name="ghost", source_sql='"x"."ghost"', optional=True)

    assert bind_inputs(cursor, [ref], cancelled=lambda: False) == {}


def test_external_table_is_found_in_the_default_schema(cursor):
    cursor.execute("CREATE TABLE ext AS SELECT 1 AS a")
    ref = UpstreamRef(name="ext", source_sql=None, filter_sql="a > 0")

    table = bind_inputs(cursor, [ref], cancelled=lambda: False)["ext"]

    assert table.arrow().to_pylist() == [{"a": 1}]


def test_table_exposes_name_columns_schema_and_count(orders):
    assert orders.name == "orders"
    assert orders.columns == ["id", "amount"]
    assert orders.schema.field("id").type == pa.int64()
    assert orders.count() == 5


def test_table_reader_streams_batches(orders):
    reader = orders.reader(batch_size=2)

    table = reader.read_all()

    assert table.num_rows == 5
    assert isinstance(reader, pa.RecordBatchReader)


def test_table_dataframes(orders):
    assert isinstance(orders.df(), pd.DataFrame)
    assert isinstance(orders.pl(), pl.DataFrame)
    assert orders.pl().height == 5


def test_table_sql_composes_and_stays_sql_visible(orders, cursor):
    expensive = orders.sql("SELECT * FROM orders WHERE amount > 3;")

    cheaper = expensive.sql(f"SELECT id FROM {expensive.name} WHERE id < 4")

    assert cheaper.arrow().column("id").to_pylist() == [3]
    assert expensive.relation.columns == ["id", "amount"]


def test_table_calls_stop_when_the_run_is_cancelled(cursor, orders):
    flag = {"cancelled": False}
    ref = UpstreamRef(name="orders", source_sql='"staging"."orders"')
    table = bind_inputs(cursor, [ref], cancelled=lambda: flag["cancelled"])["orders"]
    reader = table.reader(batch_size=1)
    reader.read_next_batch()

    flag["cancelled"] = True

    with pytest.raises(TaskCancelled):
        table.count()
    with pytest.raises(TaskCancelled):
        reader.read_next_batch()


def test_missing_pandas_names_the_extra(orders, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)

    with pytest.raises(ImportError, match=r"pip install 'interlace\[pandas\]'"):
        orders.df()


def test_missing_polars_names_the_extra(orders, monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)

    with pytest.raises(MissingExtraError, match=r"interlace\[polars\]"):
        orders.pl()
