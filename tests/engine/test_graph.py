"""The model graph: order, layers, neighbours, cycles and selection."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest

from interlace.engine.definition import ModelDefinition, ModelType
from interlace.engine.graph import ModelGraph
from interlace.errors import CycleError, SelectionError


def _models(edges: dict[str, list[str]]) -> dict[str, ModelDefinition]:
    return {
        name: ModelDefinition(
            name=name,
            type=ModelType.SQL,
            schema="public",
            connection=None,
            dependencies=tuple(dependencies),
            path=Path(f"/models/{name}.sql"),
            line=1,
        )
        for name, dependencies in edges.items()
    }


# raw_a, raw_b -> staged -> report, audit; report -> dashboard; `ext` is external.
_SHOP = {
    "dashboard": ["report"],
    "report": ["staged", "ext"],
    "audit": ["staged"],
    "staged": ["raw_b", "raw_a"],
    "raw_a": [],
    "raw_b": ["ext"],
    "lonely": [],
}


@pytest.fixture
def shop() -> ModelGraph:
    return ModelGraph(_models(_SHOP))


def test_order_puts_upstream_first_and_breaks_ties_by_name(shop: ModelGraph) -> None:
    assert shop.order() == [
        "lonely",
        "raw_a",
        "raw_b",
        "staged",
        "audit",
        "report",
        "dashboard",
    ]


def test_order_is_independent_of_insertion_order() -> None:
    names = list(_SHOP)
    random.Random(7).shuffle(names)

    shuffled = ModelGraph(_models({name: _SHOP[name] for name in names}))

    assert shuffled.order() == ModelGraph(_models(_SHOP)).order()


def test_layers_count_the_longest_path_from_a_source(shop: ModelGraph) -> None:
    assert shop.layers() == {
        "lonely": 0,
        "raw_a": 0,
        "raw_b": 0,
        "staged": 1,
        "audit": 2,
        "report": 2,
        "dashboard": 3,
    }


def test_external_names_are_not_edges(shop: ModelGraph) -> None:
    assert shop.upstream("report") == ["staged"]
    assert shop.external_dependencies("report") == ["ext"]
    assert shop.external_dependencies("raw_b") == ["ext"]
    assert ("staged", "report") in shop.edges()
    assert all("ext" not in edge for edge in shop.edges())


def test_direct_and_transitive_neighbours(shop: ModelGraph) -> None:
    assert shop.upstream("staged") == ["raw_a", "raw_b"]
    assert shop.downstream("staged") == ["audit", "report"]
    assert shop.ancestors("dashboard") == {"report", "staged", "raw_a", "raw_b"}
    assert shop.descendants("raw_a") == {"staged", "audit", "report", "dashboard"}
    assert shop.ancestors("raw_a") == set()


def test_unknown_model_in_a_lookup_is_a_selection_error(shop: ModelGraph) -> None:
    with pytest.raises(SelectionError) as caught:
        shop.upstream("nope")

    assert caught.value.invalid == ["nope"]
    assert "dashboard" in caught.value.available


def test_cycle_is_reported_with_its_path_and_first_model_location() -> None:
    models = _models({"a": ["c"], "b": ["a"], "c": ["b"], "d": ["c"], "e": []})

    with pytest.raises(CycleError) as caught:
        ModelGraph(models)

    assert caught.value.cycle == ["a", "b", "c", "a"]
    assert str(caught.value) == "/models/a.sql:1: dependency cycle: a -> b -> c -> a"
    assert (caught.value.path, caught.value.line) == (Path("/models/a.sql"), 1)


def test_self_dependency_is_a_cycle_of_one() -> None:
    with pytest.raises(CycleError) as caught:
        ModelGraph(_models({"a": ["a"]}))

    assert caught.value.cycle == ["a", "a"]


@pytest.mark.parametrize(
    ("selectors", "no_upstream", "expected"),
    [
        (
            None,
            False,
            ["lonely", "raw_a", "raw_b", "staged", "audit", "report", "dashboard"],
        ),
        ([], False, []),
        (["report"], False, ["raw_a", "raw_b", "staged", "report"]),
        (["report"], True, ["report"]),
        (["+report"], True, ["raw_a", "raw_b", "staged", "report"]),
        (["staged+"], True, ["staged", "audit", "report", "dashboard"]),
        (
            ["staged+"],
            False,
            ["raw_a", "raw_b", "staged", "audit", "report", "dashboard"],
        ),
        (["+report+"], True, ["raw_a", "raw_b", "staged", "report", "dashboard"]),
        (["dashboard", "audit"], True, ["audit", "dashboard"]),
        ([" lonely "], False, ["lonely"]),
    ],
)
def test_selectors_resolve_in_topological_order(
    shop: ModelGraph,
    selectors: list[str] | None,
    no_upstream: bool,
    expected: list[str],
) -> None:
    assert shop.select(selectors, no_upstream=no_upstream) == expected


def test_unknown_selectors_are_all_reported(shop: ModelGraph) -> None:
    with pytest.raises(SelectionError) as caught:
        shop.select(["report", "+nope", "ghost+", "+"])

    assert caught.value.invalid == ["nope", "ghost", ""]
    assert caught.value.available == sorted(_SHOP)


def test_subgraph_turns_edges_to_left_out_models_into_externals(
    shop: ModelGraph,
) -> None:
    sub = shop.subgraph(["staged", "report"])

    assert sub.order() == ["staged", "report"]
    assert sub.external_dependencies("staged") == ["raw_b", "raw_a"]
    assert len(sub) == 2 and "raw_a" not in sub


def test_thousand_models_build_and_order_well_under_fifty_milliseconds() -> None:
    rng = random.Random(1)
    names = [f"m{index:04d}" for index in range(1000)]
    edges = {
        name: [names[rng.randrange(index)] for _ in range(2)] if index else []
        for index, name in enumerate(names)
    }
    models = _models(edges)

    started = time.perf_counter()
    graph = ModelGraph(models)
    order = graph.order()
    elapsed = time.perf_counter() - started

    assert len(order) == 1000
    assert sum(len(graph.upstream(name)) for name in names) >= 1900
    assert elapsed < 0.05
