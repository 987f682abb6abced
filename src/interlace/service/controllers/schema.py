"""Schema history, current schema and diffs of a model (SPEC §10.11)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter

from interlace.service.catalog import ModelCatalog
from interlace.service.pagination import PageRequest, paginate
from interlace.service.problems import validation_error
from interlace.service.schema_history import (
    CurrentSchema,
    SchemaDiffBody,
    SchemaHistoryService,
    SchemaVersionBody,
)
from interlace.service.state import ServiceState

__all__ = ["SchemaController", "SchemaHistory"]

_INVALID_VERSION = "'from' and 'to' must be valid integers"


class SchemaHistory(msgspec.Struct, frozen=True, kw_only=True):
    versions: list[SchemaVersionBody]
    total: int
    has_more: bool
    next_cursor: str | None


def provide_schema_service(
    service: NamedDependency[ServiceState],
) -> SchemaHistoryService:
    """A stateless view of the process's runtime; cheap to build per request."""
    return SchemaHistoryService(service.runtime)


class SchemaController(Controller):
    path = "/api/v1/models/{name:str}/schema"
    tags = ["models"]
    dependencies = {"schemas": Provide(provide_schema_service, sync_to_thread=False)}

    @get("/history", summary="Recorded schema versions, newest first")
    async def history(
        self,
        name: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        schemas: NamedDependency[SchemaHistoryService],
        page: NamedDependency[PageRequest],
    ) -> SchemaHistory:
        definition = catalog.definition(name)

        async def fetch(limit: int, offset: int) -> tuple[list[SchemaVersionBody], int]:
            return await schemas.history(definition, limit, offset)

        result = await paginate(
            page,
            fetch=fetch,
            key=lambda version: (version.version,),
            filters={"model": name},
            descending=True,
        )
        return SchemaHistory(
            versions=result.items,
            total=result.total,
            has_more=result.has_more,
            next_cursor=result.next_cursor,
        )

    @get("/current", summary="The latest schema version (0: never materialised)")
    async def current(
        self,
        name: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        schemas: NamedDependency[SchemaHistoryService],
    ) -> CurrentSchema:
        return await schemas.current(catalog.definition(name))

    @get("/diff", summary="Column changes between two schema versions")
    async def diff(
        self,
        name: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        schemas: NamedDependency[SchemaHistoryService],
        from_version: Annotated[
            str | None,
            QueryParameter(
                name="from", description="Old version; default the one before `to`."
            ),
        ] = None,
        to_version: Annotated[
            str | None,
            QueryParameter(name="to", description="New version; 0 or none = current."),
        ] = None,
    ) -> SchemaDiffBody:
        definition = catalog.definition(name)
        old = _version(from_version, "from")
        new = _version(to_version, "to")
        return await schemas.diff(definition, old, 0 if new is None else new)


def _version(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise validation_error(
            _INVALID_VERSION, [{"path": f"query.{name}", "message": _INVALID_VERSION}]
        ) from None
