"""Project-wide column lineage: schemas flow downstream, errors stay local."""

from __future__ import annotations

from interlace.lineage import compute_model_lineage, compute_project_lineage
from tests.lineage.factories import columns, edges, python_model, sql_model

RAW = {"raw_orders": {"id": "int64", "amount": "float64", "status": "string"}}


def test_output_columns_become_the_schema_of_dependants() -> None:
    models = {
        "clean": sql_model("clean", "SELECT id, amount FROM raw_orders", "raw_orders"),
        "wide": sql_model(
            "wide", "SELECT *, amount * 2 AS doubled FROM clean", "clean"
        ),
        "top": sql_model("top", "SELECT * FROM wide", "wide"),
    }

    lineage = compute_project_lineage(models, ["clean", "wide", "top"], RAW)

    assert lineage.errors == {}
    assert columns(lineage.models["top"]) == [
        ("id", "int64"),
        ("amount", "float64"),
        ("doubled", "float64"),
    ]
    assert edges(lineage.models["top"]) == {
        ("wide", "id", "id", "direct"),
        ("wide", "amount", "amount", "direct"),
        ("wide", "doubled", "doubled", "direct"),
    }


def test_a_failing_model_records_its_error_and_the_others_still_compute() -> None:
    models = {
        "broken": sql_model("broken", "SELEC id FRM raw_orders", "raw_orders"),
        "after": sql_model("after", "SELECT id FROM broken", "broken"),
        "fine": sql_model("fine", "SELECT amount FROM raw_orders", "raw_orders"),
    }

    lineage = compute_project_lineage(models, ["broken", "after", "fine"], RAW)

    assert list(lineage.errors) == ["broken"]
    assert "`broken`" in lineage.errors["broken"]
    assert lineage.models["broken"].edges == ()
    # `broken` has no known columns, so `after` reads it with less confidence.
    assert [(e.source_model, e.confidence) for e in lineage.models["after"].edges] == [
        ("broken", 0.8)
    ]
    assert edges(lineage.models["fine"]) == {
        ("raw_orders", "amount", "amount", "direct")
    }


def test_failed_model_falls_back_to_history_columns_for_dependants() -> None:
    models = {
        "broken": sql_model("broken", "SELECT (", "raw_orders"),
        "after": sql_model("after", "SELECT * FROM broken", "broken"),
    }
    known = {**RAW, "broken": {"id": "int64"}}

    lineage = compute_project_lineage(models, ["broken", "after"], known)

    assert columns(lineage.models["broken"]) == [("id", "int64")]
    assert edges(lineage.models["after"]) == {("broken", "id", "id", "direct")}


def test_declared_fields_of_a_python_model_are_its_schema_downstream() -> None:
    models = {
        "load": python_model("load", fields={"id": "int64", "payload": "json"}),
        "ids": sql_model("ids", "SELECT * EXCLUDE (payload) FROM load", "load"),
    }

    lineage = compute_project_lineage(models, ["load", "ids"], {})

    assert columns(lineage.models["ids"]) == [("id", "int64")]
    assert edges(lineage.models["ids"]) == {("load", "id", "id", "direct")}


def test_column_mapping_and_strict_fields_shape_the_written_columns() -> None:
    model = sql_model(
        "shaped",
        "SELECT id, amount, status FROM raw_orders",
        "raw_orders",
        column_mapping={"amount": "value"},
        fields={"id": "int32", "value": "decimal(18,2)", "missing": "string"},
        strict=True,
    )

    result = compute_model_lineage(model, RAW)

    assert columns(result) == [
        ("id", "int32"),
        ("value", "decimal(18,2)"),
        ("missing", "string"),
    ]
    assert edges(result) == {
        ("raw_orders", "id", "id", "direct"),
        ("raw_orders", "amount", "value", "renamed"),
    }


def test_one_model_can_be_recomputed_from_its_upstream_schemas() -> None:
    model = sql_model(
        "one", "SELECT status, COUNT(*) AS n FROM raw_orders GROUP BY ALL"
    )

    result = compute_model_lineage(model, RAW)

    assert result.error is None
    assert columns(result) == [("status", "string"), ("n", "int64")]
    assert edges(result) == {("raw_orders", "status", "status", "direct")}


def test_models_outside_the_order_are_not_computed() -> None:
    models = {
        "a": sql_model("a", "SELECT id FROM raw_orders", "raw_orders"),
        "b": sql_model("b", "SELECT id FROM a", "a"),
    }

    lineage = compute_project_lineage(models, ["b"], RAW)

    assert list(lineage.models) == ["b"]
    assert edges(lineage.models["b"]) == {("a", "id", "id", "direct")}


def test_unknown_name_in_the_order_is_an_error_for_that_name() -> None:
    lineage = compute_project_lineage({}, ["ghost"], {})

    assert lineage.errors == {"ghost": "unknown model `ghost`"}


def test_project_lineage_lists_every_edge_by_output_model() -> None:
    models = {
        "a": sql_model("a", "SELECT id FROM raw_orders", "raw_orders"),
        "b": sql_model("b", "SELECT id AS key FROM a", "a"),
    }

    lineage = compute_project_lineage(models, ["a", "b"], RAW)

    assert [(e.output_model, e.output_column) for e in lineage.edges] == [
        ("a", "id"),
        ("b", "key"),
    ]


def test_model_with_partly_known_columns_passes_the_rest_through_by_name() -> None:
    models = {
        "mixed": sql_model(
            "mixed",
            "SELECT m.*, r.amount FROM mystery AS m "
            "JOIN raw_orders AS r ON m.id = r.id",
        ),
        "after": sql_model("after", "SELECT amount, colour FROM mixed"),
    }

    lineage = compute_project_lineage(models, ["mixed", "after"], RAW)

    assert not lineage.models["mixed"].complete
    assert [(e.source_column, e.confidence) for e in lineage.models["after"].edges] == [
        ("amount", 1.0),
        ("colour", 0.8),
    ]
