"""Model definitions and edge views for lineage tests."""

from __future__ import annotations

from typing import Any

from interlace.engine.definition import ModelDefinition, ModelType
from interlace.lineage import ModelColumnLineage

EdgeView = tuple[str, str, str, str]
"""(source model, source column, output column, transformation)."""


def sql_model(name: str, sql: str, *deps: str, **fields: Any) -> ModelDefinition:
    return ModelDefinition(
        name=name,
        type=ModelType.SQL,
        schema="public",
        connection=None,
        sql=sql,
        dependencies=deps,
        **fields,
    )


def python_model(name: str, *deps: str, **fields: Any) -> ModelDefinition:
    return ModelDefinition(
        name=name,
        type=ModelType.PYTHON,
        schema="public",
        connection=None,
        dependencies=deps,
        parameters=deps,
        **fields,
    )


def edges(result: ModelColumnLineage) -> set[EdgeView]:
    """The edges of `result` as comparable tuples."""
    return {
        (e.source_model, e.source_column, e.output_column, e.transformation_type.value)
        for e in result.edges
    }


def columns(result: ModelColumnLineage) -> list[tuple[str, str | None]]:
    return [(column.name, column.data_type) for column in result.columns]


def expressions(result: ModelColumnLineage) -> dict[tuple[str, str], str | None]:
    """`(source column, output column)` to the edge's expression."""
    return {
        (e.source_column, e.output_column): e.transformation_expression
        for e in result.edges
    }


def confidences(result: ModelColumnLineage) -> dict[tuple[str, str, str], float]:
    return {
        (e.source_model, e.source_column, e.output_column): e.confidence
        for e in result.edges
    }
