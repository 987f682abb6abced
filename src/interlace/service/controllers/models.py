"""Models: list, details, runs and statistics (SPEC §10.5)."""

from __future__ import annotations

from statistics import fmean
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter

from interlace.service.catalog import (
    ModelCatalog,
    ModelDetail,
    ModelFilters,
    ModelSummary,
)
from interlace.service.gateway import RuntimeGateway, TaskPage
from interlace.service.model_runs import (
    ModelRunList,
    ModelStats,
    model_run,
    task_sort_key,
)
from interlace.service.pagination import PageRequest, paginate
from interlace.state.ids import iso_utc

__all__ = ["ModelList", "ModelsController"]


class ModelList(msgspec.Struct, frozen=True, kw_only=True):
    models: list[ModelSummary]
    total: int
    has_more: bool
    next_cursor: str | None


class ModelsController(Controller):
    path = "/api/v1/models"
    tags = ["models"]

    @get("/", summary="Models, filtered, sorted by name")
    async def list_models(
        self,
        catalog: NamedDependency[ModelCatalog],
        page: NamedDependency[PageRequest],
        schema: FromQuery[str | None] = None,
        model_type: Annotated[
            str | None,
            QueryParameter(name="type", description="`python`, `sql` or `stream`"),
        ] = None,
        tags: Annotated[
            str | None, QueryParameter(description="Any of these tags: a,b")
        ] = None,
        search: Annotated[
            str | None, QueryParameter(description="Name contains, any case")
        ] = None,
    ) -> ModelList:
        filters = ModelFilters.parse(schema, model_type, tags, search)
        summaries = catalog.summaries(filters)

        async def fetch(limit: int, offset: int) -> tuple[list[ModelSummary], int]:
            return summaries[offset : offset + limit], len(summaries)

        result = await paginate(
            page,
            fetch=fetch,
            key=lambda summary: (summary.name,),
            filters=msgspec.structs.asdict(filters),
        )
        return ModelList(
            models=result.items,
            total=result.total,
            has_more=result.has_more,
            next_cursor=result.next_cursor,
        )

    @get("/{name:str}", summary="One model with effective values")
    async def model(
        self,
        name: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        gateway: NamedDependency[RuntimeGateway],
    ) -> ModelDetail:
        catalog.definition(name)
        return catalog.detail(
            name,
            await gateway.model_state(name),
            await gateway.latest_schema_version(name),
        )

    @get("/{name:str}/runs", summary="Tasks of the model, newest first")
    async def runs(
        self,
        name: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        gateway: NamedDependency[RuntimeGateway],
        page: NamedDependency[PageRequest],
    ) -> ModelRunList:
        catalog.definition(name)

        async def fetch(limit: int, offset: int) -> TaskPage:
            return await gateway.model_tasks(name, limit, offset)

        result = await paginate(
            page,
            fetch=fetch,
            key=task_sort_key,
            filters={"model": name},
            descending=True,
        )
        return ModelRunList(
            model=name,
            runs=[model_run(task, run) for task, run in result.items],
            total=result.total,
            has_more=result.has_more,
            next_cursor=result.next_cursor,
        )

    @get("/{name:str}/stats", summary="Row count, last run, mean duration")
    async def stats(
        self,
        name: FromPath[str],
        catalog: NamedDependency[ModelCatalog],
        gateway: NamedDependency[RuntimeGateway],
    ) -> ModelStats:
        definition = catalog.definition(name)
        state = await gateway.model_state(name)
        durations = await gateway.completed_durations(name)
        last_run = state.last_run_at if state is not None else None
        if last_run is None:
            latest, _ = await gateway.model_tasks(name, 1, 0)
            last_run = latest[0][0].started_at if latest else None
        return ModelStats(
            total_rows=await gateway.row_count(definition),
            last_run_at=iso_utc(last_run) if last_run is not None else None,
            avg_duration_seconds=round(fmean(durations), 3) if durations else None,
        )
