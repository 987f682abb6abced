"""`create_app`: the Litestar application of one service process.

Nothing starts at import or at construction: the runtime starts in the
lifespan (`interlace.service.lifecycle`). Controllers receive their services
through Litestar's dependency injection; every error becomes a problem
document in `handle_exception`, the app's only exception handler.
"""

from __future__ import annotations

import functools
import logging
from typing import Any, cast

from litestar import Litestar, Request, Response
from litestar.di import Provide
from litestar.types import ASGIApp as LitestarASGIApp

from interlace.service.asgi import wrap_edge
from interlace.service.asgi.connection import ASGIApp, Scope, request_id_of
from interlace.service.catalog import ModelCatalog
from interlace.service.controllers.events import EventsController
from interlace.service.controllers.flows import FlowsController
from interlace.service.controllers.graph import GraphController
from interlace.service.controllers.health import health_controller
from interlace.service.controllers.lineage import LineageController
from interlace.service.controllers.metrics import MetricsController
from interlace.service.controllers.models import ModelsController
from interlace.service.controllers.plan import PlanController
from interlace.service.controllers.project import ProjectController
from interlace.service.controllers.runs import RunsController
from interlace.service.controllers.scheduler import (
    SchedulerController,
    install_scheduler,
)
from interlace.service.controllers.schema import SchemaController
from interlace.service.docs import openapi_config, swagger_assets_router
from interlace.service.gateway import RuntimeGateway
from interlace.service.lifecycle import service_lifespan
from interlace.service.pagination import provide_page_request
from interlace.service.probes import HealthService
from interlace.service.problems import (
    PROBLEM_CONTENT_TYPE,
    problem_body,
    problem_from_exception,
)
from interlace.service.state import ServiceState

__all__ = ["create_app", "handle_exception"]

logger = logging.getLogger(__name__)


def create_app(state: ServiceState) -> Litestar:
    """The service app for `state`; serve it with one granian worker."""
    handlers: list[Any] = [
        health_controller(HealthService(state)),
        ProjectController,
        ModelsController,
        GraphController,
        RunsController,
        FlowsController,
        PlanController,
        EventsController,
        SchedulerController,
        SchemaController,
        LineageController,
        swagger_assets_router(),
    ]
    install_scheduler(state)
    if state.settings.metrics_enabled:
        handlers.append(MetricsController)
    app = Litestar(
        route_handlers=handlers,
        dependencies=_dependencies(state),
        exception_handlers={Exception: handle_exception},
        lifespan=[functools.partial(service_lifespan, state)],
        openapi_config=openapi_config(),
        logging_config=None,
    )
    # The service edge wraps Litestar's own handler (see
    # `interlace.service.asgi`), so that it also sees unrouted requests.
    edge = wrap_edge(
        cast(ASGIApp, app.asgi_handler),
        state.settings,
        cors_origins=state.cors_origins,
        metrics=state.metrics if state.settings.metrics_enabled else None,
        draining=lambda: state.draining,
    )
    app.asgi_handler = cast(LitestarASGIApp, edge)
    return app


def handle_exception(
    request: Request[Any, Any, Any], exc: Exception
) -> Response[bytes]:
    """Render any exception as an RFC 9457 problem."""
    problem = problem_from_exception(exc, request.method, request.url.path)
    body = problem_body(
        problem,
        instance=request.url.path,
        request_id=request_id_of(cast(Scope, request.scope)),
    )
    return Response(
        body,
        status_code=problem.status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=problem.headers,
    )


def _dependencies(state: ServiceState) -> dict[str, Provide]:
    catalog = ModelCatalog(state.project)

    def service() -> ServiceState:
        return state

    def model_catalog() -> ModelCatalog:
        return catalog

    def gateway() -> RuntimeGateway:
        return state.gateway

    return {
        "service": Provide(service, use_cache=True, sync_to_thread=False),
        "catalog": Provide(model_catalog, use_cache=True, sync_to_thread=False),
        "gateway": Provide(gateway, use_cache=True, sync_to_thread=False),
        "page": Provide(provide_page_request, sync_to_thread=False),
    }
