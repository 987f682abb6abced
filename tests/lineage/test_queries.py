"""Column lineage queries: sources, dependents and columns of a model."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from interlace.lineage import (
    ColumnEdge,
    ColumnLineageStep,
    LineageIndex,
    TransformationType,
    compute_project_lineage,
)
from tests.lineage.factories import sql_model


def chain_index() -> LineageIndex:
    """raw.amount -> clean.amount -> daily.revenue -> report.revenue_k,
    with clean.id feeding daily.orders too."""
    models = {
        "clean": sql_model("clean", "SELECT id, amount FROM raw"),
        "daily": sql_model(
            "daily",
            "SELECT SUM(amount) AS revenue, COUNT(id) AS orders FROM clean",
        ),
        "report": sql_model("report", "SELECT revenue / 1000 AS revenue_k FROM daily"),
    }
    schemas = {"raw": {"id": "int64", "amount": "float64"}}
    lineage = compute_project_lineage(models, ["clean", "daily", "report"], schemas)
    return LineageIndex.from_project(lineage)


def hops(steps: Sequence[ColumnLineageStep]) -> list[tuple[str, str, str, str, int]]:
    return [
        (s.source_model, s.source_column, s.output_model, s.output_column, s.depth)
        for s in steps
    ]


def test_upstream_walk_lists_each_edge_with_its_distance() -> None:
    index = chain_index()

    steps = index.upstream("report", "revenue_k", depth=3)

    assert hops(steps) == [
        ("daily", "revenue", "report", "revenue_k", 1),
        ("clean", "amount", "daily", "revenue", 2),
        ("raw", "amount", "clean", "amount", 3),
    ]
    assert [s.transformation for s in steps] == [
        TransformationType.DERIVED,
        TransformationType.AGGREGATED,
        TransformationType.DIRECT,
    ]


def test_depth_limits_the_walk() -> None:
    index = chain_index()

    assert len(index.upstream("report", "revenue_k", depth=1)) == 1
    assert index.upstream("report", "revenue_k", depth=0) == []


def test_downstream_walk_follows_every_dependant() -> None:
    index = chain_index()

    steps = index.downstream("raw", "amount", depth=5)

    assert hops(steps) == [
        ("raw", "amount", "clean", "amount", 1),
        ("clean", "amount", "daily", "revenue", 2),
        ("daily", "revenue", "report", "revenue_k", 3),
    ]


def test_column_lineage_in_both_directions_fills_sources_and_dependents() -> None:
    index = chain_index()

    lineage = index.column_lineage("daily", "REVENUE", direction="both", depth=1)

    assert lineage is not None
    assert lineage.column == "revenue"
    assert lineage.data_type == "float64"
    assert hops(lineage.sources) == [("clean", "amount", "daily", "revenue", 1)]
    assert hops(lineage.dependents) == [("daily", "revenue", "report", "revenue_k", 1)]


def test_column_lineage_upstream_only_has_no_dependents() -> None:
    lineage = chain_index().column_lineage("daily", "revenue")

    assert lineage is not None
    assert lineage.dependents == ()
    assert len(lineage.sources) == 2


def test_unknown_column_has_no_lineage() -> None:
    assert chain_index().column_lineage("daily", "nope") is None


def test_negative_depth_is_refused() -> None:
    with pytest.raises(ValueError, match="`depth` must be 0 or more"):
        chain_index().upstream("daily", "revenue", depth=-1)


def test_model_columns_list_direct_sources_in_column_order() -> None:
    columns = chain_index().model_columns("daily")

    assert [(c.name, c.data_type) for c in columns] == [
        ("revenue", "float64"),
        ("orders", "int64"),
    ]
    assert [
        (s.model, s.column, s.transformation.value) for s in columns[1].sources
    ] == [("clean", "id", "aggregated")]


def test_index_built_from_stored_edges_alone_still_answers() -> None:
    stored = [
        ColumnEdge(
            source_model="a",
            source_column="x",
            output_model="b",
            output_column="y",
            transformation_type=TransformationType.RENAMED,
            transformation_expression="x",
        )
    ]

    index = LineageIndex(stored)

    assert [c.name for c in index.model_columns("b")] == ["y"]
    assert hops(index.downstream("a", "x", depth=3)) == [("a", "x", "b", "y", 1)]


def test_edges_into_selects_edges_by_output_model() -> None:
    index = chain_index()

    selected = index.edges_into(["report"])

    assert [(e.source_model, e.output_model) for e in selected] == [("daily", "report")]
    assert len(index.edges_into()) == 5
