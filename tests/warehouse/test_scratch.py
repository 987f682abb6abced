"""Ephemeral and none outputs live in run scratch (SPEC §4.7)."""

from __future__ import annotations

import pytest

from interlace.engine.definition import Materialise
from interlace.warehouse.inputs import UpstreamRef, bind_inputs
from interlace.warehouse.scratch import drop_run_scratch, scratch_relation


def scratch_tables(fetch):
    return fetch(
        "SELECT table_name FROM duckdb_tables()"
        " WHERE schema_name = '_interlace_scratch' ORDER BY 1"
    )


@pytest.mark.parametrize("kind", [Materialise.EPHEMERAL, Materialise.NONE])
def test_in_run_output_is_readable_by_another_task_cursor(
    define, write, warehouse, run_id, kind
):
    write(define("tmp", materialise=kind), [{"a": 1}, {"a": 2}])
    downstream = warehouse.cursor()

    ref = UpstreamRef(name="tmp", source_sql=scratch_relation(run_id, "tmp"))
    table = bind_inputs(downstream, [ref], cancelled=bool)["tmp"]

    assert table.count() == 2
    assert not warehouse.table_exists(downstream, "s", "tmp")


def test_in_run_output_reports_rows_but_no_materialisation(define, write):
    result = write(define("tmp", materialise=Materialise.EPHEMERAL), {"a": [1, 2]})

    assert (result.rows_ingested, result.rows_processed) == (2, 2)
    assert result.materialised is False


def test_drop_run_scratch_removes_only_that_runs_tables(
    define, write, fetch, cursor, run_id
):
    write(define("tmp", materialise=Materialise.NONE), [{"a": 1}])
    cursor.execute('CREATE TABLE "_interlace_scratch"."run_other__x" AS SELECT 1 AS a')

    drop_run_scratch(cursor, run_id)

    assert scratch_tables(fetch) == [("run_other__x",)]
