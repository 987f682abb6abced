"""Apply a model's `column_mapping`, `fields` and `strict` to traced columns.

A query's output is not quite what gets written (SPEC §4.9): mapped columns
are renamed, declared fields are cast (their declared type wins), and with
`strict` only declared columns remain. Lineage describes the written table,
so the traced result goes through the same steps.
"""

from __future__ import annotations

import msgspec

from interlace.engine.definition import ModelDefinition
from interlace.lineage.edges import (
    ColumnEdge,
    LineageColumn,
    ModelColumnLineage,
    TransformationType,
)

__all__ = ["apply_declared_fields"]


def apply_declared_fields(
    result: ModelColumnLineage, definition: ModelDefinition
) -> ModelColumnLineage:
    """`result` as the model writes it; unchanged without mapping or fields."""
    if not definition.column_mapping and not definition.fields:
        return result
    mapping = {
        old.lower(): new for old, new in (definition.column_mapping or {}).items()
    }
    columns = [_renamed_column(column, mapping) for column in result.columns]
    edges = [_renamed_edge(edge, mapping) for edge in result.edges]
    columns = _typed(columns, definition)
    if definition.strict and definition.fields:
        declared = {name.lower() for name in definition.fields}
        columns = [column for column in columns if column.name.lower() in declared]
        edges = [edge for edge in edges if edge.output_column.lower() in declared]
    return msgspec.structs.replace(result, columns=tuple(columns), edges=tuple(edges))


def _renamed_column(column: LineageColumn, mapping: dict[str, str]) -> LineageColumn:
    new = mapping.get(column.name.lower())
    return (
        column if new is None else LineageColumn(name=new, data_type=column.data_type)
    )


def _renamed_edge(edge: ColumnEdge, mapping: dict[str, str]) -> ColumnEdge:
    new = mapping.get(edge.output_column.lower())
    if new is None:
        return edge
    kind = edge.transformation_type
    if kind is TransformationType.DIRECT:
        kind = TransformationType.RENAMED
    return msgspec.structs.replace(edge, output_column=new, transformation_type=kind)


def _typed(
    columns: list[LineageColumn], definition: ModelDefinition
) -> list[LineageColumn]:
    """Declared types win; declared columns the query lacks are added (as
    NULL columns, so without sources), in declaration order for `strict`."""
    fields = definition.fields or {}
    declared = {name.lower(): kind for name, kind in fields.items()}
    by_name = {column.name.lower(): column for column in columns}
    typed = [
        LineageColumn(
            name=column.name,
            data_type=declared.get(column.name.lower(), column.data_type),
        )
        for column in columns
    ]
    missing = [
        LineageColumn(name=name, data_type=kind)
        for name, kind in fields.items()
        if name.lower() not in by_name
    ]
    if not definition.strict:
        return typed + missing
    position = {name.lower(): index for index, name in enumerate(fields)}
    ordered = [column for column in typed + missing if column.name.lower() in position]
    return sorted(ordered, key=lambda column: position[column.name.lower()])
