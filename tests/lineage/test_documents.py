"""API documents built from a lineage view."""

from __future__ import annotations

import datetime as dt

from interlace.lineage.documents import columns_document, lineage_document
from interlace.lineage.edges import (
    ColumnEdge,
    LineageColumn,
    ModelColumnLineage,
    TransformationType,
)
from interlace.lineage.view import LineageView
from interlace.state.records import SchemaColumn, SchemaVersionRecord
from tests.lineage.factories import python_model, sql_model

TOTALS = ModelColumnLineage(
    model="totals",
    columns=(
        LineageColumn(name="day", data_type="date"),
        LineageColumn(name="total", data_type="decimal(38,0)"),
    ),
    edges=(
        ColumnEdge(
            source_model="orders",
            source_column="day",
            output_model="totals",
            output_column="day",
            transformation_type=TransformationType.DIRECT,
        ),
        ColumnEdge(
            source_model="orders",
            source_column="qty",
            output_model="totals",
            output_column="total",
            transformation_type=TransformationType.AGGREGATED,
            transformation_expression="SUM(qty)",
        ),
    ),
)
RECORDED = SchemaVersionRecord(
    model_name="totals",
    version=1,
    detected_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
    columns=[
        SchemaColumn(name="day", type="date", nullable=False, is_primary_key=True),
        SchemaColumn(name="total", type="int128"),
    ],
)
TOTALS_SQL = "SELECT day, SUM(qty) AS total FROM orders GROUP BY day"


def test_recorded_types_and_nullability_win_over_inferred_ones() -> None:
    view = LineageView({"totals": TOTALS})
    definition = sql_model("totals", TOTALS_SQL, "orders")

    body = columns_document(view, definition, RECORDED)

    assert [
        (c["name"], c["data_type"], c["nullable"], c["is_primary_key"])
        for c in body["columns"]
    ] == [("day", "date", False, True), ("total", "int128", True, False)]
    assert body["columns"][1]["sources"] == [
        {"model": "orders", "column": "qty", "transformation": "aggregated"}
    ]
    assert "lineage_error" not in body


def test_a_model_without_lineage_lists_declared_columns_and_the_error() -> None:
    failed = ModelColumnLineage(model="stock", error="`stock`: bad declaration")
    view = LineageView({"stock": failed})
    definition = python_model(
        "stock", fields={"sku": "string", "qty": "int64"}, primary_key=("sku",)
    )

    body = columns_document(view, definition, None)

    assert [
        (c["name"], c["data_type"], c["is_primary_key"], c["sources"])
        for c in body["columns"]
    ] == [("sku", "string", True, []), ("qty", "int64", False, [])]
    assert body["lineage_error"] == "`stock`: bad declaration"


def test_lineage_document_counts_sources_and_lists_edges_of_the_models() -> None:
    view = LineageView({"totals": TOTALS})

    body = lineage_document(view, ["totals"], {"totals": RECORDED})

    assert body["models"] == {
        "totals": {
            "columns": [
                {"name": "day", "data_type": "date", "sources_count": 1},
                {"name": "total", "data_type": "int128", "sources_count": 1},
            ]
        }
    }
    assert body["edges"][1] == {
        "source_model": "orders",
        "source_column": "qty",
        "output_model": "totals",
        "output_column": "total",
        "transformation_type": "aggregated",
        "transformation_expression": "SUM(qty)",
        "confidence": 1.0,
    }
