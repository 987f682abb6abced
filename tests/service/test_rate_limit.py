"""Token buckets, client addresses behind proxies, and required permissions."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from interlace.service.asgi.auth import required_permission
from interlace.service.asgi.rate_limit import RateLimiter, client_address
from interlace.service.settings import RateLimitSettings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limiter(rate: float, burst: int) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    settings = RateLimitSettings(requests_per_second=rate, burst=burst)
    return RateLimiter(settings, clock), clock


def test_a_full_bucket_allows_a_burst_then_refuses() -> None:
    bucket, _ = limiter(rate=2, burst=3)

    decisions = [bucket.take("key:a") for _ in range(4)]

    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert decisions[3].retry_after == pytest.approx(0.5)


def test_tokens_refill_at_the_configured_rate() -> None:
    bucket, clock = limiter(rate=2, burst=3)
    for _ in range(3):
        bucket.take("key:a")

    clock.now += 0.5
    refilled = bucket.take("key:a")
    refused = bucket.take("key:a")

    assert refilled.allowed is True
    assert refused.allowed is False
    assert refused.reset_seconds == 2


def test_buckets_are_separate_per_identity() -> None:
    bucket, _ = limiter(rate=1, burst=1)

    first, second = bucket.take("key:a"), bucket.take("key:b")

    assert first.allowed and second.allowed


def test_a_bucket_never_holds_more_than_its_burst() -> None:
    bucket, clock = limiter(rate=10, burst=2)
    bucket.take("key:a")

    clock.now += 3600
    decision = bucket.take("key:a")

    assert decision.remaining == 1
    assert decision.reset_seconds == 1


def scope(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = [] if forwarded is None else [(b"x-forwarded-for", forwarded.encode())]
    return {"client": (peer, 50000), "headers": headers}


PROXIES = (ipaddress.ip_network("10.0.0.0/8"),)


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.3", "198.51.100.1"),
        ("10.0.0.2", "10.0.0.4, 10.0.0.3", "10.0.0.4"),
        ("10.0.0.2", None, "10.0.0.2"),
    ],
)
def test_forwarded_addresses_count_only_from_trusted_proxies(
    peer: str, forwarded: str | None, expected: str
) -> None:
    assert client_address(scope(peer, forwarded), PROXIES) == expected


def test_forwarded_for_is_ignored_without_trusted_proxies() -> None:
    assert client_address(scope("10.0.0.2", "1.2.3.4"), ()) == "10.0.0.2"


@pytest.mark.parametrize(
    ("method", "path", "permission"),
    [
        ("GET", "/api/v1/runs", "read"),
        ("HEAD", "/api/v1/models", "read"),
        ("POST", "/api/v1/runs", "execute"),
        ("POST", "/api/v1/runs/run_1/cancel", "execute"),
        ("POST", "/api/v1/runs/run_1/retry", "execute"),
        ("POST", "/api/v1/lineage/refresh", "execute"),
        ("POST", "/api/v1/plan", "write"),
        ("POST", "/api/v1/streams/orders/publish", "write"),
        ("PUT", "/api/v1/runs", "write"),
        ("PATCH", "/api/v1/models/a", "write"),
        ("DELETE", "/api/v1/runs/run_1", "write"),
    ],
)
def test_the_permission_follows_method_and_path(
    method: str, path: str, permission: str
) -> None:
    assert required_permission(method, path) == permission
