"""Questions asked of column lineage, answered from an index of edges.

The index is built from edges alone (plus, optionally, the column lists), so
it serves lineage just computed as well as lineage read back from the state
store. Shapes follow the API: `GET /models/{m}/columns` lists columns with
their direct sources; `GET /models/{m}/columns/{c}/lineage` walks upstream
(`sources`) and downstream (`dependents`) with a depth per step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Literal

import msgspec

from interlace.lineage.compute import ProjectLineage
from interlace.lineage.edges import ColumnEdge, LineageColumn, TransformationType

__all__ = [
    "ColumnLineage",
    "ColumnLineageStep",
    "ColumnSource",
    "Direction",
    "LineageIndex",
    "ModelColumn",
]

Direction = Literal["upstream", "downstream", "both"]
_Key = tuple[str, str]
"""(model, lower-case column)."""


class ColumnSource(msgspec.Struct, frozen=True, kw_only=True):
    """A direct source of a column."""

    model: str
    column: str
    transformation: TransformationType
    confidence: float = 1.0


class ModelColumn(msgspec.Struct, frozen=True, kw_only=True):
    """An output column of a model with its direct sources."""

    name: str
    data_type: str | None
    sources: tuple[ColumnSource, ...]


class ColumnLineageStep(msgspec.Struct, frozen=True, kw_only=True):
    """One edge met while walking lineage, `depth` edges away from the start."""

    source_model: str
    source_column: str
    output_model: str
    output_column: str
    transformation: TransformationType
    depth: int
    transformation_expression: str | None = None
    confidence: float = 1.0


class ColumnLineage(msgspec.Struct, frozen=True, kw_only=True):
    """Where one column comes from (`sources`) and what it feeds (`dependents`)."""

    model: str
    column: str
    data_type: str | None
    direction: Direction
    depth: int
    sources: tuple[ColumnLineageStep, ...]
    dependents: tuple[ColumnLineageStep, ...]


class LineageIndex:
    """Column lineage indexed both ways; immutable once built."""

    def __init__(
        self,
        edges: Iterable[ColumnEdge],
        columns: Mapping[str, Sequence[LineageColumn]] | None = None,
    ) -> None:
        self._into: dict[_Key, list[ColumnEdge]] = {}
        self._from: dict[_Key, list[ColumnEdge]] = {}
        self._columns: dict[str, dict[str, LineageColumn]] = {}
        for model, listed in (columns or {}).items():
            known = self._columns.setdefault(model, {})
            for column in listed:
                known.setdefault(column.name.lower(), column)
        for edge in edges:
            self._add(edge)

    @classmethod
    def from_project(cls, lineage: ProjectLineage) -> LineageIndex:
        return cls(lineage.edges, lineage.columns())

    def model_columns(self, model: str) -> list[ModelColumn]:
        """Columns of `model` in order, each with its direct sources."""
        return [
            ModelColumn(
                name=column.name,
                data_type=column.data_type,
                sources=tuple(
                    _source(edge) for edge in self._into.get((model, key), [])
                ),
            )
            for key, column in self._columns.get(model, {}).items()
        ]

    def edges_into(self, models: Iterable[str] | None = None) -> list[ColumnEdge]:
        """Edges whose output model is in `models` (all edges for None)."""
        chosen = None if models is None else set(models)
        return [
            edge
            for (model, _), edges in self._into.items()
            if chosen is None or model in chosen
            for edge in edges
        ]

    def find_column(self, model: str, column: str) -> LineageColumn | None:
        """The column of `model` named `column` (case-insensitive), if known."""
        return self._columns.get(model, {}).get(column.lower())

    def column_lineage(
        self,
        model: str,
        column: str,
        *,
        direction: Direction = "upstream",
        depth: int = 3,
    ) -> ColumnLineage | None:
        """Lineage of one column within `depth` edges; None if it is unknown."""
        found = self.find_column(model, column)
        if found is None:
            return None
        upstream = direction in ("upstream", "both")
        downstream = direction in ("downstream", "both")
        return ColumnLineage(
            model=model,
            column=found.name,
            data_type=found.data_type,
            direction=direction,
            depth=depth,
            sources=tuple(self.upstream(model, found.name, depth) if upstream else ()),
            dependents=tuple(
                self.downstream(model, found.name, depth) if downstream else ()
            ),
        )

    def upstream(self, model: str, column: str, depth: int) -> list[ColumnLineageStep]:
        """Edges leading to the column, nearest first, up to `depth` edges away."""
        return _walk((model, column.lower()), depth, self._into, _source_key)

    def downstream(
        self, model: str, column: str, depth: int
    ) -> list[ColumnLineageStep]:
        """Edges leaving the column, nearest first, up to `depth` edges away."""
        return _walk((model, column.lower()), depth, self._from, _output_key)

    def _add(self, edge: ColumnEdge) -> None:
        output = _output_key(edge)
        source = _source_key(edge)
        self._into.setdefault(output, []).append(edge)
        self._from.setdefault(source, []).append(edge)
        # Columns met only in edges (lineage read back without column lists)
        # still exist for queries.
        self._columns.setdefault(edge.output_model, {}).setdefault(
            output[1], LineageColumn(name=edge.output_column)
        )
        self._columns.setdefault(edge.source_model, {}).setdefault(
            source[1], LineageColumn(name=edge.source_column)
        )


def _walk(
    start: _Key,
    depth: int,
    links: Mapping[_Key, list[ColumnEdge]],
    follow: Callable[[ColumnEdge], _Key],
) -> list[ColumnLineageStep]:
    """Breadth first, so each step carries its shortest distance; every
    column is expanded once even when several paths reach it."""
    if depth < 0:
        raise ValueError(f"`depth` must be 0 or more, got {depth}")
    steps: list[ColumnLineageStep] = []
    visited = {start}
    frontier = [start]
    for level in range(1, depth + 1):
        following: list[_Key] = []
        for key in frontier:
            for edge in links.get(key, []):
                steps.append(_step(edge, level))
                reached = follow(edge)
                if reached not in visited:
                    visited.add(reached)
                    following.append(reached)
        if not following:
            break
        frontier = following
    return steps


def _step(edge: ColumnEdge, depth: int) -> ColumnLineageStep:
    return ColumnLineageStep(
        source_model=edge.source_model,
        source_column=edge.source_column,
        output_model=edge.output_model,
        output_column=edge.output_column,
        transformation=edge.transformation_type,
        depth=depth,
        transformation_expression=edge.transformation_expression,
        confidence=edge.confidence,
    )


def _source(edge: ColumnEdge) -> ColumnSource:
    return ColumnSource(
        model=edge.source_model,
        column=edge.source_column,
        transformation=edge.transformation_type,
        confidence=edge.confidence,
    )


def _source_key(edge: ColumnEdge) -> _Key:
    return edge.source_model, edge.source_column.lower()


def _output_key(edge: ColumnEdge) -> _Key:
    return edge.output_model, edge.output_column.lower()
