"""Schema history for the HTTP layer: reads through the bridge, wire shapes.

The rules (synthetic version 1 from `fields`, current version 0, diffs)
live in `interlace.engine.schema_history`, shared with the CLI; this module
runs them on a worker thread against the runtime's state store and renders
the §10.11 bodies. Like the run service, each read first waits for queued
state writes, so a version recorded by a run that just finished is seen.
"""

from __future__ import annotations

import logging

import msgspec

from interlace.engine.definition import ModelDefinition
from interlace.engine.schema_history import (
    SchemaVersionView,
    current_schema,
    diff_document,
    diff_schemas,
    schema_at,
    schema_history,
    version_document,
)
from interlace.runtime.runtime import Runtime
from interlace.service import bridge
from interlace.service.problems import ApiError, Problem
from interlace.state.records import SchemaColumn, SchemaVersionRecord

__all__ = [
    "CurrentSchema",
    "SchemaDiffBody",
    "SchemaHistoryService",
    "SchemaVersionBody",
    "version_not_found",
]

logger = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 5.0


class SchemaVersionBody(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    detected_at: str | None
    """None for the synthetic version of a never-materialised model."""
    columns: list[SchemaColumn]


class CurrentSchema(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    """0 when the model has never been materialised."""
    columns: list[SchemaColumn]


class ColumnChangeBody(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    change: str
    """`added`, `removed`, `modified` or `unchanged`."""
    old_type: str | None
    new_type: str | None


class TypedColumn(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str


class ModifiedColumn(msgspec.Struct, frozen=True, kw_only=True):
    column: str
    old_type: str
    new_type: str


class SchemaDiffBody(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    from_version: int
    to_version: int
    diff: list[ColumnChangeBody]
    added: list[TypedColumn]
    removed: list[TypedColumn]
    modified: list[ModifiedColumn]


class SchemaHistoryService:
    """Schema history reads for one runtime; every call crosses the bridge."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    async def history(
        self, definition: ModelDefinition, limit: int, offset: int
    ) -> tuple[list[SchemaVersionBody], int]:
        """A page of versions, newest first, and their total."""
        return await bridge.call(self._history, definition, limit, offset)

    async def current(self, definition: ModelDefinition) -> CurrentSchema:
        view = await bridge.call(self._current, definition)
        return CurrentSchema(version=view.version, columns=view.columns)

    async def diff(
        self, definition: ModelDefinition, old: int | None, new: int
    ) -> SchemaDiffBody:
        """Version `old` (default: the one before `new`) against `new`
        (0: current). Raises 404 `RESOURCE_NOT_FOUND` for unknown versions."""
        return await bridge.call(self._diff, definition, old, new)

    async def latest(self, name: str) -> SchemaVersionRecord | None:
        """The newest recorded version of a model (for its detail view)."""
        return await bridge.call(self._latest, name)

    # --- blocking helpers (run on worker threads) --------------------------

    def _flush(self) -> None:
        try:
            self._runtime.flush(FLUSH_TIMEOUT_S)
        except TimeoutError:
            # Answering from slightly older state beats failing the read.
            logger.warning("state writes are slow; reading without the newest")

    def _history(
        self, definition: ModelDefinition, limit: int, offset: int
    ) -> tuple[list[SchemaVersionBody], int]:
        self._flush()
        store = self._runtime.store
        views, total = schema_history(store, definition, limit=limit, offset=offset)
        return [_version_body(view) for view in views], total

    def _current(self, definition: ModelDefinition) -> SchemaVersionView:
        self._flush()
        return current_schema(self._runtime.store, definition)

    def _diff(
        self, definition: ModelDefinition, old: int | None, new: int
    ) -> SchemaDiffBody:
        self._flush()
        store = self._runtime.store
        newer = _found(schema_at(store, definition, new), definition.name, new)
        number = max(newer.version - 1, 1) if old is None else old
        older = _found(schema_at(store, definition, number), definition.name, number)
        document = diff_document(definition.name, diff_schemas(older, newer))
        return msgspec.convert(document, SchemaDiffBody)

    def _latest(self, name: str) -> SchemaVersionRecord | None:
        self._flush()
        return self._runtime.store.latest_schema_version(name)


def version_not_found(model: str, version: int) -> ApiError:
    """404 `RESOURCE_NOT_FOUND` for a schema version the model does not have."""
    return ApiError(
        Problem(
            status=404,
            code="RESOURCE_NOT_FOUND",
            detail=f"Schema version {version} of model '{model}' not found",
            extensions={"model_id": model, "version": version},
        )
    )


def _found(
    view: SchemaVersionView | None, model: str, version: int
) -> SchemaVersionView:
    if view is None:
        raise version_not_found(model, version)
    return view


def _version_body(view: SchemaVersionView) -> SchemaVersionBody:
    return msgspec.convert(version_document(view), SchemaVersionBody)
