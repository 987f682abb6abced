"""Column lineage of a set of models, however it was obtained.

A `LineageView` is what readers (CLI, API, plan) work with: the per-model
results, an index for walking column lineage, and each model's error. It is
built from lineage just computed or from rows read back from the state
store, which this module converts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from interlace.lineage.edges import (
    ColumnEdge,
    LineageColumn,
    ModelColumnLineage,
    TransformationType,
)
from interlace.lineage.queries import LineageIndex, ModelColumn
from interlace.state.records import (
    LineageColumnRecord,
    LineageEdgeRecord,
    LineageModelRecord,
)

__all__ = [
    "LineageView",
    "column_records",
    "edge_records",
    "from_records",
]


class LineageView:
    """Column lineage of some models; immutable once built."""

    def __init__(self, models: Mapping[str, ModelColumnLineage]) -> None:
        self.models = dict(models)
        """Per model, in the order given (topological when computed)."""
        self.index = LineageIndex(
            (edge for result in self.models.values() for edge in result.edges),
            {name: result.columns for name, result in self.models.items()},
        )

    def error(self, model: str) -> str | None:
        """Why the model's lineage could not be computed (None: it was, or
        it is unknown)."""
        found = self.models.get(model)
        return None if found is None else found.error

    def model_columns(self, model: str) -> list[ModelColumn]:
        """The model's output columns in order, each with its direct sources."""
        return self.index.model_columns(model)

    def edges(self, models: Iterable[str] | None = None) -> list[ColumnEdge]:
        """Edges into `models` (every model for None), grouped by model."""
        chosen = self.models if models is None else models
        return [
            edge
            for name in chosen
            if name in self.models
            for edge in self.models[name].edges
        ]


def from_records(
    record: LineageModelRecord, edges: Sequence[LineageEdgeRecord]
) -> ModelColumnLineage:
    """A model's stored lineage as the computation produced it."""
    return ModelColumnLineage(
        model=record.model_name,
        columns=tuple(
            LineageColumn(name=column.name, data_type=column.data_type)
            for column in record.columns
        ),
        edges=tuple(_edge(edge) for edge in edges),
        complete=record.complete,
        error=record.error,
    )


def column_records(result: ModelColumnLineage) -> list[LineageColumnRecord]:
    return [
        LineageColumnRecord(name=column.name, data_type=column.data_type)
        for column in result.columns
    ]


def edge_records(result: ModelColumnLineage) -> list[LineageEdgeRecord]:
    return [
        LineageEdgeRecord(
            source_model=edge.source_model,
            source_column=edge.source_column,
            output_model=edge.output_model,
            output_column=edge.output_column,
            transformation_type=edge.transformation_type.value,
            transformation_expression=edge.transformation_expression,
            confidence=edge.confidence,
        )
        for edge in result.edges
    ]


_TRANSFORMATIONS = {member.value: member for member in TransformationType}


def _edge(record: LineageEdgeRecord) -> ColumnEdge:
    # A value written by another Interlace version reads as `unknown`
    # rather than failing every lineage read.
    kind = _TRANSFORMATIONS.get(record.transformation_type, TransformationType.UNKNOWN)
    return ColumnEdge(
        source_model=record.source_model,
        source_column=record.source_column,
        output_model=record.output_model,
        output_column=record.output_column,
        transformation_type=kind,
        transformation_expression=record.transformation_expression,
        confidence=record.confidence,
    )
