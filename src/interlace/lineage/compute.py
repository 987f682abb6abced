"""Column lineage of a whole project, computed model by model.

Models are visited in topological order and each model's output columns
become known schema for its dependants, so `SELECT *` three models down
still expands. Seeds come from schema history or the live catalog
(`known_schemas`) and from declared `fields`. A model whose lineage cannot
be computed records its error and never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import msgspec
from sqlglot.errors import SqlglotError

from interlace.engine.definition import ModelDefinition, ModelType
from interlace.lineage.declared_fields import apply_declared_fields
from interlace.lineage.edges import (
    ColumnEdge,
    LineageColumn,
    LineageError,
    ModelColumnLineage,
)
from interlace.lineage.python_columns import python_column_lineage
from interlace.lineage.sql_columns import sql_column_lineage
from interlace.lineage.sql_relations import SchemaCatalog

__all__ = [
    "ProjectLineage",
    "compute_model_lineage",
    "compute_project_lineage",
    "seed_schema",
]

logger = logging.getLogger(__name__)

ColumnTypes = Mapping[str, str | None]


class ProjectLineage(msgspec.Struct, frozen=True, kw_only=True):
    """Column lineage of every computed model."""

    models: dict[str, ModelColumnLineage]
    """By model name, in the order they were computed."""
    errors: dict[str, str]
    """Model name to the reason its lineage could not be computed."""

    @property
    def edges(self) -> list[ColumnEdge]:
        """Every edge, grouped by output model."""
        return [edge for result in self.models.values() for edge in result.edges]

    def columns(self) -> dict[str, tuple[LineageColumn, ...]]:
        """Output columns by model."""
        return {name: result.columns for name, result in self.models.items()}


def compute_project_lineage(
    models: Mapping[str, ModelDefinition],
    order: Sequence[str],
    known_schemas: Mapping[str, ColumnTypes],
    *,
    dialects: Mapping[str, str] | None = None,
) -> ProjectLineage:
    """Lineage of the models named in `order` (topological, upstream first).

    `known_schemas` maps model or table names to `{column: canonical type}`
    from schema history or the warehouse catalog; models outside `order`
    contribute their seed schema only. `dialects` gives the sqlglot dialect
    of models not on DuckDB.
    """
    catalog = _seeded_catalog(models, known_schemas)
    results: dict[str, ModelColumnLineage] = {}
    for name in order:
        found = models.get(name)
        if found is None:
            error = f"unknown model `{name}`"
            results[name] = ModelColumnLineage(model=name, error=error)
            continue
        dialect = (dialects or {}).get(name, "duckdb")
        own = known_schemas.get(name)
        result = compute_model_lineage(found, catalog, own_schema=own, dialect=dialect)
        results[name] = result
        _publish(catalog, result, seed_schema(found, own))
    errors = {name: r.error for name, r in results.items() if r.error is not None}
    return ProjectLineage(models=results, errors=errors)


def compute_model_lineage(
    definition: ModelDefinition,
    schemas: Mapping[str, ColumnTypes] | SchemaCatalog,
    *,
    own_schema: ColumnTypes | None = None,
    dialect: str = "duckdb",
) -> ModelColumnLineage:
    """Lineage of one model given its upstreams' schemas; never raises.

    For refreshing a subset: pass the upstream columns (from a previous
    `ProjectLineage` or schema history) as `schemas`. On failure the result
    has `error` set, no edges, and columns from `fields` or `own_schema`.
    """
    try:
        return _compute(definition, schemas, own_schema, dialect)
    except (LineageError, SqlglotError) as exc:
        logger.info("column lineage of %s not computed: %s", definition.name, exc)
        return _failed(definition, own_schema, str(exc))
    except Exception as exc:
        # A defect in tracing must not hide the lineage of other models.
        logger.exception("column lineage of %s failed unexpectedly", definition.name)
        return _failed(definition, own_schema, f"internal error: {exc!r}")


def seed_schema(
    definition: ModelDefinition, known: ColumnTypes | None
) -> dict[str, str | None]:
    """Columns known before tracing: recorded ones, with declared types."""
    seed: dict[str, str | None] = dict(known or {})
    if definition.fields:
        if definition.strict:
            seed = {}
        seed.update(definition.fields)
    return seed


def _seeded_catalog(
    models: Mapping[str, ModelDefinition], known_schemas: Mapping[str, ColumnTypes]
) -> SchemaCatalog:
    catalog = SchemaCatalog(known_schemas)
    for name, definition in models.items():
        seed = seed_schema(definition, known_schemas.get(name))
        if seed:
            catalog.set(name, seed)
    return catalog


def _compute(
    definition: ModelDefinition,
    schemas: Mapping[str, ColumnTypes] | SchemaCatalog,
    own_schema: ColumnTypes | None,
    dialect: str,
) -> ModelColumnLineage:
    if definition.type is ModelType.SQL:
        if not definition.sql:
            raise LineageError(f"`{definition.name}`: the SQL model has no query")
        result = sql_column_lineage(
            definition.name, definition.sql, schemas, dialect=dialect
        )
        return apply_declared_fields(result, definition)
    return python_column_lineage(definition, schemas, own_schema=own_schema)


def _failed(
    definition: ModelDefinition, own_schema: ColumnTypes | None, message: str
) -> ModelColumnLineage:
    seed = seed_schema(definition, own_schema)
    columns = tuple(
        LineageColumn(name=name, data_type=kind) for name, kind in seed.items()
    )
    return ModelColumnLineage(model=definition.name, columns=columns, error=message)


def _publish(
    catalog: SchemaCatalog, result: ModelColumnLineage, seed: ColumnTypes
) -> None:
    """Make `result`'s columns the known schema of its model for dependants.

    Traced columns describe the current definition, so they win over the
    seed; the seed fills types tracing could not infer, and stands in when
    tracing failed or could not list every column.
    """
    traced = result.schema()
    if result.error is not None or (not result.complete and seed):
        catalog.set(result.model, seed)
        return
    typed = {name: kind or seed.get(name) for name, kind in traced.items()}
    catalog.set(result.model, typed, complete=result.complete)
