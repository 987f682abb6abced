"""Table strategies: replace, append, merge_by_key (SPEC §4.8)."""

from __future__ import annotations

import pytest

from interlace.engine.definition import DeleteMode, SchemaMode, Strategy
from interlace.errors import WriteError


def test_missing_target_is_created_with_every_row(define, write, fetch):
    model = define()

    result = write(model, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])

    assert fetch("SELECT * FROM s.orders ORDER BY id") == [(1, "a"), (2, "b")]
    assert result.rows_ingested == 2
    assert result.rows_inserted == 2
    assert result.rows_processed == 2
    assert result.materialised is True
    assert result.columns == [("id", "int64"), ("v", "string")]


def test_replace_swaps_all_rows_and_counts_the_deleted_ones(define, write, fetch):
    model = define(strategy=Strategy.REPLACE)
    write(model, [{"id": 1}, {"id": 2}, {"id": 3}])

    result = write(model, [{"id": 9}])

    assert fetch("SELECT id FROM s.orders") == [(9,)]
    assert (result.rows_inserted, result.rows_deleted) == (1, 3)
    assert result.rows_processed == 1


def test_append_inserts_by_column_name(define, write, fetch):
    model = define(strategy=Strategy.APPEND)
    write(model, {"a": [1], "b": ["x"]})

    result = write(model, {"b": ["y"], "a": [2]})

    assert fetch("SELECT a, b FROM s.orders ORDER BY a") == [(1, "x"), (2, "y")]
    assert result.rows_inserted == 1


def test_new_result_columns_are_added_to_an_existing_target(define, write, fetch):
    model = define(strategy=Strategy.APPEND)
    write(model, {"a": [1]})

    write(model, {"a": [2], "extra": ["new"]})

    assert fetch("SELECT a, extra FROM s.orders ORDER BY a") == [(1, None), (2, "new")]


def test_merge_by_key_updates_changed_rows_only(define, write, fetch):
    model = define(strategy=Strategy.MERGE_BY_KEY, primary_key=("id",))
    write(model, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}])

    result = write(
        model, [{"id": 1, "v": "a"}, {"id": 2, "v": "B"}, {"id": 4, "v": "d"}]
    )

    rows = fetch("SELECT id, v FROM s.orders ORDER BY id")
    assert rows == [(1, "a"), (2, "B"), (3, "c"), (4, "d")]
    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (1, 1, 0)
    assert result.rows_processed == 2


def test_merge_by_key_matches_null_keys_as_equal(define, write, fetch):
    model = define(strategy=Strategy.MERGE_BY_KEY, primary_key=("k1", "k2"))
    write(
        model, [{"k1": 1, "k2": None, "v": "old"}, {"k1": None, "k2": None, "v": "x"}]
    )

    result = write(model, [{"k1": 1, "k2": None, "v": "new"}])

    rows = fetch("SELECT k1, k2, v FROM s.orders ORDER BY k1 NULLS FIRST")
    assert rows == [(None, None, "x"), (1, None, "new")]
    assert (result.rows_inserted, result.rows_updated) == (0, 1)


def test_merge_by_key_delete_missing_removes_absent_keys(define, write, fetch):
    model = define(
        strategy=Strategy.MERGE_BY_KEY,
        primary_key=("id",),
        delete_mode=DeleteMode.DELETE_MISSING,
    )
    write(model, [{"id": None, "v": "n"}, {"id": 1, "v": "a"}, {"id": 2, "v": "b"}])

    result = write(model, [{"id": None, "v": "n2"}, {"id": 2, "v": "b"}])

    assert fetch("SELECT id, v FROM s.orders ORDER BY id") == [(2, "b"), (None, "n2")]
    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (0, 1, 1)


def test_merge_by_key_preserve_never_deletes(define, write, fetch):
    model = define(strategy=Strategy.MERGE_BY_KEY, primary_key=("id",))
    write(model, [{"id": None, "v": "n"}, {"id": 1, "v": "a"}])

    result = write(model, [{"id": 2, "v": "b"}])

    assert fetch("SELECT count(*) FROM s.orders") == [(3,)]
    assert result.rows_deleted == 0


def test_merge_by_key_rejects_duplicate_batch_keys_and_keeps_target(
    define, write, fetch
):
    model = define(strategy=Strategy.MERGE_BY_KEY, primary_key=("id",))
    write(model, [{"id": 1, "v": "a"}])
    batch = [{"id": k, "v": "x"} for k in (1, 1, 2, 2, None, None, 3)]

    with pytest.raises(WriteError, match="duplicate primary key values: 3 keys"):
        write(model, batch)

    assert fetch("SELECT id, v FROM s.orders") == [(1, "a")]


def test_merge_by_key_without_key_column_in_result_fails(define, write):
    model = define(strategy=Strategy.MERGE_BY_KEY, primary_key=("id",))
    write(model, [{"id": 1, "v": "a"}])

    with pytest.raises(WriteError, match="lacks primary key column `id`"):
        write(model, [{"v": "b"}])


def test_failed_write_rolls_back_added_columns_and_rows(define, write, fetch):
    # `ignore` leaves the type change to the insert, which fails mid-write.
    model = define(strategy=Strategy.APPEND, schema_mode=SchemaMode.IGNORE)
    write(model, {"a": [1]})

    with pytest.raises(WriteError):
        write(model, {"a": ["not a number"], "extra": [1]})

    assert fetch("SELECT * FROM s.orders") == [(1,)]


def test_empty_result_leaves_an_existing_target_untouched(define, write, fetch):
    model = define(strategy=Strategy.REPLACE)
    write(model, [{"id": 1}])

    result = write(model, [])

    assert fetch("SELECT id FROM s.orders") == [(1,)]
    assert result.rows_processed == 0
    assert result.materialised is False


def test_empty_result_with_fields_creates_an_empty_table(define, write, fetch):
    model = define(fields={"id": "int64", "name": "string"})

    result = write(model, [])

    assert fetch("SELECT count(*) FROM s.orders") == [(0,)]
    assert result.columns == [("id", "int64"), ("name", "string")]


def test_none_result_writes_nothing(define, write, warehouse, cursor):
    result = write(define(), None)

    assert result.rows_processed is None
    assert result.materialised is False
    assert not warehouse.table_exists(cursor, "s", "orders")


def test_staging_tables_are_dropped_after_the_write(define, write, fetch):
    write(define(), [{"id": 1}])

    leftovers = fetch(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = '_interlace_scratch'"
    )

    assert leftovers == []
