"""Model lineage: nodes and edges around one model."""

from __future__ import annotations

import pytest

from interlace.engine.definition import Materialise, Strategy
from interlace.engine.graph import ModelGraph
from interlace.errors import SelectionError
from interlace.lineage import ModelLineage, model_lineage
from tests.lineage.factories import python_model, sql_model


def diamond() -> ModelGraph:
    """raw -> (left, right) -> joined -> report, plus raw -> audit."""
    models = {
        "raw": python_model("raw", tags=("source",), strategy=Strategy.APPEND),
        "left": sql_model("left", "SELECT 1", "raw"),
        "right": sql_model("right", "SELECT 1", "raw"),
        "joined": sql_model(
            "joined", "SELECT 1", "left", "right", materialise=Materialise.VIEW
        ),
        "report": sql_model("report", "SELECT 1", "joined"),
        "audit": sql_model("audit", "SELECT 1", "raw"),
    }
    return ModelGraph(models)


def names(lineage: ModelLineage) -> list[str]:
    return [node.name for node in lineage.nodes]


def pairs(lineage: ModelLineage) -> set[tuple[str, str]]:
    return {(edge.source, edge.target) for edge in lineage.edges}


def test_upstream_lineage_walks_towards_sources() -> None:
    lineage = model_lineage(diamond(), "report", direction="upstream", depth=3)

    assert names(lineage) == ["report", "joined", "left", "right", "raw"]
    assert pairs(lineage) == {
        ("joined", "report"),
        ("left", "joined"),
        ("right", "joined"),
        ("raw", "left"),
        ("raw", "right"),
    }


def test_depth_limits_the_number_of_hops() -> None:
    lineage = model_lineage(diamond(), "report", direction="upstream", depth=1)

    assert names(lineage) == ["report", "joined"]
    assert pairs(lineage) == {("joined", "report")}


def test_downstream_lineage_walks_towards_dependants() -> None:
    lineage = model_lineage(diamond(), "raw", direction="downstream", depth=2)

    assert names(lineage) == ["raw", "audit", "left", "right", "joined"]
    assert pairs(lineage) == {
        ("raw", "audit"),
        ("raw", "left"),
        ("raw", "right"),
        ("left", "joined"),
        ("right", "joined"),
    }


def test_both_directions_combine_without_duplicate_nodes() -> None:
    lineage = model_lineage(diamond(), "left", direction="both", depth=5)

    assert names(lineage) == ["left", "raw", "joined", "report"]
    assert pairs(lineage) == {("raw", "left"), ("left", "joined"), ("joined", "report")}
    assert len(set(names(lineage))) == len(lineage.nodes)


def test_depth_zero_is_the_model_alone() -> None:
    lineage = model_lineage(diamond(), "joined", direction="both", depth=0)

    assert names(lineage) == ["joined"]
    assert lineage.edges == ()


def test_nodes_describe_the_models() -> None:
    lineage = model_lineage(diamond(), "joined", direction="upstream", depth=2)

    by_name = {node.name: node for node in lineage.nodes}
    assert by_name["raw"].type == "python"
    assert by_name["raw"].strategy == "append"
    assert by_name["raw"].tags == ("source",)
    assert by_name["raw"].layer == 0
    assert by_name["joined"].materialise == "view"
    assert by_name["joined"].layer == 2
    assert by_name["joined"].id == "joined"
    assert (lineage.model, lineage.root, lineage.direction, lineage.depth) == (
        "joined",
        "joined",
        "upstream",
        2,
    )


@pytest.mark.parametrize("depth", [-1, 101])
def test_depth_outside_the_accepted_range_is_refused(depth: int) -> None:
    with pytest.raises(ValueError, match="between 0 and 100"):
        model_lineage(diamond(), "raw", depth=depth)


def test_unknown_model_raises_a_selection_error() -> None:
    with pytest.raises(SelectionError, match="ghost"):
        model_lineage(diamond(), "ghost")
