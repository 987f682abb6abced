"""Column lineage, model lineage and model columns (SPEC §10.5, §10.11)."""

from __future__ import annotations

import weakref
from typing import Annotated

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.params import FromPath, JSONBody, QueryParameter

from interlace.service.catalog import ModelCatalog
from interlace.service.controllers.runs import body_validation_handler
from interlace.service.dto.lineage import (
    ColumnLineageBody,
    ColumnsBody,
    LineageBody,
    ModelLineageBody,
    RefreshBody,
    RefreshRequest,
)
from interlace.service.lineage import LineageService, parse_depth, parse_direction
from interlace.service.state import ServiceState

__all__ = ["LineageController", "provide_lineage_service"]

_services: weakref.WeakKeyDictionary[ServiceState, LineageService] = (
    weakref.WeakKeyDictionary()
)


def provide_lineage_service(
    service: NamedDependency[ServiceState],
) -> LineageService:
    """One `LineageService` per service process: it serialises refreshes."""
    lineage = _services.get(service)
    if lineage is None:
        lineage = _services[service] = LineageService(service.runtime)
    return lineage


class LineageController(Controller):
    path = "/api/v1"
    tags = ["lineage"]
    dependencies = {"lineage": Provide(provide_lineage_service, sync_to_thread=False)}
    exception_handlers = {ValidationException: body_validation_handler}

    @get("/lineage", summary="Column lineage: columns per model and edges")
    async def project_lineage(
        self,
        lineage: NamedDependency[LineageService],
        models: Annotated[
            str | None,
            QueryParameter(description="Only these models (a,b); none = all"),
        ] = None,
    ) -> LineageBody:
        names = [name.strip() for name in (models or "").split(",") if name.strip()]
        return await lineage.lineage(names or None)

    @post(
        "/lineage/refresh",
        status_code=200,
        summary="Recompute and store column lineage (needs `execute`)",
    )
    async def refresh(
        self,
        lineage: NamedDependency[LineageService],
        data: JSONBody[RefreshRequest | None] = None,
    ) -> RefreshBody:
        return await lineage.refresh((data or RefreshRequest()).models)

    @get("/models/{name:str}/lineage", summary="Models upstream and downstream")
    async def model_lineage(
        self,
        name: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        lineage: NamedDependency[LineageService],
        depth: Annotated[
            str | None, QueryParameter(description="Hops, 0-100 (3)")
        ] = None,
        direction: Annotated[
            str | None,
            QueryParameter(description="`upstream`, `downstream` or `both` (default)"),
        ] = None,
    ) -> ModelLineageBody:
        definition = catalog.definition(name)
        return lineage.model_lineage(
            definition.name, parse_direction(direction, "both"), parse_depth(depth)
        )

    @get("/models/{name:str}/columns", summary="Columns with their direct sources")
    async def columns(
        self,
        name: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        lineage: NamedDependency[LineageService],
    ) -> ColumnsBody:
        return await lineage.columns(catalog.definition(name))

    @get(
        "/models/{name:str}/columns/{column:str}/lineage",
        summary="Where a column comes from and what it feeds",
    )
    async def column_lineage(
        self,
        name: FromPath[str],
        column: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        lineage: NamedDependency[LineageService],
        direction: Annotated[
            str | None,
            QueryParameter(description="`upstream` (default), `downstream` or `both`"),
        ] = None,
        depth: Annotated[
            str | None, QueryParameter(description="Edges, 0-100 (3)")
        ] = None,
    ) -> ColumnLineageBody:
        definition = catalog.definition(name)
        return await lineage.column_lineage(
            definition,
            column,
            parse_direction(direction, "upstream"),
            parse_depth(depth),
        )
