"""Model lineage: the models around one model, within a number of hops.

This is the `GET /models/{name}/lineage` answer and what `lineage show`
renders: de-duplicated nodes and `source` (upstream) → `target`
(downstream) edges met while walking the graph from the root.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import msgspec

from interlace.engine.definition import ModelDefinition
from interlace.engine.graph import ModelGraph
from interlace.errors import SelectionError

__all__ = ["MAX_DEPTH", "LineageNode", "ModelEdge", "ModelLineage", "model_lineage"]

MAX_DEPTH = 100
"""The deepest walk the API accepts."""

Direction = Literal["upstream", "downstream", "both"]


class LineageNode(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    type: str
    schema: str
    materialise: str
    strategy: str | None
    layer: int
    tags: tuple[str, ...]


class ModelEdge(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    """The upstream model."""
    target: str
    """The downstream model, which reads `source`."""


class ModelLineage(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    root: str
    direction: Direction
    depth: int
    nodes: tuple[LineageNode, ...]
    """The root first, then models in the order the walk met them."""
    edges: tuple[ModelEdge, ...]


def model_lineage(
    graph: ModelGraph,
    model: str,
    *,
    direction: Direction = "both",
    depth: int = 3,
) -> ModelLineage:
    """Models within `depth` hops of `model`, upstream, downstream or both.

    Raises `SelectionError` for an unknown model and `ValueError` for a
    depth outside 0..`MAX_DEPTH` or an unknown direction.
    """
    if model not in graph:
        raise SelectionError([model], sorted(graph.models))
    if not 0 <= depth <= MAX_DEPTH:
        raise ValueError(f"'depth' must be a valid integer between 0 and {MAX_DEPTH}")
    if direction not in ("upstream", "downstream", "both"):
        raise ValueError(
            f"'direction' must be upstream, downstream or both, got {direction!r}"
        )
    names = [model]
    edges: dict[tuple[str, str], None] = {}
    if direction in ("upstream", "both"):
        _walk(model, depth, graph.upstream, names, edges, upstream=True)
    if direction in ("downstream", "both"):
        _walk(model, depth, graph.downstream, names, edges, upstream=False)
    return ModelLineage(
        model=model,
        root=model,
        direction=direction,
        depth=depth,
        nodes=tuple(_nodes(graph, names)),
        edges=tuple(ModelEdge(source=s, target=t) for s, t in edges),
    )


def _walk(
    root: str,
    depth: int,
    neighbours: Callable[[str], Sequence[str]],
    names: list[str],
    edges: dict[tuple[str, str], None],
    *,
    upstream: bool,
) -> None:
    """Breadth first from `root`; appends new names and edges in order."""
    seen = set(names)
    frontier = [root]
    for _ in range(depth):
        following = []
        for name in frontier:
            for other in neighbours(name):
                edges[(other, name) if upstream else (name, other)] = None
                if other not in seen:
                    seen.add(other)
                    names.append(other)
                    following.append(other)
        frontier = following


def _nodes(graph: ModelGraph, names: list[str]) -> list[LineageNode]:
    layers = graph.layers()
    models = graph.models
    return [_node(models[name], layers[name]) for name in names]


def _node(definition: ModelDefinition, layer: int) -> LineageNode:
    return LineageNode(
        id=definition.name,
        name=definition.name,
        type=definition.type.value,
        schema=definition.schema,
        materialise=definition.materialise.value,
        strategy=None if definition.strategy is None else definition.strategy.value,
        layer=layer,
        tags=definition.tags,
    )
