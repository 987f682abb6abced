"""Breaking changes a run would make to model tables (SPEC §10.6).

Each planned model's *new* columns (declared `fields`; for SQL models, the
columns lineage traces from the current query) are compared with its latest
recorded schema version. A removed column is an `error` when column lineage
shows it used downstream, else a `warning`; type and primary-key changes
are warnings, and so is a model the state store knows but the project no
longer defines. Nothing runs: lineage is traced from definitions only.

Who uses a column is answered twice and merged: by the stored lineage of
dependants whose code is unchanged (it may have been traced with the live
warehouse catalog) and by tracing the dependants' current code against the
recorded schema, which also covers lineage that was never stored.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping, Sequence

import msgspec

from interlace.engine.definition import Materialise, ModelDefinition, ModelType
from interlace.engine.project import Project
from interlace.lineage.compute import compute_project_lineage
from interlace.lineage.edges import ModelColumnLineage, TransformationType
from interlace.lineage.models import MAX_DEPTH
from interlace.lineage.queries import LineageIndex
from interlace.lineage.store import (
    current_lineage,
    known_schemas,
    latest_versions,
    lineage_hash,
    model_dialects,
    stored_lineage,
)
from interlace.lineage.view import LineageView
from interlace.state.records import SchemaVersionRecord
from interlace.state.store import StateStore

__all__ = [
    "BreakingChange",
    "BreakingChangeType",
    "Severity",
    "find_breaking_changes",
]

# Types lineage infers for these edges are exact (a copy keeps the source's
# recorded type, a CAST names its type); aggregates and arithmetic may differ
# from what DuckDB produces (`SUM(INTEGER)` is HUGEINT), so are not compared.
_TYPED_EDGES = {
    TransformationType.DIRECT,
    TransformationType.RENAMED,
    TransformationType.CAST,
}


class BreakingChangeType(enum.StrEnum):
    COLUMN_REMOVED = "column_removed"
    COLUMN_TYPE_CHANGED = "column_type_changed"
    MODEL_REMOVED = "model_removed"
    PRIMARY_KEY_CHANGED = "primary_key_changed"


class Severity(enum.StrEnum):
    ERROR = "error"
    """A column that dependants read will be gone."""
    WARNING = "warning"


class BreakingChange(msgspec.Struct, frozen=True, kw_only=True):
    model_name: str
    change_type: BreakingChangeType
    description: str
    affected_downstream: list[str]
    column_name: str | None
    severity: Severity


class _NewSchema(msgspec.Struct, frozen=True):
    """What a model's next write will look like, as far as it is known."""

    types: dict[str, str | None]
    """Lower-case column name to its type; None when the type is not known."""
    complete: bool
    """True when a recorded column missing from `types` will be gone."""


def find_breaking_changes(
    project: Project,
    models: Sequence[str],
    store: StateStore,
    *,
    recorded_models: Iterable[str] = (),
) -> list[BreakingChange]:
    """Breaking changes of `models` (in order), then of `recorded_models`
    (names the state store knows) that the project no longer defines."""
    latest = latest_versions(project, store)
    changes: list[BreakingChange] = []
    if any(name in latest for name in models):
        finder = _Finder(project, store, latest)
        for name in models:
            if name in latest:
                changes += finder.model_changes(name)
    removed = sorted(set(recorded_models) - set(project.models))
    if removed:
        index = stored_lineage(project, store).index
        changes += [_model_removed(project, name, index) for name in removed]
    return changes


class _Finder:
    """Compares planned models with their recorded schemas."""

    def __init__(
        self,
        project: Project,
        store: StateStore,
        latest: Mapping[str, SchemaVersionRecord],
    ) -> None:
        self._project = project
        self._latest = latest
        self._current = current_lineage(project, store)
        # Stored edges of a model whose code changed since describe what it
        # used to read; only those of unchanged models still hold.
        hashes = store.lineage_hashes()
        stored = stored_lineage(project, store).models
        self._stored = LineageView(
            {
                name: result
                for name, result in stored.items()
                if hashes.get(name) == lineage_hash(project, name)
            }
        ).index

    def model_changes(self, name: str) -> list[BreakingChange]:
        definition = self._project.models[name]
        recorded = self._latest[name]
        new = _new_schema(definition, self._current.models.get(name))
        users = _ColumnUsers(self._project, name, self._latest, self._stored)
        changes = []
        for column in recorded.columns:
            key = column.name.lower()
            if key not in new.types:
                if new.complete:
                    changes.append(_column_removed(name, column.name, users))
                continue
            new_type = new.types[key]
            if new_type is not None and new_type != column.type:
                changes.append(
                    _type_changed(name, column.name, column.type, new_type, users)
                )
        pk_change = _primary_key_change(definition, recorded)
        return changes + ([pk_change] if pk_change else [])


