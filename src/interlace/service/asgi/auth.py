"""API-key authentication and permissions for `/api/` paths (SPEC §10.3).

Keys are compared with `hmac.compare_digest` against *every* configured key,
without stopping at a match, so the time taken does not reveal how much of a
guess was right or which key it resembled.
"""

from __future__ import annotations

import hmac

from interlace.service.problems import Problem
from interlace.service.settings import ApiKey, AuthSettings

__all__ = [
    "AUTH_HEADERS",
    "INVALID_KEY",
    "MISSING_KEY",
    "ApiKeyAuth",
    "required_permission",
]

MISSING_KEY = (
    "Missing API key. Provide via Authorization: Bearer <key> or X-API-Key header."
)
INVALID_KEY = "Invalid API key"
AUTH_HEADERS = frozenset({b"authorization", b"x-api-key"})
"""Request headers the policy reads."""

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_EXECUTE_PREFIXES = ("/api/v1/runs", "/api/v1/lineage/refresh")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="interlace"'}


def required_permission(method: str, path: str) -> str:
    """`read`, `write` or `execute`, as §10.3 assigns them."""
    if method in _READ_METHODS:
        return "read"
    if method == "POST" and path.startswith(_EXECUTE_PREFIXES):
        return "execute"
    return "write"


class ApiKeyAuth:
    """Decides whether an `/api/` request may proceed, and as which key."""

    def __init__(self, settings: AuthSettings) -> None:
        self.enabled = settings.enabled
        self._keys = [(key.key.encode(), key) for key in settings.api_keys]
        entries = settings.whitelist
        self._exact = frozenset(entry for entry in entries if not entry.endswith("*"))
        self._prefixes = tuple(entry[:-1] for entry in entries if entry.endswith("*"))

    def whitelisted(self, path: str) -> bool:
        """Exact entries, or prefixes for entries ending with `*`."""
        return path in self._exact or path.startswith(self._prefixes)

    def authenticate(
        self, method: str, path: str, headers: dict[bytes, str]
    ) -> ApiKey | Problem:
        """The key allowed to make this request, or the problem refusing it."""
        presented = _presented_key(headers)
        if presented is None:
            return _unauthorized(MISSING_KEY)
        key = self._match(presented)
        if key is None:
            return _unauthorized(INVALID_KEY)
        permission = required_permission(method, path)
        if permission not in key.permissions:
            return _forbidden(key, permission)
        return key

    def _match(self, presented: str) -> ApiKey | None:
        candidate = presented.encode()
        found = None
        for secret, key in self._keys:
            if hmac.compare_digest(candidate, secret) and found is None:
                found = key
        return found


def _presented_key(headers: dict[bytes, str]) -> str | None:
    """`Authorization: Bearer <key>`, else `X-API-Key`; None when neither."""
    authorization = headers.get(b"authorization", "")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    api_key = headers.get(b"x-api-key", "").strip()
    return api_key or None


def _unauthorized(detail: str) -> Problem:
    return Problem(status=401, code="UNAUTHORIZED", detail=detail, headers=_CHALLENGE)


def _forbidden(key: ApiKey, permission: str) -> Problem:
    return Problem(
        status=403,
        code="FORBIDDEN",
        detail=f"API key '{key.name}' lacks '{permission}' permission",
        extensions={"required_permission": permission, "key_name": key.name},
    )
