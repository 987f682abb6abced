"""The view materialisation (SPEC §4.7)."""

from __future__ import annotations

import pytest

from interlace.engine.definition import Materialise, ModelType
from interlace.errors import UnsupportedReturnType, WriteError
from interlace.warehouse.inputs import UpstreamRef, bind_inputs
from interlace.warehouse.invoke import sql_result


@pytest.fixture
def upstream(cursor):
    cursor.execute("CREATE SCHEMA staging")
    cursor.execute("CREATE TABLE staging.src AS SELECT range AS a FROM range(4)")
    refs = [UpstreamRef(name="src", source_sql='"staging"."src"')]
    return bind_inputs(cursor, refs, cancelled=bool)["src"]


def view_oid(fetch):
    rows = fetch("SELECT view_oid FROM duckdb_views() WHERE view_name = 'v'")
    return rows[0][0] if rows else None


def sql_view(define, sql):
    return define("v", type=ModelType.SQL, materialise=Materialise.VIEW, sql=sql)


def test_sql_view_reads_its_upstream_from_any_connection(
    define, write, warehouse, upstream, cursor
):
    model = sql_view(define, "SELECT a FROM src WHERE a > 1;")

    result = write(model, sql_result(model, cursor))

    other = warehouse.cursor()
    assert other.execute("SELECT a FROM s.v ORDER BY a").fetchall() == [(2,), (3,)]
    assert result.materialised is True
    assert result.columns == [("a", "int64")]


def test_view_is_created_once_and_replaced_only_when_sql_changes(
    define, write, fetch, upstream, cursor
):
    first = sql_view(define, "SELECT a FROM src")
    write(first, sql_result(first, cursor))
    created = view_oid(fetch)

    write(first, sql_result(first, cursor))
    unchanged = view_oid(fetch)
    changed = sql_view(define, "SELECT a * 2 AS a FROM src")
    write(changed, sql_result(changed, cursor))

    assert unchanged == created
    assert view_oid(fetch) != created
    assert fetch("SELECT max(a) FROM s.v") == [(6,)]


def test_python_view_accepts_a_table(define, write, fetch, upstream):
    model = define("v", materialise=Materialise.VIEW)

    write(model, upstream.sql("SELECT a FROM src AS x WHERE x.a = 0"))

    assert fetch("SELECT * FROM s.v") == [(0,)]


def test_python_view_must_return_a_table_or_relation(define, write):
    model = define("v", materialise=Materialise.VIEW)

    with pytest.raises(UnsupportedReturnType, match="expected a Table or a DuckDB"):
        write(model, [{"a": 1}])


def test_view_over_an_existing_table_is_refused(define, write, cursor, upstream):
    write(define("v"), [{"a": 1}])
    model = define("v", materialise=Materialise.VIEW)

    with pytest.raises(WriteError, match="is a table"):
        write(model, upstream)
