"""Prometheus metrics (`GET /metrics`, SPEC §12)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from interlace.service.state import ServiceState

__all__ = ["CONTENT_TYPE", "MetricsController"]

CONTENT_TYPE = "text/plain; version=0.0.4"
"""Litestar appends `; charset=utf-8` to text types."""


class MetricsController(Controller):
    tags = ["operations"]

    @get("/metrics", summary="Prometheus metrics", media_type=CONTENT_TYPE)
    async def metrics(self, service: NamedDependency[ServiceState]) -> Response[str]:
        return Response(service.metrics.render(), media_type=CONTENT_TYPE)
