"""Predict what a run would do, without running anything (SPEC §10.6).

The plan replays the run's own decision procedure over recorded state: the
selection and forced set come from `plan_run`, each model is judged by
`decide` with the supervisor's target rules, in topological order. Where the
run would learn something only while executing (an upstream that completes
is then materialised), the plan assumes success: every model predicted to
run and to write its target counts as changed for its dependants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from interlace.engine.breaking import find_breaking_changes
from interlace.engine.changes import Decision, decide, target_exists
from interlace.engine.definition import Materialise, ModelDefinition
from interlace.runtime.messages import RunRequest
from interlace.runtime.run_plan import plan_run
from interlace.state.records import ModelStateRecord
from interlace.types import canonical_from_duckdb
from interlace.warehouse.boundary import duckdb_errors
from interlace.warehouse.identifiers import qualified

if TYPE_CHECKING:
    from interlace.engine.project import Project
    from interlace.state.store import StateStore
    from interlace.warehouse.database import DuckDBWarehouse

__all__ = [
    "Catalog",
    "LiveColumns",
    "build_plan",
    "read_live_columns",
    "schema_changes",
]

Catalog = Collection[tuple[str, str, str]]
"""(connection, schema, name) of every existing table or view."""
LiveColumns = Mapping[str, Sequence[tuple[str, str]]]
"""Per model, the (column, canonical type) pairs of its existing target."""

# A predicted upstream materialisation happens "during the run", which is
# later than any recorded success; the largest datetime expresses that.
_DURING_RUN = dt.datetime.max.replace(tzinfo=dt.UTC)
# Run-scoped outputs never mark a model materialised (ephemeral hashes are
# folded into dependants' instead; see the supervisor and the warehouse's
# `WriteResult.materialised`), so they do not trigger dependants. For tables
# and views the plan assumes the write changes data; a run learns otherwise
# only when a model returns None or no rows for an existing table.
_NOT_MARKED_MATERIALISED = {Materialise.EPHEMERAL, Materialise.NONE}


def build_plan(
    project: Project,
    *,
    selectors: Sequence[str] | None = None,
    force: bool = False,
    since: str | None = None,
    until: str | None = None,
    no_upstream: bool = False,
    model_states: Mapping[str, ModelStateRecord],
    catalog: Catalog,
    columns: LiveColumns | None = None,
    store: StateStore | None = None,
) -> dict[str, Any]:
    """The §10.6 plan body for a run with these request fields.

    Breaking changes are found only with `store` (schema history and stored
    lineage); the plan never writes to it. Raises `SelectionError` for
    unknown selectors, as `run` would.
    """
    selected, forced = _selection(project, selectors, force, since, until, no_upstream)
    layers = project.graph.layers()
    order = sorted(selected, key=lambda name: (layers[name], name))
    predictor = _Predictor(project, forced, model_states, catalog)
    decisions = {name: predictor.judge(name) for name in order}
    will_run = [name for name in order if decisions[name].run]
    to_run = [
        _run_entry(project, name, decisions[name], will_run, predictor, columns or {})
        for name in will_run
    ]
    skipped = [
        _skip_entry(name, decision)
        for name, decision in decisions.items()
        if not decision.run
    ]
    breaking = _breaking_changes(project, will_run, model_states, store)
    for entry in to_run:
        entry["breaking_changes"] = [
            item for item in breaking if item["model_name"] == entry["model_name"]
        ]
    return {
        "models_to_run": to_run,
        "models_skipped": skipped,
        "breaking_changes": breaking,
        "total_affected": len(to_run),
        "has_breaking_changes": bool(breaking),
        "summary": {
            "will_run": len(to_run),
            "skipped": len(skipped),
            "warnings": sum(1 for item in breaking if item["severity"] == "warning"),
            "errors": sum(1 for item in breaking if item["severity"] == "error"),
        },
    }


def _breaking_changes(
    project: Project,
    will_run: list[str],
    model_states: Mapping[str, ModelStateRecord],
    store: StateStore | None,
) -> list[dict[str, Any]]:
    """Only models that run can change their table; see `engine.breaking`."""
    if store is None:
        return []
    found = find_breaking_changes(
        project, will_run, store, recorded_models=model_states
    )
    return [msgspec.to_builtins(change) for change in found]


def _selection(
    project: Project,
    selectors: Sequence[str] | None,
    force: bool,
    since: str | None,
    until: str | None,
    no_upstream: bool,
) -> tuple[list[str], frozenset[str]]:
    # `plan_run` is what `run` uses to resolve the selection and the forced
    # set; calling it (its records are discarded) keeps both in lock-step.
    request = RunRequest(
        selectors=tuple(selectors) if selectors is not None else None,
        force=force,
        since=since,
        until=until,
        no_upstream=no_upstream,
    )
    run_plan = plan_run(project, request, owner="plan")
    return run_plan.models, run_plan.forced


class _Predictor:
    """Applies `decide` model by model, remembering what will materialise."""

    def __init__(
        self,
        project: Project,
        forced: frozenset[str],
        model_states: Mapping[str, ModelStateRecord],
        catalog: Catalog,
    ) -> None:
        self._project = project
        self._forced = forced
        self._states = model_states
        self._catalog = set(catalog)
        self.materialising: set[str] = set()

    def judge(self, name: str) -> Decision:
        """Decide `name`; its graph upstreams must have been judged first."""
        definition = self._project.models[name]
        decision = decide(
            forced=name in self._forced,
            hashes=self._project.hashes[name],
            state=self._states.get(name),
            target_exists=target_exists(
                definition, self._project.config.default_connection, self._catalog
            ),
            upstream_states=[
                (up, self._upstream_state(up))
                for up in self._project.graph.upstream(name)
            ],
        )
        if decision.run and definition.materialise not in _NOT_MARKED_MATERIALISED:
            self.materialising.add(name)
        return decision

    def _upstream_state(self, name: str) -> ModelStateRecord | None:
        if name in self.materialising:
            return ModelStateRecord(model_name=name, last_materialised_at=_DURING_RUN)
        return self._states.get(name)

    def file_changed(self, name: str) -> bool:
        """True when the code differs from the last successful run's."""
        state = self._states.get(name)
        if state is None or state.last_success_at is None:
            return False
        return state.code_hash != self._project.hashes[name][0]


