"""`interlace graph`: the model graph as text, JSON, Graphviz or Mermaid."""

from __future__ import annotations

import enum
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from interlace.cli.console import console
from interlace.cli.options import EnvOption, ProjectDirOption, VerboseOption
from interlace.cli.session import command_session

if TYPE_CHECKING:
    from interlace.engine.project import Project

__all__ = ["GraphFormat", "graph", "graph_document", "render_graph"]

_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_DOT_SHAPES = {"sql": "box", "python": "ellipse", "stream": "cylinder"}


class GraphFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    DOT = "dot"
    MERMAID = "mermaid"


def graph(
    output_format: Annotated[
        GraphFormat, typer.Option("--format", help="Output format.")
    ] = GraphFormat.TEXT,
    project_dir: ProjectDirOption = Path(),
    env: EnvOption = None,
    verbose: VerboseOption = False,
) -> None:
    """Show the model dependency graph."""
    with command_session(verbose):
        from interlace.engine.project import Project

        project = Project.load(project_dir, env)
        console.out(render_graph(project, output_format), highlight=False)


def render_graph(project: Project, output_format: GraphFormat) -> str:
    """The graph in `output_format`, as text without a trailing newline."""
    renderers = {
        GraphFormat.TEXT: _text,
        GraphFormat.JSON: lambda p: json.dumps(graph_document(p), indent=2),
        GraphFormat.DOT: _dot,
        GraphFormat.MERMAID: _mermaid,
    }
    return renderers[output_format](project)


def graph_document(project: Project) -> dict[str, Any]:
    """Nodes, edges, layers and stats, shaped like the API's graph (§10.5)."""
    layers = project.graph.layers()
    order = project.graph.order()
    nodes = []
    for name in order:
        definition = project.models[name]
        nodes.append(
            {
                "id": name,
                "name": name,
                "type": definition.type.value,
                "schema": definition.schema,
                "materialise": definition.materialise.value,
                "strategy": definition.strategy.value if definition.strategy else None,
                "layer": layers[name],
                "tags": list(definition.tags),
                "description": definition.description,
            }
        )
    edges = [
        {"id": f"{source}->{target}", "source": source, "target": target}
        for source, target in project.graph.edges()
    ]
    by_layer: dict[str, list[str]] = {}
    for name in order:
        by_layer.setdefault(str(layers[name]), []).append(name)
    return {
        "nodes": nodes,
        "edges": edges,
        "layers": by_layer,
        "stats": {
            "total_nodes": len(nodes),
            "total_edges": len(edges),
            "max_layer": max(layers.values(), default=0),
        },
    }


def _text(project: Project) -> str:
    """Models grouped by layer, each with the upstream models it reads."""
    layers = project.graph.layers()
    lines: list[str] = []
    for layer in sorted(set(layers.values())):
        lines.append(f"Layer {layer}")
        for name in sorted(n for n, depth in layers.items() if depth == layer):
            definition = project.models[name]
            kind = f"{definition.type.value}, {definition.materialise.value}"
            upstream = project.graph.upstream(name)
            reads = f"  <- {', '.join(upstream)}" if upstream else ""
            lines.append(f"  {name} ({kind}){reads}")
    return "\n".join(lines) if lines else "(no models)"


def _dot(project: Project) -> str:
    lines = ["digraph interlace {", "  rankdir=LR;"]
    for name in project.graph.order():
        kind = project.models[name].type.value
        shape = _DOT_SHAPES.get(kind, "box")
        label = f"{name}\\n{kind}"
        lines.append(f"  {_dot_id(name)} [label={_dot_id(label)}, shape={shape}];")
    for source, target in project.graph.edges():
        lines.append(f"  {_dot_id(source)} -> {_dot_id(target)};")
    lines.append("}")
    return "\n".join(lines)


def _dot_id(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def _mermaid(project: Project) -> str:
    lines = ["graph LR"]
    for name in project.graph.order():
        kind = project.models[name].type.value
        label = f"{name} ({kind})".replace('"', "'")
        lines.append(f'  {_mermaid_id(name)}["{label}"]')
    for source, target in project.graph.edges():
        lines.append(f"  {_mermaid_id(source)} --> {_mermaid_id(target)}")
    return "\n".join(lines)


def _mermaid_id(name: str) -> str:
    return _MERMAID_UNSAFE.sub("_", name)
