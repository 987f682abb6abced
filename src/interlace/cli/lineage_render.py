"""How `interlace lineage show` draws lineage: rich trees and tables, Graphviz.

Model lineage is drawn from its nodes and `source -> target` edges; column
lineage from its steps, each an edge between two model columns. Names are
user text, so they are escaped before they reach rich markup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

if TYPE_CHECKING:
    from interlace.lineage.models import ModelLineage
    from interlace.lineage.queries import ColumnLineage, ColumnLineageStep

__all__ = [
    "column_dot",
    "column_table",
    "column_tree",
    "columns_table",
    "model_dot",
    "model_table",
    "model_tree",
]

_Key = tuple[str, str]


def model_tree(lineage: ModelLineage) -> Tree:
    """The root with an `upstream` and a `downstream` branch, nested by hop."""
    nodes = {node.name: node for node in lineage.nodes}
    root = nodes[lineage.root]
    tree = Tree(f"[bold]{escape(root.name)}[/] ({root.type}, {root.materialise})")
    feeds: dict[str, list[str]] = {}
    reads: dict[str, list[str]] = {}
    for edge in lineage.edges:
        feeds.setdefault(edge.target, []).append(edge.source)
        reads.setdefault(edge.source, []).append(edge.target)
    for label, links in (("upstream", feeds), ("downstream", reads)):
        if lineage.root in links:
            branch = tree.add(f"[dim]{label}[/]")
            _grow(
                branch, lineage.root, links, lambda n: f"{escape(n)} ({nodes[n].type})"
            )
    return tree


def model_table(lineage: ModelLineage) -> Table:
    upstream = _reach(lineage.root, [(e.target, e.source) for e in lineage.edges])
    table = _table("model", "relation", "type", "materialise", "layer")
    for node in lineage.nodes:
        if node.name == lineage.root:
            relation = "root"
        else:
            relation = "upstream" if node.name in upstream else "downstream"
        table.add_row(
            escape(node.name), relation, node.type, node.materialise, str(node.layer)
        )
    return table


def model_dot(lineage: ModelLineage) -> str:
    lines = ["digraph lineage {", "  rankdir=LR;"]
    for node in lineage.nodes:
        style = ", style=bold" if node.name == lineage.root else ""
        lines.append(f"  {_dot_id(node.name)} [shape=box{style}];")
    for edge in lineage.edges:
        lines.append(f"  {_dot_id(edge.source)} -> {_dot_id(edge.target)};")
    lines.append("}")
    return "\n".join(lines)


def columns_table(model: str, columns: Sequence[Mapping[str, Any]]) -> Table:
    """A model's columns (as `GET /models/{name}/columns` lists them) with
    their direct sources."""
    table = _table("column", "type", "sources")
    table.title = f"Columns of {escape(model)}"
    table.title_justify = "left"
    for column in columns:
        sources = ", ".join(
            f"{source['model']}.{source['column']} ({source['transformation']})"
            for source in column["sources"]
        )
        table.add_row(
            escape(column["name"]), column["data_type"] or "", escape(sources)
        )
    return table


def column_tree(lineage: ColumnLineage) -> Tree:
    """The column with its sources and dependents, nested by depth."""
    kind = f" ({lineage.data_type})" if lineage.data_type else ""
    tree = Tree(f"[bold]{escape(lineage.model)}.{escape(lineage.column)}[/]{kind}")
    start = (lineage.model, lineage.column.lower())
    branches = (
        ("sources", lineage.sources, _output_key, _source_key),
        ("dependents", lineage.dependents, _source_key, _output_key),
    )
    for label, steps, near, far in branches:
        if not steps:
            continue
        links: dict[_Key, list[ColumnLineageStep]] = {}
        for step in steps:
            links.setdefault(near(step), []).append(step)
        _grow_steps(tree.add(f"[dim]{label}[/]"), start, links, far)
    return tree


def column_table(lineage: ColumnLineage) -> Table:
    table = _table("direction", "depth", "from", "to", "transformation")
    for direction, steps in (
        ("upstream", lineage.sources),
        ("downstream", lineage.dependents),
    ):
        for step in steps:
            table.add_row(
                direction,
                str(step.depth),
                escape(f"{step.source_model}.{step.source_column}"),
                escape(f"{step.output_model}.{step.output_column}"),
                step.transformation.value,
            )
    return table


def column_dot(lineage: ColumnLineage) -> str:
    root = f"{lineage.model}.{lineage.column}"
    lines = ["digraph lineage {", "  rankdir=LR;"]
    lines.append(f"  {_dot_id(root)} [shape=box, style=bold];")
    seen: set[tuple[str, str]] = set()
    for step in (*lineage.sources, *lineage.dependents):
        pair = (
            f"{step.source_model}.{step.source_column}",
            f"{step.output_model}.{step.output_column}",
        )
        if pair in seen:
            continue
        seen.add(pair)
        label = _dot_id(step.transformation.value)
        lines.append(f"  {_dot_id(pair[0])} -> {_dot_id(pair[1])} [label={label}];")
    lines.append("}")
    return "\n".join(lines)


def _grow(
    branch: Tree,
    name: str,
    links: dict[str, list[str]],
    label: Callable[[str], str],
    path: frozenset[str] = frozenset(),
) -> None:
    """Add `name`'s linked models under `branch`, recursively; `path` stops
    a model from nesting under itself."""
    for other in links.get(name, []):
        if other in path:
            continue
        child = branch.add(label(other))
        _grow(child, other, links, label, path | {name})


def _grow_steps(
    branch: Tree,
    key: _Key,
    links: dict[_Key, list[ColumnLineageStep]],
    far: Callable[[ColumnLineageStep], _Key],
    path: frozenset[_Key] = frozenset(),
) -> None:
    for step in links.get(key, []):
        reached = far(step)
        model, column = _names(step, reached)
        child = branch.add(
            f"{escape(model)}.{escape(column)} [dim]{step.transformation.value}[/]"
        )
        if reached not in path and reached != key:
            _grow_steps(child, reached, links, far, path | {key})


def _names(step: ColumnLineageStep, key: _Key) -> tuple[str, str]:
    if key == _source_key(step):
        return step.source_model, step.source_column
    return step.output_model, step.output_column


def _source_key(step: ColumnLineageStep) -> _Key:
    return step.source_model, step.source_column.lower()


def _output_key(step: ColumnLineageStep) -> _Key:
    return step.output_model, step.output_column.lower()


def _reach(start: str, links: Iterable[tuple[str, str]]) -> set[str]:
    """Names reachable from `start` following `(from, to)` links."""
    following: dict[str, list[str]] = {}
    for origin, target in links:
        following.setdefault(origin, []).append(target)
    seen: set[str] = set()
    frontier = [start]
    while frontier:
        name = frontier.pop()
        for other in following.get(name, []):
            if other not in seen:
                seen.add(other)
                frontier.append(other)
    return seen


def _table(*headers: str) -> Table:
    table = Table(show_edge=False, header_style="bold")
    for header in headers:
        table.add_column(header, no_wrap=True)
    return table


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
