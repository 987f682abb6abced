"""The model graph and its validation (SPEC §10.5)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from interlace.service.graph_views import (
    GraphValidation,
    GraphView,
    build_graph,
    validate_graph,
)
from interlace.service.state import ServiceState

__all__ = ["GraphController"]


class GraphController(Controller):
    path = "/api/v1/graph"
    tags = ["graph"]

    @get("/", summary="Nodes, edges and layers of the model graph")
    async def graph(
        self,
        service: NamedDependency[ServiceState],
        graph_format: Annotated[
            str, QueryParameter(name="format", description="`full`, `layers` or `tree`")
        ] = "full",
        models: Annotated[
            str | None,
            QueryParameter(description="Only these models (a,b) and edges among them"),
        ] = None,
    ) -> GraphView:
        names = [name.strip() for name in (models or "").split(",") if name.strip()]
        return build_graph(service.project, graph_format, names or None)

    @get("/validate", summary="Problems of the model graph")
    async def validate(self, service: NamedDependency[ServiceState]) -> GraphValidation:
        return validate_graph(service.project)
