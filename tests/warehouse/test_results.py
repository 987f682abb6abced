"""Python return values (SPEC §4.5): shapes, inference and error messages."""

from __future__ import annotations

import datetime as dt
import decimal
import logging

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

from interlace.errors import SchemaInferenceError, UnsupportedReturnType
from interlace.warehouse.inputs import UpstreamRef, bind_inputs

from_s = "SELECT * FROM s.orders ORDER BY ALL"


def column_types(fetch, table="s.orders"):
    return {name: kind for name, kind, *_ in fetch(f"DESCRIBE {table}")}


def test_list_of_dicts_uses_first_seen_key_order_and_null_gaps(define, write, fetch):
    write(define(), [{"b": 1}, {"a": "x", "b": 2}, {"c": True}])

    assert [r[0] for r in fetch("DESCRIBE s.orders")] == ["b", "a", "c"]
    assert fetch("SELECT * FROM s.orders ORDER BY b") == [
        (1, None, None),
        (2, "x", None),
        (None, None, True),
    ]


def test_dict_of_lists_is_columns_and_other_dict_is_one_row(define, write, fetch):
    write(define("cols"), {"a": [1, 2], "b": ["x", "y"]})
    write(define("row"), {"a": 1, "b": "x"})

    assert fetch("SELECT * FROM s.cols ORDER BY a") == [(1, "x"), (2, "y")]
    assert fetch("SELECT * FROM s.row") == [(1, "x")]


def test_columns_of_unequal_length_are_rejected(define, write):
    with pytest.raises(UnsupportedReturnType, match="unequal lengths"):
        write(define(), {"a": [1, 2], "b": [1]})


@pytest.mark.parametrize(
    "value",
    [
        pa.table({"a": [1, 2]}),
        pa.record_batch({"a": [1, 2]}),
        pa.RecordBatchReader.from_batches(
            pa.schema([("a", pa.int64())]),
            [pa.record_batch({"a": [1]}), pa.record_batch({"a": [2]})],
        ),
        pl.DataFrame({"a": [1, 2]}),
        pd.DataFrame({"a": [1, 2]}),
    ],
    ids=["arrow-table", "record-batch", "reader", "polars", "pandas"],
)
def test_arrow_and_dataframe_results_are_written(define, write, fetch, value):
    result = write(define(), value)

    assert fetch(from_s) == [(1,), (2,)]
    assert result.rows_ingested == 2


def test_pandas_named_index_is_kept_and_unnamed_index_dropped(define, write, fetch):
    named = pd.DataFrame({"v": [1.5]}, index=pd.Index(["k"], name="key"))
    unnamed = pd.DataFrame({"v": [1.5]}, index=[7])

    write(define("named"), named)
    write(define("unnamed"), unnamed)

    assert fetch("SELECT key, v FROM s.named") == [("k", 1.5)]
    assert fetch("SELECT * FROM s.unnamed") == [(1.5,)]


def test_relation_and_table_results_execute_in_the_warehouse(
    define, write, fetch, cursor
):
    cursor.execute("CREATE TABLE src AS SELECT range AS a FROM range(3)")
    [upstream] = bind_inputs(
        cursor, [UpstreamRef(name="up", source_sql='"main"."src"')], cancelled=bool
    ).values()

    write(define("from_relation"), cursor.sql("SELECT a * 10 AS b FROM src"))
    write(define("from_table"), upstream.sql("SELECT a FROM up WHERE a > 0"))

    assert fetch("SELECT * FROM s.from_relation ORDER BY b") == [(0,), (10,), (20,)]
    assert fetch("SELECT * FROM s.from_table ORDER BY a") == [(1,), (2,)]


def test_sync_generator_batches_of_any_type_are_appended(define, write, fetch):
    def batches():
        yield [{"a": 1}]
        yield {"a": [2, 3]}
        yield pa.table({"a": [4]})
        yield pd.DataFrame({"a": [5]})

    result = write(define(), batches())

    assert fetch(from_s) == [(1,), (2,), (3,), (4,), (5,)]
    assert result.rows_ingested == 5


def test_async_generator_is_consumed_batch_by_batch(define, write, fetch):
    seen = []

    async def batches():
        for n in range(3):
            seen.append(n)
            yield [{"a": n}]

    write(define(), batches())

    assert fetch(from_s) == [(0,), (1,), (2,)]
    assert seen == [0, 1, 2]


def test_generator_finally_block_runs_when_a_batch_fails(define, write):
    closed = []

    def batches():
        try:
            yield [{"a": 1}]
            yield "nonsense"
        finally:
            closed.append(True)

    with pytest.raises(UnsupportedReturnType, match="as batch 2"):
        write(define(), batches())

    assert closed == [True]


def test_later_batches_are_cast_to_the_first_batch_schema(define, write, fetch):
    def batches():
        yield [{"a": 1, "b": "x"}]
        yield [{"a": None, "b": None}]
        yield pa.table({"a": pa.array([3], pa.int32())})

    write(define(), batches())

    assert column_types(fetch) == {"a": "BIGINT", "b": "VARCHAR"}
    assert fetch("SELECT * FROM s.orders ORDER BY a NULLS LAST") == [
        (1, "x"),
        (3, None),
        (None, None),
    ]


