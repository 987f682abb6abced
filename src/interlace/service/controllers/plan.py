"""Plan: what a run would do now, without running anything (SPEC §10.6)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.params import JSONBody, QueryParameter

from interlace.service.controllers.runs import (
    body_validation_handler,
    provide_run_service,
)
from interlace.service.dto.runs import PlanBody
from interlace.service.problems import validation_error
from interlace.service.runs import RunService

__all__ = ["PlanController"]

_TRUE = frozenset({"true", "1", "yes"})
_FALSE = frozenset({"false", "0", "no", ""})


class PlanController(Controller):
    path = "/api/v1/plan"
    tags = ["plan"]
    dependencies = {"runs": Provide(provide_run_service, sync_to_thread=False)}
    exception_handlers = {ValidationException: body_validation_handler}

    @get("/", summary="Plan a run of the given models")
    async def plan_query(
        self,
        runs: NamedDependency[RunService],
        models: Annotated[
            str | None,
            QueryParameter(description="Selectors, comma-separated; none = all"),
        ] = None,
        force: Annotated[
            str | None, QueryParameter(description="`true`, `1` or `yes` to force")
        ] = None,
    ) -> dict[str, Any]:
        selectors = [name.strip() for name in (models or "").split(",")]
        return await runs.plan(
            selectors=[name for name in selectors if name] or None,
            force=_flag(force),
        )

    @post("/", status_code=200, summary="Plan a run described like `POST /runs`")
    async def plan_body(
        self,
        runs: NamedDependency[RunService],
        data: JSONBody[PlanBody | None] = None,
    ) -> dict[str, Any]:
        body = data or PlanBody()
        return await runs.plan(
            selectors=body.models,
            force=body.force,
            since=body.since,
            until=body.until,
            no_upstream=body.no_upstream,
        )


def _flag(raw: str | None) -> bool:
    value = (raw or "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    message = "'force' must be a boolean (true/false)"
    raise validation_error(message, [{"path": "query.force", "message": message}])
