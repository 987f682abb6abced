"""CORS for the web UI's dev server, the service's own origin and configured ones.

Preflight requests (`OPTIONS` with `Access-Control-Request-Method`) are
answered by the edge with 204 before authentication, because browsers never
send credentials on a preflight. Other answers to an allowed origin carry
the allow and expose headers.
"""

from __future__ import annotations

from collections.abc import Iterable

from interlace.service.asgi.connection import RawHeaders, Scope

__all__ = ["CORS_HEADERS", "DEV_UI_ORIGIN", "EXPOSED_HEADERS", "CorsPolicy"]

DEV_UI_ORIGIN = "http://localhost:5173"
EXPOSED_HEADERS = (
    "X-Request-ID",
    "Location",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "X-RateLimit-Remaining",
)
CORS_HEADERS = frozenset(
    {
        b"origin",
        b"host",
        b"access-control-request-method",
        b"access-control-request-headers",
    }
)
"""Request headers the policy reads."""

_ALLOWED_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
_DEFAULT_ALLOWED_HEADERS = (
    b"Authorization, X-API-Key, Content-Type, Last-Event-ID, Idempotency-Key, "
    b"X-Request-ID"
)
_MAX_AGE = b"600"


class CorsPolicy:
    def __init__(self, origins: Iterable[str]) -> None:
        self._origins = frozenset({DEV_UI_ORIGIN, *origins})
        self._expose = ", ".join(EXPOSED_HEADERS).encode()

    @staticmethod
    def is_preflight(scope: Scope, headers: dict[bytes, str]) -> bool:
        return (
            scope["method"] == "OPTIONS" and b"access-control-request-method" in headers
        )

    def response_headers(self, scope: Scope, headers: dict[bytes, str]) -> RawHeaders:
        """Headers for an answer to this request; none for other origins."""
        origin = headers.get(b"origin")
        if origin is None or not self._allowed(scope, origin, headers):
            return []
        return [
            (b"access-control-allow-origin", origin.encode()),
            (b"access-control-allow-credentials", b"true"),
            (b"access-control-expose-headers", self._expose),
            (b"vary", b"Origin"),
        ]

    def preflight_headers(self, scope: Scope, headers: dict[bytes, str]) -> RawHeaders:
        allowed = self.response_headers(scope, headers)
        if not allowed:
            return [(b"vary", b"Origin")]
        requested = headers.get(b"access-control-request-headers")
        return [
            *allowed,
            (b"access-control-allow-methods", _ALLOWED_METHODS),
            (
                b"access-control-allow-headers",
                requested.encode() if requested else _DEFAULT_ALLOWED_HEADERS,
            ),
            (b"access-control-max-age", _MAX_AGE),
        ]

    def _allowed(self, scope: Scope, origin: str, headers: dict[bytes, str]) -> bool:
        if origin in self._origins:
            return True
        host = headers.get(b"host")
        return host is not None and origin == f"{scope.get('scheme', 'http')}://{host}"