class _ColumnUsers:
    """Models downstream of one model's columns, traced on first question."""

    def __init__(
        self,
        project: Project,
        name: str,
        latest: Mapping[str, SchemaVersionRecord],
        stored: LineageIndex,
    ) -> None:
        self._project = project
        self._name = name
        self._latest = latest
        self._stored = stored
        self._baseline: LineageIndex | None = None

    def of(self, column: str) -> list[str]:
        """Models reading `column`, directly or through other models, in
        topological order."""
        steps = self._stored.downstream(self._name, column, MAX_DEPTH)
        steps += self._traced().downstream(self._name, column, MAX_DEPTH)
        reached = {step.output_model for step in steps}
        return [name for name in self._project.graph.order() if name in reached]

    def _traced(self) -> LineageIndex:
        """Dependants' current code traced against the model's recorded
        schema, i.e. as they read the table today."""
        if self._baseline is None:
            project = self._project
            descendants = project.graph.descendants(self._name)
            order = [name for name in project.graph.order() if name in descendants]
            # Without `fields`, the model's seed is its recorded schema.
            as_recorded = msgspec.structs.replace(
                project.models[self._name], fields=None, strict=False
            )
            models = {**project.models, self._name: as_recorded}
            known = known_schemas(project, self._latest)
            traced = compute_project_lineage(
                models, order, known, dialects=model_dialects(project)
            )
            self._baseline = LineageIndex(traced.edges)
        return self._baseline


def _new_schema(
    definition: ModelDefinition, lineage: ModelColumnLineage | None
) -> _NewSchema:
    declared = {name.lower(): kind for name, kind in (definition.fields or {}).items()}
    if definition.type is not ModelType.SQL:
        # Undeclared columns of a Python model are whatever it returns.
        complete = bool(definition.fields) and definition.strict
        return _NewSchema(dict(declared), complete)
    if lineage is None or lineage.error is not None:
        return _NewSchema(dict(declared), False)
    guessed = {
        edge.output_column.lower()
        for edge in lineage.edges
        if edge.transformation_type not in _TYPED_EDGES
    }
    types: dict[str, str | None] = {}
    for column in lineage.columns:
        key = column.name.lower()
        trusted = key in declared or key not in guessed
        types[key] = column.data_type if trusted else None
    return _NewSchema(types, lineage.complete)


def _column_removed(model: str, column: str, users: _ColumnUsers) -> BreakingChange:
    affected = users.of(column)
    description = f"Column '{column}' of model '{model}' will be removed"
    if affected:
        description += f"; used downstream by {_names(affected)}"
    return BreakingChange(
        model_name=model,
        change_type=BreakingChangeType.COLUMN_REMOVED,
        description=description,
        affected_downstream=affected,
        column_name=column,
        severity=Severity.ERROR if affected else Severity.WARNING,
    )


def _type_changed(
    model: str, column: str, old: str, new: str, users: _ColumnUsers
) -> BreakingChange:
    return BreakingChange(
        model_name=model,
        change_type=BreakingChangeType.COLUMN_TYPE_CHANGED,
        description=(
            f"Column '{column}' of model '{model}' changes type from {old} to {new}"
        ),
        affected_downstream=users.of(column),
        column_name=column,
        severity=Severity.WARNING,
    )


def _primary_key_change(
    definition: ModelDefinition, recorded: SchemaVersionRecord
) -> BreakingChange | None:
    if definition.materialise is not Materialise.TABLE:
        return None
    old = [column.name for column in recorded.columns if column.is_primary_key]
    new = list(definition.primary_key)
    if {name.lower() for name in old} == {name.lower() for name in new}:
        return None
    return BreakingChange(
        model_name=definition.name,
        change_type=BreakingChangeType.PRIMARY_KEY_CHANGED,
        description=(
            f"Primary key of model '{definition.name}' changes from "
            f"[{', '.join(old)}] to [{', '.join(new)}]"
        ),
        affected_downstream=[],
        column_name=None,
        severity=Severity.WARNING,
    )


def _model_removed(project: Project, name: str, stored: LineageIndex) -> BreakingChange:
    readers = {
        other
        for other, definition in project.models.items()
        if name in definition.dependencies
    }
    readers |= {
        edge.output_model for edge in stored.edges_into() if edge.source_model == name
    }
    affected = [other for other in project.graph.order() if other in readers]
    return BreakingChange(
        model_name=name,
        change_type=BreakingChangeType.MODEL_REMOVED,
        description=(
            f"Model '{name}' is recorded in the state store but no longer "
            "defined in the project"
        ),
        affected_downstream=affected,
        column_name=None,
        severity=Severity.WARNING,
    )


def _names(models: Sequence[str]) -> str:
    return ", ".join(f"'{name}'" for name in models)
