"""Column lineage as the API documents it (SPEC §10.5, §10.11).

The service and `interlace lineage show --format json` answer with the same
shapes, so both build them here from a `LineageView`; the service converts
the documents into its typed response structs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from interlace.engine.definition import Materialise, ModelDefinition
from interlace.lineage.models import ModelLineage
from interlace.lineage.queries import ColumnLineage, ColumnLineageStep, ModelColumn
from interlace.lineage.view import LineageView
from interlace.state.records import SchemaColumn, SchemaVersionRecord

__all__ = [
    "column_lineage_document",
    "columns_document",
    "lineage_document",
    "model_lineage_document",
]


def lineage_document(
    view: LineageView,
    models: Sequence[str],
    latest: Mapping[str, SchemaVersionRecord] | None = None,
) -> dict[str, Any]:
    """`GET /lineage`: each model's columns with their source counts, and
    the edges into those models. `latest` holds recorded schema versions,
    whose types win (see `columns_document`)."""
    documents: dict[str, Any] = {}
    for name in models:
        recorded = _recorded_types((latest or {}).get(name))
        documents[name] = {
            "columns": [
                {
                    "name": column.name,
                    "data_type": recorded.get(column.name.lower(), column.data_type),
                    "sources_count": len(column.sources),
                }
                for column in view.model_columns(name)
            ]
        }
    return {"models": documents, "edges": msgspec.to_builtins(view.edges(models))}


def columns_document(
    view: LineageView,
    definition: ModelDefinition,
    latest: SchemaVersionRecord | None,
) -> dict[str, Any]:
    """`GET /models/{name}/columns`: columns with their direct sources.

    Columns are those lineage traced from the current definition; type and
    nullability come from the latest recorded version when it has the
    column, because lineage infers some types only approximately (DuckDB's
    `SUM` of integers is a HUGEINT, for one). When lineage failed, the columns
    are the recorded (or declared) ones without sources, and
    `lineage_error` says why.
    """
    name = definition.name
    recorded = {column.name.lower(): column for column in _recorded(definition, latest)}
    traced = view.model_columns(name)
    error = view.error(name)
    if not traced:
        traced = [
            ModelColumn(name=column.name, data_type=column.type, sources=())
            for column in recorded.values()
        ]
    body: dict[str, Any] = {
        "model": name,
        "columns": [
            _column(column, recorded.get(column.name.lower()), definition)
            for column in traced
        ],
    }
    if error is not None:
        body["lineage_error"] = error
    return body


def column_lineage_document(lineage: ColumnLineage) -> dict[str, Any]:
    """`GET /models/{name}/columns/{column}/lineage`."""
    return {
        "model": lineage.model,
        "column": lineage.column,
        "data_type": lineage.data_type,
        "sources": [_step(step) for step in lineage.sources],
        "dependents": [_step(step) for step in lineage.dependents],
    }


def model_lineage_document(
    lineage: ModelLineage, models: Mapping[str, ModelDefinition]
) -> dict[str, Any]:
    """`GET /models/{name}/lineage`: models around one model.

    A node's `strategy` is the one that writes the model (`replace` when a
    table declares none, null for views), as `GET /graph` shows it.
    """
    document: dict[str, Any] = msgspec.to_builtins(lineage)
    for node in document["nodes"]:
        definition = models[node["name"]]
        table = definition.materialise is Materialise.TABLE
        node["strategy"] = definition.effective_strategy.value if table else None
    return document


def _recorded(
    definition: ModelDefinition, latest: SchemaVersionRecord | None
) -> list[SchemaColumn]:
    if latest is not None:
        return latest.columns
    keys = set(definition.primary_key)
    return [
        SchemaColumn(name=name, type=kind, is_primary_key=name in keys)
        for name, kind in (definition.fields or {}).items()
    ]


def _recorded_types(latest: SchemaVersionRecord | None) -> dict[str, str]:
    if latest is None:
        return {}
    return {column.name.lower(): column.type for column in latest.columns}


def _column(
    column: ModelColumn, recorded: SchemaColumn | None, definition: ModelDefinition
) -> dict[str, Any]:
    if recorded is None:
        nullable = True
        primary = column.name.lower() in {k.lower() for k in definition.primary_key}
    else:
        nullable, primary = recorded.nullable, recorded.is_primary_key
    return {
        "name": column.name,
        "data_type": recorded.type if recorded else column.data_type,
        "nullable": nullable,
        "is_primary_key": primary,
        "description": None,
        "sources": [
            {
                "model": source.model,
                "column": source.column,
                "transformation": source.transformation.value,
            }
            for source in column.sources
        ],
    }


def _step(step: ColumnLineageStep) -> dict[str, Any]:
    return {
        "source_model": step.source_model,
        "source_column": step.source_column,
        "output_model": step.output_model,
        "output_column": step.output_column,
        "transformation": step.transformation.value,
        "depth": step.depth,
    }
