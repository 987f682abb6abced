"""The ASGI edge in front of the Litestar app (see `edge`).

It wraps Litestar's own ASGI handler rather than being Litestar middleware,
because Litestar runs its middleware only after a route matched: a 404 or a
405 would otherwise lose its request id, its CORS headers and its place in
the metrics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from interlace.service.asgi.auth import ApiKeyAuth
from interlace.service.asgi.connection import ASGIApp
from interlace.service.asgi.cors import CorsPolicy
from interlace.service.asgi.edge import ServiceEdge
from interlace.service.asgi.rate_limit import RateLimiter
from interlace.service.metrics import ServiceMetrics
from interlace.service.settings import ServiceSettings

__all__ = ["wrap_edge"]


def wrap_edge(
    app: ASGIApp,
    settings: ServiceSettings,
    *,
    cors_origins: Iterable[str],
    metrics: ServiceMetrics | None,
    draining: Callable[[], bool],
) -> ASGIApp:
    """`app` behind the service edge configured by `settings`."""
    limit = settings.auth.rate_limit
    return ServiceEdge(
        app,
        cors=CorsPolicy(cors_origins),
        auth=ApiKeyAuth(settings.auth),
        limiter=RateLimiter(limit) if limit is not None else None,
        trusted_proxies=settings.trusted_proxies,
        metrics=metrics,
        draining=draining,
    )
