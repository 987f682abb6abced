"""Column lineage of a Python model, from its declaration only.

User code is never executed. Output columns are the declared `fields`, then
the model's recorded columns (unless `strict` drops them), then columns only
named by the lineage declaration. Edges
come from `column_lineage={"revenue": {"sources": ["orders.amount"],
"transformation": "aggregated"}}` (short form `{"revenue": ["orders.amount"]}`
means `derived`); an undeclared column whose name exists in exactly one
upstream gets an inferred `direct` edge with confidence 0.5.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from interlace.engine.definition import ModelDefinition
from interlace.lineage.edges import (
    ColumnEdge,
    LineageColumn,
    LineageError,
    ModelColumnLineage,
    TransformationType,
)
from interlace.lineage.sql_relations import SchemaCatalog

__all__ = ["INFERRED_CONFIDENCE", "python_column_lineage"]

INFERRED_CONFIDENCE = 0.5
"""Confidence of an edge inferred from a matching column name."""

ColumnTypes = Mapping[str, str | None]


class _Declared(msgspec.Struct, frozen=True):
    sources: list[tuple[str, str]]
    kind: TransformationType
    expression: str | None


def python_column_lineage(
    definition: ModelDefinition,
    schemas: Mapping[str, ColumnTypes] | SchemaCatalog,
    *,
    own_schema: ColumnTypes | None = None,
) -> ModelColumnLineage:
    """Columns and edges of a Python (or stream) model.

    `schemas` holds the known columns of upstream models; `own_schema` the
    model's recorded columns, used when it declares no `fields`. Raises
    `LineageError` for a malformed `column_lineage` declaration.
    """
    catalog = schemas if isinstance(schemas, SchemaCatalog) else SchemaCatalog(schemas)
    declared = _declarations(definition)
    columns = _output_columns(definition, own_schema, declared)
    by_key = {name.lower(): entry for name, entry in declared.items()}
    edges: list[ColumnEdge] = []
    for column in columns:
        entry = by_key.get(column.name.lower())
        if entry is not None:
            edges.extend(_declared_edges(definition.name, column.name, entry))
        else:
            edges.extend(_inferred_edges(definition, column.name, catalog))
    return ModelColumnLineage(
        model=definition.name,
        columns=tuple(columns),
        edges=tuple(edges),
        complete=_is_complete(definition, own_schema),
    )


def _output_columns(
    definition: ModelDefinition,
    own_schema: ColumnTypes | None,
    declared: Mapping[str, _Declared],
) -> list[LineageColumn]:
    """Declared fields first; recorded columns too unless `strict` drops them."""
    known = {name.lower(): (name, kind) for name, kind in (own_schema or {}).items()}
    listed: dict[str, tuple[str, str | None]] = {
        name.lower(): (name, kind) for name, kind in (definition.fields or {}).items()
    }
    if not (definition.strict and definition.fields):
        for key, column in known.items():
            listed.setdefault(key, column)
    for name in declared:
        listed.setdefault(name.lower(), known.get(name.lower(), (name, None)))
    return [LineageColumn(name=name, data_type=kind) for name, kind in listed.values()]


def _is_complete(definition: ModelDefinition, own_schema: ColumnTypes | None) -> bool:
    """Whether every written column is known without running the model."""
    return bool(own_schema) or bool(definition.fields and definition.strict)


def _declared_edges(model: str, column: str, entry: _Declared) -> list[ColumnEdge]:
    return [
        ColumnEdge(
            source_model=source_model,
            source_column=source_column,
            output_model=model,
            output_column=column,
            transformation_type=entry.kind,
            transformation_expression=entry.expression,
        )
        for source_model, source_column in entry.sources
    ]


def _inferred_edges(
    definition: ModelDefinition, column: str, catalog: SchemaCatalog
) -> list[ColumnEdge]:
    matches = []
    for upstream in dict.fromkeys(definition.dependencies):
        for name in catalog.get(upstream) or {}:
            if name.lower() == column.lower():
                matches.append((upstream, name))
    if len(matches) != 1:
        return []
    upstream, name = matches[0]
    edge = ColumnEdge(
        source_model=upstream,
        source_column=name,
        output_model=definition.name,
        output_column=column,
        transformation_type=TransformationType.DIRECT,
        confidence=INFERRED_CONFIDENCE,
    )
    return [edge]


# -- the declaration -----------------------------------------------------------


def _declarations(definition: ModelDefinition) -> dict[str, _Declared]:
    declared = definition.column_lineage or {}
    return {
        column: _declaration(definition.name, column, entry)
        for column, entry in declared.items()
    }


def _declaration(model: str, column: str, entry: Any) -> _Declared:
    where = f"`{model}`: `column_lineage.{column}`"
    if isinstance(entry, str):
        entry = [entry]
    if isinstance(entry, list | tuple):
        entry = {"sources": entry}
    if not isinstance(entry, Mapping):
        raise LineageError(
            f"{where}: expected a list of `model.column` or a mapping with "
            f"`sources`, got {type(entry).__name__}",
            model=model,
        )
    items = entry.get("sources") or []
    # Listing a source twice would repeat an edge the state store keys uniquely.
    sources = list(
        dict.fromkeys(_source(where, i, item) for i, item in enumerate(items))
    )
    kind = _transformation(where, entry.get("transformation", "derived"))
    expression = entry.get("expression")
    return _Declared(sources, kind, None if expression is None else str(expression))


def _source(where: str, index: int, item: Any) -> tuple[str, str]:
    text = item if isinstance(item, str) else ""
    model, _, column = text.rpartition(".")
    if not model or not column:
        raise LineageError(
            f"{where}.sources[{index}]: expected `model.column`, got {item!r}"
        )
    # `schema.model.column` names the model by its last part: names are global.
    return model.rpartition(".")[2], column


def _transformation(where: str, value: Any) -> TransformationType:
    try:
        return TransformationType(value)
    except ValueError:
        expected = ", ".join(kind.value for kind in TransformationType)
        raise LineageError(
            f"{where}.transformation: expected one of {expected}, got {value!r}"
        ) from None
