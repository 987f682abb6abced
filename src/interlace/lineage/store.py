"""Column lineage kept in the state store: refreshed, kept current, read back.

Lineage is computed from model definitions and known schemas only; user code
never runs. Known schemas are, from weakest to strongest: the live
warehouse catalog (external tables too), the latest schema history version
of each model, and declared `fields`. When only some models are recomputed,
the others contribute the output columns stored for their definition.

A model's stored lineage is stale when its definition hash differs from the
one it was computed from, or when its table got a newer schema version
since; a stale model makes its dependants stale too, because their input
schemas may have changed. Writes go through a `Writer`: `store.apply`
when nothing else writes (CLI), `Runtime.write` in a running service.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Collection, Mapping, Sequence

import msgspec

from interlace.engine.discovery import sql_dialect
from interlace.engine.project import Project
from interlace.errors import SelectionError
from interlace.lineage.compute import ProjectLineage, compute_project_lineage
from interlace.lineage.edges import ModelColumnLineage
from interlace.lineage.view import (
    LineageView,
    column_records,
    edge_records,
    from_records,
)
from interlace.lineage.warehouse_columns import CatalogColumns
from interlace.state.records import (
    LineageEdgeRecord,
    LineageModelRecord,
    SchemaVersionRecord,
)
from interlace.state.store import StateStore
from interlace.state.writes import SaveColumnLineage, Write

__all__ = [
    "LINEAGE_FORMAT",
    "RefreshError",
    "RefreshReport",
    "Writer",
    "compute_lineage",
    "current_lineage",
    "ensure_current",
    "known_schemas",
    "latest_versions",
    "lineage_hash",
    "model_dialects",
    "refresh",
    "stale_models",
    "stored_lineage",
]

logger = logging.getLogger(__name__)

LINEAGE_FORMAT = "1"
"""Part of every lineage hash: bump it when the computation changes, so that
lineage stored by an older Interlace is recomputed."""

Writer = Callable[[Sequence[Write]], object]
Schemas = dict[str, dict[str, str | None]]


class RefreshError(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    error: str


class RefreshReport(msgspec.Struct, frozen=True, kw_only=True):
    """What a refresh recomputed; a model with an error still counts as
    refreshed (its error is stored and served)."""

    success: int
    errors: int
    error_details: list[RefreshError]
    models: list[str]
    """The recomputed models in topological order."""

    @property
    def ok(self) -> bool:
        return self.errors == 0


def lineage_hash(project: Project, name: str) -> str:
    """The hash stored lineage of `name` must match to be current."""
    code, config = project.hashes[name]
    text = f"{LINEAGE_FORMAT}:{code}:{config}"
    return hashlib.sha256(text.encode()).hexdigest()


def refresh(
    project: Project,
    store: StateStore,
    models: Collection[str] | None = None,
    *,
    write: Writer | None = None,
    catalog_columns: CatalogColumns | None = None,
) -> RefreshReport:
    """Recompute and persist the lineage of `models` (None: every model).

    Raises `SelectionError` when a name is not a model of the project.
    """
    order = _ordered(project, models)
    return _recompute(project, store, order, write, catalog_columns)


def ensure_current(
    project: Project,
    store: StateStore,
    *,
    write: Writer | None = None,
    catalog_columns: CatalogColumns | None = None,
) -> RefreshReport:
    """Recompute and persist the lineage of stale models only."""
    order = stale_models(project, store)
    if order:
        logger.debug("recomputing column lineage of %d model(s)", len(order))
    return _recompute(project, store, order, write, catalog_columns)


def stale_models(project: Project, store: StateStore) -> list[str]:
    """Models whose stored lineage is missing or stale, and their dependants,
    in topological order."""
    stored = store.lineage_models(project.models)
    graph = project.graph
    stale: list[str] = []
    marked: set[str] = set()
    for name in graph.order():
        if any(up in marked for up in graph.upstream(name)) or _is_stale(
            project, name, stored.get(name), store
        ):
            marked.add(name)
            stale.append(name)
    return stale


def stored_lineage(project: Project, store: StateStore) -> LineageView:
    """The stored lineage of the project's models, as it was last computed."""
    records = store.lineage_models(project.models)
    edges: dict[str, list[LineageEdgeRecord]] = {}
    for edge in store.column_lineage(records):
        edges.setdefault(edge.output_model, []).append(edge)
    return LineageView(
        {
            name: from_records(records[name], edges.get(name, []))
            for name in project.graph.order()
            if name in records
        }
    )


