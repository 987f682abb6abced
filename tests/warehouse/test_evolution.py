"""Schema modes applied to an existing target before a write (SPEC §8.1)."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from interlace.engine.definition import SchemaMode, Strategy
from interlace.errors import SchemaEvolutionError
from interlace.state.records import SchemaColumn
from interlace.warehouse.schema_changes import (
    ChangeKind,
    ColumnChange,
    compare_columns,
    is_safe_widening,
)

MODES = list(SchemaMode)


def column_types(fetch) -> dict[str, str]:
    return {row[0]: row[1] for row in fetch("DESCRIBE s.orders")}


def rows(fetch) -> list[tuple]:
    return fetch("SELECT * FROM s.orders ORDER BY ALL")


def typed(**columns: tuple[list, pa.DataType]) -> pa.Table:
    return pa.table(
        {name: pa.array(values, kind) for name, (values, kind) in columns.items()}
    )


# --- comparing columns ------------------------------------------------------------


def test_compare_reports_additions_and_type_changes_then_removals():
    target = [("id", "int64"), ("amount", "float64"), ("legacy", "string")]
    result = [("ID", "int64"), ("amount", "string"), ("coupon", "string")]

    changes = compare_columns(target, result)

    assert changes == [
        ColumnChange(
            name="amount",
            kind=ChangeKind.TYPE_CHANGED,
            old_type="float64",
            new_type="string",
        ),
        ColumnChange(name="coupon", kind=ChangeKind.ADDED, new_type="string"),
        ColumnChange(name="legacy", kind=ChangeKind.REMOVED, old_type="string"),
    ]


def test_compare_never_reports_strategy_managed_columns_as_removed():
    target = [("id", "int64"), ("valid_from", "timestamp")]

    changes = compare_columns(target, [("id", "int64")], managed=["valid_from"])

    assert changes == []


@pytest.mark.parametrize(
    ("old", "new", "safe"),
    [
        ("int8", "int16", True),
        ("int8", "int64", True),
        ("int32", "int64", True),
        ("int64", "int32", False),
        ("float32", "float64", True),
        ("int64", "float64", True),
        ("uint16", "float64", True),
        ("int32", "float32", False),
        ("decimal(10,2)", "decimal(12,2)", True),
        ("decimal(10,2)", "decimal(12,3)", False),
        ("decimal(12,2)", "decimal(10,2)", False),
        ("float64", "string", False),
        ("int64", "int64", False),
    ],
)
def test_safe_widenings_are_exactly_those_of_the_spec(old, new, safe):
    assert is_safe_widening(old, new) is safe


# --- strict -----------------------------------------------------------------------


def test_strict_names_every_offending_column_in_one_error(define, write, fetch):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.STRICT)
    write(model, {"id": [1], "amount": [1.5]})

    with pytest.raises(SchemaEvolutionError) as raised:
        write(model, {"id": [2], "amount": ["2.5"], "coupon": ["X"]})

    assert str(raised.value) == (
        "Model 'orders': schema_mode 'strict' rejects changes: column `amount` "
        "changed type float64 -> string; added column `coupon` (string)"
    )
    assert raised.value.columns == ["amount", "coupon"]


@pytest.mark.parametrize(
    "value",
    [
        {"id": [2], "amount": [2.5], "coupon": ["X"]},
        {"id": [2]},
        {"id": [2], "amount": ["2.5"]},
        {"id": [2], "amount": [2.5]},
    ],
    ids=["added", "removed", "type changed", "widened int64 -> float64"],
)
def test_strict_rejects_any_change_and_leaves_the_target_unchanged(
    define, write, fetch, value
):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.STRICT)
    write(model, {"id": [1], "amount": [1]})
    before = column_types(fetch)

    with pytest.raises(SchemaEvolutionError, match="schema_mode 'strict' rejects"):
        write(model, value)

    assert column_types(fetch) == before
    assert rows(fetch) == [(1, 1)]


def test_strict_accepts_an_unchanged_schema(define, write, fetch):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.STRICT)
    write(model, {"id": [1]})

    result = write(model, {"id": [2]})

    assert rows(fetch) == [(1,), (2,)]
    assert result.schema_changes == 0


def test_strict_with_fields_validates_only_declared_columns(define, write, fetch):
    model = define(
        strategy=Strategy.APPEND,
        schema_mode=SchemaMode.STRICT,
        fields={"id": "int64"},
    )
    write(model, {"id": [1], "note": ["a"]})

    write(model, {"id": [2], "note": ["b"], "extra": [True]})

    assert rows(fetch) == [(1, "a", None), (2, "b", True)]


# --- safe -------------------------------------------------------------------------


def test_safe_adds_new_columns_and_keeps_removed_ones(define, write, fetch):
    model = define(strategy=Strategy.APPEND)
    write(model, {"id": [1], "legacy": ["old"]})

    result = write(model, {"id": [2], "coupon": ["X"]})

    assert fetch("SELECT id, legacy, coupon FROM s.orders ORDER BY id") == [
        (1, "old", None),
        (2, None, "X"),
    ]
    assert result.schema_changes == 1


@pytest.mark.parametrize(
    ("old", "new", "value", "duckdb_type"),
    [
        (pa.int8(), pa.int16(), 300, "SMALLINT"),
        (pa.int32(), pa.int64(), 2**40, "BIGINT"),
        (pa.float32(), pa.float64(), 0.1, "DOUBLE"),
        (pa.int16(), pa.float64(), 2.5, "DOUBLE"),
        (
            pa.decimal128(5, 2),
            pa.decimal128(9, 2),
            Decimal("1234567.89"),
            "DECIMAL(9,2)",
        ),
    ],
)
def test_safe_widens_column_types_in_place(
    define, write, fetch, old, new, value, duckdb_type
):
    model = define(strategy=Strategy.APPEND)
    write(model, typed(v=([1], old)))

    result = write(model, typed(v=([value], new)))

    assert column_types(fetch)["v"] == duckdb_type
    assert len(rows(fetch)) == 2
    assert result.schema_changes == 1


def test_safe_rejects_an_incompatible_type_change_before_writing(define, write, fetch):
    model = define(strategy=Strategy.APPEND)
    write(model, {"id": [1], "amount": [1.5]})

    with pytest.raises(SchemaEvolutionError) as raised:
        write(model, {"id": [2], "amount": ["n/a"], "coupon": ["X"]})

    assert "column `amount` changed type float64 -> string" in str(raised.value)
    assert "coupon" not in str(raised.value)
    assert column_types(fetch) == {"id": "BIGINT", "amount": "DOUBLE"}
    assert rows(fetch) == [(1, 1.5)]


def test_safe_rejects_a_narrowing(define, write, fetch):
    model = define(strategy=Strategy.APPEND)
    write(model, typed(v=([1], pa.int64())))

    with pytest.raises(SchemaEvolutionError, match="int64 -> int32"):
        write(model, typed(v=([2], pa.int32())))

    assert column_types(fetch) == {"v": "BIGINT"}


# --- flexible ---------------------------------------------------------------------


def test_flexible_allows_additions_removals_and_widenings(define, write, fetch):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.FLEXIBLE)
    write(model, typed(id=([1], pa.int32()), legacy=(["a"], pa.string())))

    result = write(model, typed(id=([2], pa.int64()), coupon=(["X"], pa.string())))

    assert column_types(fetch) == {
        "id": "BIGINT",
        "legacy": "VARCHAR",
        "coupon": "VARCHAR",
    }
    assert result.schema_changes == 2


def test_flexible_casts_existing_values_to_the_new_type(define, write, fetch):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.FLEXIBLE)
    write(model, {"id": [1, 2], "code": ["10", None]})

    write(model, {"id": [3], "code": [30]})

    assert column_types(fetch)["code"] == "BIGINT"
    assert rows(fetch) == [(1, 10), (2, None), (3, 30)]


def test_flexible_fails_before_writing_when_existing_values_do_not_convert(
    define, write, fetch
):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.FLEXIBLE)
    write(model, {"id": [1, 2], "code": ["10", "abc"]})

    with pytest.raises(SchemaEvolutionError) as raised:
        write(model, {"id": [3], "code": [30]})

    assert str(raised.value) == (
        "Model 'orders': schema_mode 'flexible' cannot cast existing values: "
        "column `code` changed type string -> int64 (1 existing value does not "
        "convert)"
    )
    assert raised.value.columns == ["code"]
    assert column_types(fetch)["code"] == "VARCHAR"
    assert rows(fetch) == [(1, "10"), (2, "abc")]


def test_flexible_replace_ignores_existing_values_it_discards(define, write, fetch):
    model = define(strategy=Strategy.REPLACE, schema_mode=SchemaMode.FLEXIBLE)
    write(model, {"code": ["abc"]})

    write(model, {"code": [7]})

    assert column_types(fetch) == {"code": "BIGINT"}
    assert rows(fetch) == [(7,)]


# --- lenient ----------------------------------------------------------------------


def test_lenient_rebuilds_the_column_with_the_new_type(define, write, fetch):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.LENIENT)
    write(model, {"id": [1, 2], "code": ["10", "abc"]})

    result = write(model, {"id": [3], "code": [30], "coupon": ["X"]})

    assert column_types(fetch) == {
        "id": "BIGINT",
        "code": "BIGINT",
        "coupon": "VARCHAR",
    }
    assert rows(fetch) == [(1, 10, None), (2, None, None), (3, 30, "X")]
    assert result.schema_changes == 2


def test_lenient_keeps_removed_columns(define, write, fetch):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.LENIENT)
    write(model, {"id": [1], "legacy": ["a"]})

    write(model, {"id": [2]})

    assert rows(fetch) == [(1, "a"), (2, None)]


# --- ignore -----------------------------------------------------------------------


def test_ignore_leaves_type_changes_to_the_insert(define, write, fetch):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.IGNORE)
    write(model, {"id": [1]})

    result = write(model, {"id": ["2"], "coupon": ["X"]})

    assert column_types(fetch) == {"id": "BIGINT", "coupon": "VARCHAR"}
    assert rows(fetch) == [(1, None), (2, "X")]
    assert result.schema_changes == 1


def test_ignore_keeps_removed_columns(define, write, fetch):
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.IGNORE)
    write(model, {"id": [1], "legacy": ["a"]})

    write(model, {"id": [2]})

    assert rows(fetch) == [(1, "a"), (2, None)]


# --- every mode -------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode", [m for m in MODES if m is not SchemaMode.STRICT], ids=str
)
def test_every_mode_but_strict_adds_a_column(define, write, fetch, mode):
    model = define(strategy=Strategy.APPEND, schema_mode=mode)
    write(model, {"id": [1]})

    write(model, {"id": [2], "coupon": ["X"]})

    assert rows(fetch) == [(1, None), (2, "X")]


def test_scd2_history_columns_are_not_removals_under_strict(define, write, fetch):
    model = define(
        strategy=Strategy.SCD_TYPE_2,
        primary_key=("id",),
        schema_mode=SchemaMode.STRICT,
    )
    write(model, {"id": [1], "v": ["a"]})

    write(model, {"id": [1], "v": ["b"]})

    assert fetch("SELECT v, is_current FROM s.orders ORDER BY v") == [
        ("a", False),
        ("b", True),
    ]


# --- what the write reports ---------------------------------------------------------


def test_a_table_write_reports_the_target_schema_for_history(define, write):
    model = define(strategy=Strategy.MERGE_BY_KEY, primary_key=("id",))

    created = write(model, {"id": [1], "amount": [1.5]})
    widened = write(model, {"id": [1], "amount": [2.5], "coupon": ["X"]})

    assert created.schema_columns == [
        SchemaColumn(name="id", type="int64", is_primary_key=True),
        SchemaColumn(name="amount", type="float64"),
    ]
    assert created.schema_changes == 0
    assert [c.name for c in widened.schema_columns] == ["id", "amount", "coupon"]
    assert widened.schema_changes == 1


def test_views_and_in_run_outputs_report_no_table_schema(define, write):
    from interlace.engine.definition import Materialise

    ephemeral = define("scratchy", materialise=Materialise.EPHEMERAL)

    result = write(ephemeral, {"id": [1]})

    assert result.schema_columns == []
