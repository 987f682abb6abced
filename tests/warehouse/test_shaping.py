"""Fields, strict and column mapping (SPEC §4.9)."""

from __future__ import annotations

import pytest

from interlace.errors import SchemaInferenceError
from interlace.warehouse.shaping import raw_hints


def describe(fetch):
    return [(name, kind) for name, kind, *_ in fetch("DESCRIBE s.orders")]


def test_mapping_renames_before_fields_cast_by_new_name(define, write, fetch):
    model = define(column_mapping={"ID": "id"}, fields={"id": "int32"})

    write(model, [{"ID": "5", "note": "x"}])

    assert describe(fetch) == [("id", "INTEGER"), ("note", "VARCHAR")]
    assert fetch("SELECT id FROM s.orders") == [(5,)]


def test_non_strict_keeps_undeclared_and_adds_missing_declared_as_null(
    define, write, fetch
):
    model = define(fields={"a": "int64", "missing": "date"})

    write(model, [{"a": 1, "extra": "kept"}])

    assert describe(fetch) == [
        ("a", "BIGINT"),
        ("extra", "VARCHAR"),
        ("missing", "DATE"),
    ]
    assert fetch("SELECT * FROM s.orders") == [(1, "kept", None)]


def test_strict_writes_only_declared_columns_in_declared_order(define, write, fetch):
    model = define(fields={"b": "string", "a": "float64", "c": "int8"}, strict=True)

    write(model, [{"a": 1, "b": "x", "noise": True}])

    assert describe(fetch) == [("b", "VARCHAR"), ("a", "DOUBLE"), ("c", "TINYINT")]
    assert fetch("SELECT * FROM s.orders") == [("x", 1.0, None)]


def test_strict_applies_to_relations_in_sql(define, write, fetch, cursor):
    model = define(fields={"y": "int64"}, strict=True, column_mapping={"x": "y"})

    write(model, cursor.sql("SELECT 1 AS x, 2 AS dropped"))

    assert fetch("SELECT * FROM s.orders") == [(1,)]


def test_mapping_onto_an_existing_name_is_rejected(define, write):
    model = define(column_mapping={"a": "b"})

    with pytest.raises(SchemaInferenceError, match="`b` appears twice"):
        write(model, [{"a": 1, "b": 2}])


def test_hints_follow_the_mapping_back_to_returned_names(define):
    model = define(column_mapping={"old": "new"}, fields={"new": "int64", "x": "str"})

    assert raw_hints(model) == {"old": "int64", "x": "string"}