def current_lineage(
    project: Project,
    store: StateStore | None,
    *,
    catalog_columns: CatalogColumns | None = None,
) -> LineageView:
    """Lineage of the current definitions, computed in memory where the
    stored one is stale; nothing is written. Without a store every model
    is computed."""
    if store is None:
        order = project.graph.order()
        computed = compute_lineage(
            project, None, order, catalog_columns=catalog_columns
        )
        return LineageView(computed.models)
    stored = stored_lineage(project, store)
    stale = stale_models(project, store)
    computed = compute_lineage(project, store, stale, catalog_columns=catalog_columns)
    models: dict[str, ModelColumnLineage] = {}
    for name in project.graph.order():
        found = computed.models.get(name) or stored.models.get(name)
        if found is not None:
            models[name] = found
    return LineageView(models)


def compute_lineage(
    project: Project,
    store: StateStore | None,
    order: Sequence[str],
    *,
    catalog_columns: CatalogColumns | None = None,
) -> ProjectLineage:
    """Lineage of the models in `order` (topological) without persisting it.

    Models outside `order` whose stored lineage is current contribute their
    stored output columns as known schema.
    """
    latest = {} if store is None else latest_versions(project, store)
    known = known_schemas(project, latest, catalog_columns)
    if store is not None:
        _add_stored_columns(project, store, set(order), known)
    return compute_project_lineage(
        project.models, order, known, dialects=model_dialects(project)
    )


def latest_versions(
    project: Project, store: StateStore
) -> dict[str, SchemaVersionRecord]:
    """The latest recorded schema version of every model that has one."""
    found = {}
    for name in project.models:
        version = store.latest_schema_version(name)
        if version is not None:
            found[name] = version
    return found


def model_dialects(project: Project) -> dict[str, str]:
    """The sqlglot dialect of every model's connection."""
    return {
        name: sql_dialect(definition, project.config)
        for name, definition in project.models.items()
    }


def known_schemas(
    project: Project,
    latest: Mapping[str, SchemaVersionRecord],
    catalog_columns: CatalogColumns | None = None,
) -> Schemas:
    """Columns by table name: the live catalog, overridden by schema history.

    A warehouse table named like a model but in another schema is not that
    model, so it is left out.
    """
    targets = {_target(project, name): name for name in project.models}
    known: Schemas = {}
    for key in sorted(catalog_columns or {}):
        name = targets.get(key)
        if name is None and key[2] in project.models:
            continue
        known.setdefault(name or key[2], dict((catalog_columns or {})[key]))
    for name, version in latest.items():
        known[name] = {column.name: column.type for column in version.columns}
    return known


def _target(project: Project, name: str) -> tuple[str, str, str]:
    definition = project.models[name]
    connection = definition.connection or project.config.default_connection
    return connection, definition.schema, name


def _add_stored_columns(
    project: Project, store: StateStore, computing: set[str], known: Schemas
) -> None:
    """Stored output columns of current models stand for their schema; a
    type lineage could not infer falls back to the recorded one."""
    for name, record in store.lineage_models(project.models).items():
        if name in computing or record.error is not None or not record.columns:
            continue
        if record.definition_hash != lineage_hash(project, name):
            continue
        recorded = known.get(name, {})
        known[name] = {
            column.name: column.data_type or recorded.get(column.name)
            for column in record.columns
        }


def _is_stale(
    project: Project, name: str, record: LineageModelRecord | None, store: StateStore
) -> bool:
    if record is None or record.definition_hash != lineage_hash(project, name):
        return True
    version = store.latest_schema_version(name)
    return version is not None and version.detected_at > record.computed_at


def _ordered(project: Project, models: Collection[str] | None) -> list[str]:
    if models is None:
        return project.graph.order()
    unknown = [name for name in dict.fromkeys(models) if name not in project.models]
    if unknown:
        raise SelectionError(unknown, sorted(project.models))
    wanted = set(models)
    return [name for name in project.graph.order() if name in wanted]


def _recompute(
    project: Project,
    store: StateStore,
    order: Sequence[str],
    write: Writer | None,
    catalog_columns: CatalogColumns | None,
) -> RefreshReport:
    if not order:
        return RefreshReport(success=0, errors=0, error_details=[], models=[])
    computed = compute_lineage(project, store, order, catalog_columns=catalog_columns)
    _persist(project, computed, write or store.apply)
    return _report(order, computed)


def _persist(project: Project, computed: ProjectLineage, write: Writer) -> None:
    writes: list[Write] = [
        SaveColumnLineage(
            model_name=name,
            definition_hash=lineage_hash(project, name),
            columns=column_records(result),
            edges=edge_records(result),
            complete=result.complete,
            error=result.error,
        )
        for name, result in computed.models.items()
    ]
    if writes:
        write(writes)


def _report(order: Sequence[str], computed: ProjectLineage) -> RefreshReport:
    details = [
        RefreshError(model=name, error=message)
        for name, message in computed.errors.items()
    ]
    return RefreshReport(
        success=len(order) - len(details),
        errors=len(details),
        error_details=details,
        models=list(order),
    )
