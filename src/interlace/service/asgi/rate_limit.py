"""Token-bucket rate limiting for `/api/` paths (SPEC §10.3).

One bucket per API key, or per client address when the request carries no
key (auth disabled or a whitelisted path). Buckets hold `burst` tokens and
refill at `requests_per_second`; every answer reports the bucket in the
`RateLimit-*` headers. The client address is the peer, unless the peer is a
trusted proxy, in which case `X-Forwarded-For` is read right to left and
the first address that is not a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Sequence

import msgspec

from interlace.service.asgi.connection import RawHeaders, Scope, header
from interlace.service.problems import Problem
from interlace.service.settings import IPNetwork, RateLimitSettings

__all__ = [
    "Decision",
    "RateLimiter",
    "client_address",
    "limit_headers",
    "limit_problem",
]

_MAX_BUCKETS = 10_000
"""Above this many buckets, full ones (indistinguishable from new) are dropped."""


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    allowed: bool
    remaining: int
    reset_seconds: int
    """Whole seconds until the bucket is full again."""
    retry_after: float
    """Seconds until one token is available (0 when allowed)."""


class RateLimiter:
    """Token buckets by identity; used on the event loop only, so no locks."""

    def __init__(
        self,
        settings: RateLimitSettings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = settings.requests_per_second
        self.burst = settings.burst
        self._clock = clock
        self._buckets: dict[str, list[float]] = {}
        """identity -> [tokens, last refill time]"""

    def take(self, identity: str) -> Decision:
        now = self._clock()
        bucket = self._buckets.get(identity)
        if bucket is None:
            self._make_room(now)
            bucket = self._buckets[identity] = [float(self.burst), now]
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        bucket[0], bucket[1] = tokens, now
        return Decision(
            allowed=allowed,
            remaining=int(tokens),
            reset_seconds=math.ceil((self.burst - tokens) / self.rate),
            retry_after=0.0 if allowed else (1.0 - tokens) / self.rate,
        )

    def _make_room(self, now: float) -> None:
        if len(self._buckets) < _MAX_BUCKETS:
            return
        for identity, (tokens, updated) in list(self._buckets.items()):
            if tokens + (now - updated) * self.rate >= self.burst:
                del self._buckets[identity]


def limit_headers(decision: Decision, burst: int) -> RawHeaders:
    """The `RateLimit-*` headers every limited answer carries."""
    remaining = str(decision.remaining).encode()
    return [
        (b"ratelimit-limit", str(burst).encode()),
        (b"ratelimit-remaining", remaining),
        (b"ratelimit-reset", str(decision.reset_seconds).encode()),
        (b"x-ratelimit-remaining", remaining),
    ]


def limit_problem(decision: Decision, burst: int, who: str) -> Problem:
    """429 for an empty bucket; `who` is `key 'name'` or `client 'address'`."""
    return Problem(
        status=429,
        code="RATE_LIMITED",
        detail=f"Rate limit exceeded for {who}",
        extensions={"retry_after": round(decision.retry_after, 2), "limit": burst},
        headers={"Retry-After": str(max(1, math.ceil(decision.retry_after)))},
    )


def client_address(scope: Scope, trusted: Sequence[IPNetwork]) -> str:
    """The client's address, honouring `X-Forwarded-For` only from `trusted`."""
    client = scope.get("client")
    peer = str(client[0]) if client else "unknown"
    if not trusted or not _is_trusted(peer, trusted):
        return peer
    forwarded = header(scope, b"x-forwarded-for")
    if not forwarded:
        return peer
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _is_trusted(address: str, trusted: Sequence[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
