"""The model graph as the API shows it: full, by layer, as a tree (SPEC §10.5).

Layers are those of the whole project even when `models=` narrows the view,
so a model keeps its layer number whichever subset is displayed.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from interlace.engine.project import Project
from interlace.errors import SelectionError
from interlace.service.catalog import effective_strategy
from interlace.service.problems import validation_error

__all__ = [
    "GRAPH_FORMATS",
    "GraphEdge",
    "GraphIssue",
    "GraphNode",
    "GraphValidation",
    "GraphView",
    "build_graph",
    "validate_graph",
]

GRAPH_FORMATS = ("full", "layers", "tree")


class GraphNode(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    type: str
    schema: str
    materialise: str
    strategy: str | None
    layer: int
    tags: list[str]
    description: str


class GraphEdge(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    source: str
    target: str


class GraphStats(msgspec.Struct, frozen=True, kw_only=True):
    total_nodes: int
    total_edges: int
    max_layer: int


class LayerNodes(msgspec.Struct, frozen=True, kw_only=True):
    layer: int
    nodes: list[str]


class TreeNode(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A node of the tree view; a repeated model is `{"id", "cyclic": true}`."""

    id: str
    name: str | None = None
    type: str | None = None
    cyclic: bool = False
    children: list[TreeNode]


class GraphView(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    layers: dict[str, list[str]]
    stats: GraphStats
    nodes_by_layer: list[LayerNodes] | None = None
    tree: list[TreeNode] | None = None


class GraphIssue(msgspec.Struct, frozen=True, kw_only=True):
    type: str
    """`cycle`, `missing_dependency` or `unknown_connection`."""
    severity: str
    """`error` or `warning`."""
    message: str
    models: list[str]


class GraphValidation(msgspec.Struct, frozen=True, kw_only=True):
    valid: bool
    issues: list[GraphIssue]


def build_graph(project: Project, fmt: str, models: Sequence[str] | None) -> GraphView:
    """The graph in `fmt`, optionally narrowed to `models` and their edges."""
    if fmt not in GRAPH_FORMATS:
        message = f"'format' must be one of {', '.join(GRAPH_FORMATS)}"
        raise validation_error(message, [{"path": "query.format", "message": message}])
    names = _selected(project, models)
    layers = project.graph.layers()
    nodes = [_node(project, name, layers[name]) for name in names]
    chosen = set(names)
    edges = [
        GraphEdge(id=f"{source}->{target}", source=source, target=target)
        for source, target in project.graph.edges()
        if source in chosen and target in chosen
    ]
    by_layer: dict[int, list[str]] = {}
    for node in nodes:
        by_layer.setdefault(node.layer, []).append(node.name)
    ordered = sorted(by_layer.items())
    return GraphView(
        nodes=nodes,
        edges=edges,
        layers={str(layer): members for layer, members in ordered},
        stats=GraphStats(
            total_nodes=len(nodes),
            total_edges=len(edges),
            max_layer=max(by_layer, default=0),
        ),
        nodes_by_layer=(
            [LayerNodes(layer=layer, nodes=members) for layer, members in ordered]
            if fmt == "layers"
            else None
        ),
        tree=_tree(project, names, edges) if fmt == "tree" else None,
    )


def validate_graph(project: Project) -> GraphValidation:
    """External tables (dependencies that name no model) are warnings.

    `cycle` and `unknown_connection` errors never occur here: loading a
    project rejects both (`CycleError`, `DiscoveryError`), so a running
    service always holds a valid graph and `valid` stays true.
    """
    issues = _externals(project)
    valid = not any(issue.severity == "error" for issue in issues)
    return GraphValidation(valid=valid, issues=issues)


def _selected(project: Project, models: Sequence[str] | None) -> list[str]:
    """Names in topological order, ties by name."""
    order = project.graph.order()
    if not models:
        return order
    unknown = [name for name in dict.fromkeys(models) if name not in project.graph]
    if unknown:
        raise SelectionError(unknown, sorted(project.models))
    wanted = set(models)
    return [name for name in order if name in wanted]


def _node(project: Project, name: str, layer: int) -> GraphNode:
    model = project.models[name]
    return GraphNode(
        id=name,
        name=name,
        type=model.type.value,
        schema=model.schema,
        materialise=model.materialise.value,
        strategy=effective_strategy(model),
        layer=layer,
        tags=list(model.tags),
        description=model.description,
    )


def _tree(project: Project, names: list[str], edges: list[GraphEdge]) -> list[TreeNode]:
    """Trees rooted at models without (shown) upstream; repeats are cut short."""
    children: dict[str, list[str]] = {name: [] for name in names}
    has_parent = set()
    for edge in edges:
        children[edge.source].append(edge.target)
        has_parent.add(edge.target)
    models = project.models
    expanded: set[str] = set()

    def grow(name: str) -> TreeNode:
        if name in expanded:
            return TreeNode(id=name, cyclic=True, children=[])
        expanded.add(name)
        kids = [grow(child) for child in sorted(children[name])]
        return TreeNode(id=name, name=name, type=models[name].type.value, children=kids)

    return [grow(name) for name in names if name not in has_parent]


def _externals(project: Project) -> list[GraphIssue]:
    return [
        _issue(
            "missing_dependency",
            "warning",
            f"Model '{name}' depends on '{external}', which is not a model; it "
            "must exist as a table in the warehouse when the model runs",
            [name, external],
        )
        for name in project.graph.order()
        for external in project.graph.external_dependencies(name)
    ]


def _issue(kind: str, severity: str, message: str, models: list[str]) -> GraphIssue:
    return GraphIssue(type=kind, severity=severity, message=message, models=models)
