"""Where a task finds its upstream data, and which relations already exist."""

from __future__ import annotations

from collections.abc import Mapping

from interlace.engine.definition import Materialise, ModelDefinition
from interlace.engine.project import Project
from interlace.warehouse.database import DuckDBWarehouse
from interlace.warehouse.inputs import UpstreamRef
from interlace.warehouse.scratch import scratch_relation

__all__ = ["catalog_snapshot", "upstream_refs"]

_IN_RUN_ONLY = {Materialise.EPHEMERAL, Materialise.NONE}


def upstream_refs(
    project: Project, definition: ModelDefinition, run_id: str
) -> tuple[UpstreamRef, ...]:
    """One reference per dependency, model or external table."""
    refs = []
    for name in definition.dependencies:
        optional = name in definition.optional_parameters
        upstream = project.models.get(name)
        if upstream is None:
            refs.append(UpstreamRef(name=name, source_sql=None, optional=optional))
        elif upstream.materialise in _IN_RUN_ONLY:
            refs.append(
                UpstreamRef(
                    name=name,
                    source_sql=scratch_relation(run_id, name),
                    optional=optional,
                )
            )
        else:
            source = f'"{upstream.schema}"."{upstream.name}"'
            refs.append(UpstreamRef(name=name, source_sql=source, optional=optional))
    return tuple(refs)


def catalog_snapshot(
    warehouses: Mapping[str, DuckDBWarehouse],
) -> set[tuple[str, str, str]]:
    """Every (connection, schema, name) table or view, read once per run."""
    relations: set[tuple[str, str, str]] = set()
    for connection, warehouse in warehouses.items():
        cursor = warehouse.cursor()
        try:
            rows = cursor.execute(
                "SELECT table_schema, table_name FROM information_schema.tables"
                " WHERE table_catalog = current_database()"
            ).fetchall()
        finally:
            cursor.close()
        relations.update((connection, schema, name) for schema, name in rows)
    return relations
