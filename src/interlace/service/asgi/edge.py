"""The service edge: one ASGI layer in front of Litestar.

For every HTTP request, in this order: a request id (the client's valid
`X-Request-ID`, else a new one); CORS (a preflight is answered here with
204, before authentication); for `/api/` paths the shutdown gate (mutating
requests get 503 while draining), the API-key check and the rate limit;
then Litestar. Every answer, including the edge's own problems, carries the
request id, the CORS headers and the rate-limit headers, and is counted in
the HTTP metrics under the route template Litestar matched (`unmatched`
when none did, so arbitrary paths cannot create label values).

The policies are plain objects (`CorsPolicy`, `ApiKeyAuth`, `RateLimiter`)
applied by this one middleware: a chain of one middleware per policy cost
the health endpoint a measurable share of its throughput.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Sequence

from interlace.service.asgi.auth import AUTH_HEADERS, ApiKeyAuth
from interlace.service.asgi.connection import (
    KEY_NAME,
    REQUEST_ID,
    ASGIApp,
    Message,
    RawHeaders,
    Receive,
    Scope,
    Send,
    read_headers,
    send_problem,
)
from interlace.service.asgi.cors import CORS_HEADERS, CorsPolicy
from interlace.service.asgi.rate_limit import (
    RateLimiter,
    client_address,
    limit_headers,
    limit_problem,
)
from interlace.service.metrics import ServiceMetrics
from interlace.service.problems import Problem
from interlace.service.settings import IPNetwork

__all__ = ["SHUTTING_DOWN", "ServiceEdge", "new_request_id"]

SHUTTING_DOWN = "The service is shutting down and accepts no new work"

_VALID_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_READ_HEADERS = frozenset({b"x-request-id", *CORS_HEADERS, *AUTH_HEADERS})
_MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DRAINING = Problem(
    status=503,
    code="SERVICE_UNAVAILABLE",
    detail=SHUTTING_DOWN,
    headers={"Retry-After": "30"},
)


def new_request_id() -> str:
    """`req_` and 12 hex digits. Ids correlate logs, they guard nothing, so
    the fast non-cryptographic generator is enough (and several times
    cheaper than `secrets` on this per-request path)."""
    return f"req_{random.getrandbits(48):012x}"


class ServiceEdge:
    def __init__(
        self,
        app: ASGIApp,
        *,
        cors: CorsPolicy,
        auth: ApiKeyAuth,
        limiter: RateLimiter | None,
        trusted_proxies: Sequence[IPNetwork],
        metrics: ServiceMetrics | None,
        draining: Callable[[], bool],
    ) -> None:
        self._app = app
        self._cors = cors
        self._auth = auth
        self._limiter = limiter
        self._trusted = tuple(trusted_proxies)
        self._metrics = metrics
        self._draining = draining

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = read_headers(scope, _READ_HEADERS)
        request_id = _client_id(headers) or new_request_id()
        scope[REQUEST_ID] = request_id
        extra: RawHeaders = [(b"x-request-id", request_id.encode())]
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        started = time.perf_counter()
        try:
            await self._answer(scope, receive, send_with_headers, headers, extra)
        finally:
            if self._metrics is not None:
                _record(self._metrics, scope, status, time.perf_counter() - started)

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, str],
        extra: RawHeaders,
    ) -> None:
        if self._cors.is_preflight(scope, headers):
            extra.extend(self._cors.preflight_headers(scope, headers))
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        extra.extend(self._cors.response_headers(scope, headers))
        problem = self._admit(scope, headers, extra)
        if problem is not None:
            await send_problem(scope, send, problem)
            return
        await self._app(scope, receive, send)

    def _admit(
        self, scope: Scope, headers: dict[bytes, str], extra: RawHeaders
    ) -> Problem | None:
        """The problem refusing an `/api/` request, or None to let it through."""
        path: str = scope["path"]
        if not path.startswith("/api/"):
            return None
        method: str = scope["method"]
        if method in _MUTATING and self._draining():
            return _DRAINING
        who = None
        if self._auth.enabled and not self._auth.whitelisted(path):
            key = self._auth.authenticate(method, path, headers)
            if isinstance(key, Problem):
                return key
            scope[KEY_NAME] = key.name
            who = f"key '{key.name}'"
        if self._limiter is None:
            return None
        if who is None:
            who = f"client '{client_address(scope, self._trusted)}'"
        return _take(self._limiter, who, extra)


def _take(limiter: RateLimiter, who: str, extra: RawHeaders) -> Problem | None:
    """One token from `who`'s bucket; the 429 problem when it is empty."""
    decision = limiter.take(who)
    extra.extend(limit_headers(decision, limiter.burst))
    if decision.allowed:
        return None
    return limit_problem(decision, limiter.burst, who)


def _client_id(headers: dict[bytes, str]) -> str | None:
    value = headers.get(b"x-request-id")
    return value if value is not None and _VALID_ID.match(value) else None


def _record(metrics: ServiceMetrics, scope: Scope, status: int, elapsed: float) -> None:
    route = scope.get("path_template") or "unmatched"
    method = scope["method"]
    metrics.http_requests.inc((route, method, str(status)))
    metrics.http_duration.observe((route, method), elapsed)