def _run_entry(
    project: Project,
    name: str,
    decision: Decision,
    will_run: list[str],
    predictor: _Predictor,
    columns: LiveColumns,
) -> dict[str, Any]:
    running_upstream = [
        up for up in project.graph.upstream(name) if up in predictor.materialising
    ]
    changed = list(decision.changed_upstream)
    changed += [up for up in running_upstream if up not in changed]
    definition = project.models[name]
    return {
        "model_name": name,
        "will_run": True,
        "run_reason": decision.reason.value if decision.reason else None,
        "downstream_affected": _downstream_affected(project, name, will_run),
        "schema_changes": schema_changes(definition, columns.get(name)),
        "breaking_changes": [],
        "file_changed": predictor.file_changed(name),
        "upstream_changed": changed,
    }


def _skip_entry(name: str, decision: Decision) -> dict[str, Any]:
    return {
        "model_name": name,
        "will_run": False,
        "run_reason": None,
        "skip_reason": decision.skip_reason.value if decision.skip_reason else None,
    }


def _downstream_affected(project: Project, name: str, will_run: list[str]) -> list[str]:
    """Models that will run in this plan and (transitively) depend on `name`."""
    descendants = project.graph.descendants(name)
    return [other for other in will_run if other in descendants]


def schema_changes(
    definition: ModelDefinition, live: Sequence[tuple[str, str]] | None
) -> list[dict[str, Any]]:
    """Declared `fields` against the existing target's columns.

    Nothing is reported without `fields` or without a target. A live column
    that is not declared counts as `removed` only for `strict` models, the
    only ones whose writes drop undeclared columns (§4.9).
    """
    if definition.fields is None or live is None:
        return []
    current = dict(live)
    changes = []
    for column, declared in definition.fields.items():
        old = current.get(column)
        if old is None:
            changes.append(_change(column, "added", None, declared))
        elif old != declared:
            changes.append(_change(column, "type_changed", old, declared))
    if definition.strict:
        changes += [
            _change(column, "removed", old, None)
            for column, old in live
            if column not in definition.fields
        ]
    return changes


def _change(
    column: str, change_type: str, old: str | None, new: str | None
) -> dict[str, Any]:
    return {
        "column_name": column,
        "change_type": change_type,
        "old_type": old,
        "new_type": new,
    }


def read_live_columns(
    project: Project,
    warehouses: Mapping[str, DuckDBWarehouse],
    catalog: Catalog,
    *,
    store: StateStore | None = None,
) -> dict[str, list[tuple[str, str]]]:
    """The known columns of every model that declares `fields`.

    They come from the latest recorded schema version in `store` (SPEC
    §10.6); a model without history falls back to DESCRIBE of its target.
    """
    existing = set(catalog)
    found: dict[str, list[tuple[str, str]]] = {}
    for name, definition in project.models.items():
        if definition.fields is None:
            continue
        latest = None if store is None else store.latest_schema_version(name)
        if latest is not None:
            found[name] = [(column.name, column.type) for column in latest.columns]
            continue
        connection = definition.connection or project.config.default_connection
        key = (connection, definition.schema, name)
        if key not in existing:
            continue
        cursor = warehouses[connection].cursor()
        try:
            with duckdb_errors(model=name, action="describing the target"):
                rows = cursor.execute(
                    f"DESCRIBE {qualified(definition.schema, name)}"
                ).fetchall()
        finally:
            cursor.close()
        found[name] = [(row[0], canonical_from_duckdb(row[1])) for row in rows]
    return found