def test_batch_with_a_different_schema_is_rejected(define, write, warehouse, cursor):
    def batches():
        yield [{"a": 1}]
        yield []
        yield [{"a": 2, "surprise": "x"}]

    with pytest.raises(
        SchemaInferenceError, match="batch 3 does not match the schema of batch 1"
    ):
        write(define(), batches())

    assert not warehouse.table_exists(cursor, "s", "orders")


def test_python_types_are_inferred(define, write, fetch):
    aware = dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    row = {
        "flag": True,
        "n": 1,
        "x": 1.5,
        "mixed_number": 1,
        "s": "text",
        "ts_tz": aware,
        "ts": dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC).replace(tzinfo=None),
        "d": dt.date(2024, 5, 1),
        "t": dt.time(8, 30),
        "dec": decimal.Decimal("1.25"),
        "raw": b"\x00\x01",
        "obj": {"k": 1, "name": "a"},
        "items": [1, 2],
    }
    second = {**row, "mixed_number": 2.5, "dec": decimal.Decimal("2.125")}

    result = write(define(), [row, second])

    types = dict(result.columns)
    assert types == {
        "flag": "boolean",
        "n": "int64",
        "x": "float64",
        "mixed_number": "float64",
        "s": "string",
        "ts_tz": "timestamp_tz",
        "ts": "timestamp",
        "d": "date",
        "t": "time",
        "dec": "decimal(38,3)",
        "raw": "binary",
        "obj": "struct<k: int64, name: string>",
        "items": "list<int64>",
    }
    utc = fetch("SELECT CAST(ts_tz AS TIMESTAMP) FROM s.orders LIMIT 1")
    assert utc == [(dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC).replace(tzinfo=None),)]


def test_irreconcilable_mix_becomes_json_with_a_warning(define, write, fetch, caplog):
    caplog.set_level(logging.WARNING)

    result = write(define(), [{"v": 1}, {"v": "one"}, {"v": {"n": 1}}])

    assert dict(result.columns) == {"v": "json"}
    values = [row[0] for row in fetch("SELECT CAST(v AS VARCHAR) FROM s.orders")]
    assert sorted(values) == sorted(["1", '"one"', '{"n": 1}'])
    assert "column `v` mixes" in caplog.text


def test_only_none_column_takes_declared_type_else_string(define, write, fetch, caplog):
    caplog.set_level(logging.WARNING)

    result = write(define(fields={"a": "int64"}), [{"a": None, "b": None}])

    assert dict(result.columns) == {"a": "int64", "b": "string"}
    assert "column `b` holds only None" in caplog.text
    assert "column `a`" not in caplog.text


def test_declared_fields_override_inference_and_cast_values(define, write, fetch):
    model = define(fields={"id": "int64", "amount": "decimal(10,2)"})

    result = write(model, [{"id": "7", "amount": 1.005}])

    assert dict(result.columns) == {"id": "int64", "amount": "decimal(10,2)"}
    assert fetch("SELECT id FROM s.orders") == [(7,)]


def test_failed_cast_raises_schema_inference_error(define, write):
    with pytest.raises(SchemaInferenceError, match="column `id` cannot be cast"):
        write(define(fields={"id": "int64"}), [{"id": "seven"}])


def test_failed_cast_of_a_relation_raises_schema_inference_error(define, write, cursor):
    relation = cursor.sql("SELECT 'seven' AS id")

    with pytest.raises(SchemaInferenceError, match="declared `fields`"):
        write(define(fields={"id": "int64"}), relation)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "text",
            "Model 'orders' returned unsupported type 'str'; expected None, rows, "
            "columns, Arrow, DataFrame, DuckDB relation or an iterator of these",
        ),
        (
            [{"a": 1}, 5],
            "Model 'orders' returned a list whose item 1 is 'int'; expected dict rows",
        ),
        (
            [3],
            "Model 'orders' returned a list whose item 0 is 'int'; expected dict rows",
        ),
    ],
)
def test_unsupported_values_raise_the_documented_message(define, write, value, message):
    with pytest.raises(UnsupportedReturnType) as raised:
        write(define(), value)

    assert str(raised.value) == message
    assert raised.value.model == "orders"


def test_no_rows_without_fields_cannot_infer_a_schema(define, write):
    with pytest.raises(SchemaInferenceError) as raised:
        write(define(), iter([]))

    assert str(raised.value) == (
        "Model 'orders' returned no rows and declares no fields; cannot infer a schema"
    )


def test_empty_arrow_result_creates_an_empty_table_from_its_schema(
    define, write, fetch
):
    write(define(), pa.table({"a": pa.array([], pa.int16())}))

    assert column_types(fetch) == {"a": "SMALLINT"}


def test_reader_streaming_from_the_task_cursor_is_staged(define, write, fetch, cursor):
    cursor.execute("CREATE TABLE src AS SELECT range AS a FROM range(2500)")
    refs = [UpstreamRef(name="src", source_sql='"main"."src"')]
    upstream = bind_inputs(cursor, refs, cancelled=bool)["src"]

    result = write(define(), upstream.reader(batch_size=1000))

    assert result.rows_ingested == 2500
    assert fetch("SELECT count(DISTINCT a) FROM s.orders") == [(2500,)]


def test_half_read_execute_result_does_not_block_a_relation_result(
    define, write, fetch, cursor
):
    cursor.execute("SELECT * FROM range(10)").fetchone()

    write(define(), cursor.sql("SELECT 42 AS answer"))

    assert fetch("SELECT answer FROM s.orders") == [(42,)]
