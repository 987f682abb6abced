"""Liveness (`/health`, `/api/v1/health`) and readiness (`/api/v1/ready`).

The health service is bound when the controller class is made rather than
injected per request: liveness is the most frequently polled endpoint, and
Litestar's per-request dependency resolution (an exit stack and a signature
check) costs it about a tenth of its throughput (`benchmarks/http.py`).
"""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.openapi import ResponseSpec

from interlace.service.probes import HealthReport, HealthService, ReadinessReport

__all__ = ["health_controller"]


def health_controller(service: HealthService) -> type[Controller]:
    """The health controller class, answering from `service`."""

    class HealthController(Controller):
        tags = ["health"]

        @get(["/health", "/api/v1/health"], summary="Liveness and connection status")
        async def health(self) -> HealthReport:
            return await service.liveness()

        @get(
            "/api/v1/ready",
            summary="Readiness: state store, warehouses and actors",
            responses={
                503: ResponseSpec(
                    data_container=ReadinessReport, description="Not ready"
                )
            },
        )
        async def ready(self) -> Response[ReadinessReport]:
            report = await service.readiness()
            return Response(report, status_code=200 if report.ready else 503)

    return HealthController
