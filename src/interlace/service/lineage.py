"""Column lineage for the HTTP layer: kept current, read through the bridge.

Every read first brings stored lineage up to date (`ensure_current`: only
models whose definition or recorded schema changed are recomputed), writing
through the runtime's state writer, then waits for those writes and answers
from the store, so the CLI, the API and `plan` see the same lineage. The
documents come from `interlace.lineage.documents`, shared with the CLI.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import msgspec

from interlace.engine.definition import ModelDefinition
from interlace.errors import InterlaceError, SelectionError
from interlace.lineage.documents import (
    column_lineage_document,
    columns_document,
    lineage_document,
    model_lineage_document,
)
from interlace.lineage.models import MAX_DEPTH, model_lineage
from interlace.lineage.queries import Direction
from interlace.lineage.store import (
    RefreshReport,
    ensure_current,
    latest_versions,
    refresh,
    stored_lineage,
)
from interlace.lineage.view import LineageView
from interlace.lineage.warehouse_columns import CatalogColumns, read_catalog_columns
from interlace.runtime.runtime import Runtime
from interlace.service import bridge
from interlace.service.dto.lineage import (
    ColumnLineageBody,
    ColumnsBody,
    LineageBody,
    ModelLineageBody,
    RefreshBody,
    RefreshErrorBody,
)
from interlace.service.problems import ApiError, Problem, validation_error
from interlace.state.records import SchemaVersionRecord

__all__ = [
    "DEPTH_MESSAGE",
    "LineageService",
    "column_not_found",
    "parse_depth",
    "parse_direction",
]

logger = logging.getLogger(__name__)

FLUSH_TIMEOUT_S = 5.0
LINEAGE_TIMEOUT_S = 60.0
"""Recomputing a large project's lineage takes seconds, not milliseconds."""
DEPTH_MESSAGE = f"'depth' must be a valid integer between 0 and {MAX_DEPTH}"
_DIRECTIONS: tuple[Direction, ...] = ("upstream", "downstream", "both")


class LineageService:
    """Lineage reads and refreshes for one runtime."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        # Two requests finding the same stale models would compute and write
        # them twice; one at a time, the second finds them current.
        self._lock = threading.Lock()

    async def lineage(self, models: Sequence[str] | None) -> LineageBody:
        """Columns and edges of `models` (None: every model); unknown names
        raise `SelectionError`."""
        names = self._names(models)
        view, latest = await bridge.call(
            self._view_and_history, timeout=LINEAGE_TIMEOUT_S
        )
        document = lineage_document(view, names, latest)
        return msgspec.convert(document, LineageBody)

    async def refresh(self, models: Sequence[str] | None) -> RefreshBody:
        report = await bridge.call(self._refresh, models, timeout=LINEAGE_TIMEOUT_S)
        return RefreshBody(
            ok=report.ok,
            success=report.success,
            errors=report.errors,
            error_details=[
                RefreshErrorBody(model=detail.model, error=detail.error)
                for detail in report.error_details
            ],
        )

    async def columns(self, definition: ModelDefinition) -> ColumnsBody:
        view, latest = await bridge.call(
            self._view_and_schema, definition.name, timeout=LINEAGE_TIMEOUT_S
        )
        return msgspec.convert(columns_document(view, definition, latest), ColumnsBody)

    async def column_lineage(
        self,
        definition: ModelDefinition,
        column: str,
        direction: Direction,
        depth: int,
    ) -> ColumnLineageBody:
        """Raises 404 `RESOURCE_NOT_FOUND` when the model has no such column."""
        view = await bridge.call(self._view, timeout=LINEAGE_TIMEOUT_S)
        found = view.index.column_lineage(
            definition.name, column, direction=direction, depth=depth
        )
        if found is None:
            raise column_not_found(column)
        return msgspec.convert(column_lineage_document(found), ColumnLineageBody)

    def model_lineage(
        self, name: str, direction: Direction, depth: int
    ) -> ModelLineageBody:
        """Models around `name`; the graph is in memory, so no bridge."""
        project = self._runtime.project
        lineage = model_lineage(project.graph, name, direction=direction, depth=depth)
        document = model_lineage_document(lineage, project.models)
        return msgspec.convert(document, ModelLineageBody)

    def _names(self, models: Sequence[str] | None) -> list[str]:
        project = self._runtime.project
        if models is None:
            return project.graph.order()
        unknown = [name for name in models if name not in project.models]
        if unknown:
            raise SelectionError(unknown, sorted(project.models))
        return list(dict.fromkeys(models))

    # --- blocking helpers (run on worker threads) --------------------------

    def _flush(self) -> None:
        try:
            self._runtime.flush(FLUSH_TIMEOUT_S)
        except TimeoutError:
            # Answering from slightly older state beats failing the read.
            logger.warning("state writes are slow; reading without the newest")

    def _view(self) -> LineageView:
        runtime = self._runtime
        with self._lock:
            self._flush()
            report = ensure_current(
                runtime.project,
                runtime.store,
                write=runtime.write,
                catalog_columns=self._catalog_columns(),
            )
            if report.models:
                self._flush()
            return stored_lineage(runtime.project, runtime.store)

    def _view_and_schema(
        self, name: str
    ) -> tuple[LineageView, SchemaVersionRecord | None]:
        view = self._view()
        return view, self._runtime.store.latest_schema_version(name)

    def _view_and_history(
        self,
    ) -> tuple[LineageView, dict[str, SchemaVersionRecord]]:
        view = self._view()
        runtime = self._runtime
        return view, latest_versions(runtime.project, runtime.store)

    def _refresh(self, models: Sequence[str] | None) -> RefreshReport:
        runtime = self._runtime
        with self._lock:
            self._flush()
            report = refresh(
                runtime.project,
                runtime.store,
                models,
                write=runtime.write,
                catalog_columns=self._catalog_columns(),
            )
            self._flush()
        return report

    def _catalog_columns(self) -> CatalogColumns | None:
        try:
            return read_catalog_columns(self._runtime.warehouses)
        except InterlaceError as exc:
            logger.info("lineage traced without the warehouse catalog: %s", exc)
            return None


def parse_direction(raw: str | None, default: Direction) -> Direction:
    """A `direction` query value; 400 `VALIDATION_ERROR` otherwise."""
    if raw is None or raw == "":
        return default
    for direction in _DIRECTIONS:
        if raw == direction:
            return direction
    message = "'direction' must be one of upstream, downstream, both"
    raise validation_error(message, [{"path": "query.direction", "message": message}])


def parse_depth(raw: str | None, default: int = 3) -> int:
    """A `depth` query value within 0..100; 400 `VALIDATION_ERROR` otherwise."""
    if raw is None or raw == "":
        return default
    try:
        depth = int(raw)
    except ValueError:
        depth = -1
    if not 0 <= depth <= MAX_DEPTH:
        raise validation_error(
            DEPTH_MESSAGE, [{"path": "query.depth", "message": DEPTH_MESSAGE}]
        )
    return depth


def column_not_found(column: str) -> ApiError:
    """404 `RESOURCE_NOT_FOUND` `Column 'c' not found`."""
    return ApiError(
        Problem(
            status=404,
            code="RESOURCE_NOT_FOUND",
            detail=f"Column '{column}' not found",
            extensions={"column_id": column},
        )
    )
