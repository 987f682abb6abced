"""Python model lineage: declared, inferred, never executed."""

from __future__ import annotations

import pytest

from interlace.lineage import LineageError, python_column_lineage
from tests.lineage.factories import columns, confidences, edges, python_model

UPSTREAMS = {
    "orders": {"order_id": "int64", "customer_id": "int64", "amount": "float64"},
    "customers": {"customer_id": "int64", "region": "string"},
}


def test_declared_lineage_gives_edges_with_the_declared_transformation() -> None:
    model = python_model(
        "daily_revenue",
        "orders",
        fields={"day": "date", "revenue": "float64"},
        column_lineage={
            "revenue": {
                "sources": ["orders.amount"],
                "transformation": "aggregated",
                "expression": "sum(amount)",
            },
            "day": ["orders.ordered_at"],
        },
    )

    result = python_column_lineage(model, UPSTREAMS)

    assert columns(result) == [("day", "date"), ("revenue", "float64")]
    assert edges(result) == {
        ("orders", "amount", "revenue", "aggregated"),
        ("orders", "ordered_at", "day", "derived"),
    }
    assert {e.transformation_expression for e in result.edges} == {"sum(amount)", None}
    assert set(confidences(result).values()) == {1.0}


def test_undeclared_column_found_in_exactly_one_upstream_is_inferred_direct() -> None:
    model = python_model(
        "enriched",
        "orders",
        "customers",
        fields={"order_id": "int64", "region": "string", "customer_id": "int64"},
    )

    result = python_column_lineage(model, UPSTREAMS)

    # `customer_id` is in both upstreams: no guess is made.
    assert edges(result) == {
        ("orders", "order_id", "order_id", "direct"),
        ("customers", "region", "region", "direct"),
    }
    assert set(confidences(result).values()) == {0.5}


def test_declaration_wins_over_inference_for_the_same_column() -> None:
    model = python_model(
        "clean",
        "orders",
        fields={"amount": "float64"},
        column_lineage={
            "amount": {"sources": ["orders.amount"], "transformation": "cast"}
        },
    )

    result = python_column_lineage(model, UPSTREAMS)

    assert edges(result) == {("orders", "amount", "amount", "cast")}
    assert confidences(result) == {("orders", "amount", "amount"): 1.0}


def test_columns_come_from_the_recorded_schema_without_fields() -> None:
    model = python_model("copy", "orders")

    result = python_column_lineage(
        model, UPSTREAMS, own_schema={"order_id": "int64", "note": "string"}
    )

    assert columns(result) == [("order_id", "int64"), ("note", "string")]
    assert edges(result) == {("orders", "order_id", "order_id", "direct")}
    assert result.complete


def test_without_fields_or_history_only_declared_columns_are_known() -> None:
    model = python_model(
        "opaque", "orders", column_lineage={"total": ["orders.amount"]}
    )

    result = python_column_lineage(model, UPSTREAMS)

    assert columns(result) == [("total", None)]
    assert edges(result) == {("orders", "amount", "total", "derived")}
    assert not result.complete


def test_strict_fields_drop_recorded_columns_that_are_not_declared() -> None:
    model = python_model("slim", "orders", fields={"amount": "float64"}, strict=True)

    result = python_column_lineage(
        model, UPSTREAMS, own_schema={"amount": "float64", "extra": "string"}
    )

    assert columns(result) == [("amount", "float64")]


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (
            {"x": {"sources": ["amount"]}},
            r"column_lineage.x`.sources\[0\]: expected `model.column`",
        ),
        (
            {"x": {"sources": ["o.a"], "transformation": "magic"}},
            "expected one of direct",
        ),
        ({"x": 3}, "expected a list of `model.column`"),
    ],
)
def test_malformed_declaration_raises_a_lineage_error_naming_the_entry(
    declaration: dict[str, object], message: str
) -> None:
    model = python_model("bad", "orders", column_lineage=declaration)

    with pytest.raises(LineageError, match=message):
        python_column_lineage(model, UPSTREAMS)
