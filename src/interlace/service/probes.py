"""Health and readiness probes (SPEC §10.4).

Liveness is polled often (load balancers, the web UI), so connection states
are cached for 5 s: once the cache is stale, one request refreshes it in
the background and everyone else keeps getting the previous answer. Only
the very first request waits for a probe. Readiness is asked rarely and
always checks afresh.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable

import msgspec

import interlace
from interlace.service.state import ServiceState

__all__ = [
    "CheckResult",
    "ConnectionHealth",
    "ConnectionProbe",
    "HealthReport",
    "HealthService",
    "ReadinessReport",
    "check_readiness",
]

logger = logging.getLogger(__name__)

CACHE_SECONDS = 5.0


class ConnectionProbe:
    """Cached `SELECT 1` results per connection name."""

    def __init__(
        self, state: ServiceState, cache_seconds: float = CACHE_SECONDS
    ) -> None:
        self._state = state
        self._cache_seconds = cache_seconds
        self._results: dict[str, bool] | None = None
        self._checked_at = 0.0
        self._refresh: asyncio.Task[dict[str, bool]] | None = None

    async def statuses(self) -> dict[str, bool]:
        fresh = time.monotonic() - self._checked_at < self._cache_seconds
        if self._results is not None and fresh:
            return self._results
        if self._refresh is None:
            self._refresh = asyncio.ensure_future(self._probe())
        if self._results is None:
            return await asyncio.shield(self._refresh)
        return self._results

    async def _probe(self) -> dict[str, bool]:
        try:
            results = await self._state.gateway.probe_connections()
        except Exception:
            logger.exception("connection probe failed")
            results = dict.fromkeys(self._state.project.config.connections, False)
        finally:
            self._refresh = None
        self._results, self._checked_at = results, time.monotonic()
        return results


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool


class ReadinessReport(msgspec.Struct, frozen=True, kw_only=True):
    ready: bool
    checks: dict[str, CheckResult]


async def check_readiness(state: ServiceState) -> ReadinessReport:
    """State store write, warehouses and actors; never ready while draining."""
    store = await _safely(state.gateway.store_accepts_write())
    warehouses = await _safely(_all_connected(state))
    actors = await _safely(state.gateway.actors_alive())
    checks = {
        "state_store": CheckResult(ok=store),
        "actors": CheckResult(ok=actors),
        "warehouse": CheckResult(ok=warehouses),
    }
    ready = store and warehouses and actors and not state.draining
    return ReadinessReport(ready=ready, checks=checks)


async def _all_connected(state: ServiceState) -> bool:
    return all((await state.gateway.probe_connections()).values())


async def _safely(check: Awaitable[bool]) -> bool:
    """The check's answer; a failing check counts as not ready."""
    try:
        return await check
    except Exception:
        logger.warning("readiness check failed", exc_info=True)
        return False


class ConnectionHealth(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str
    status: str
    """`connected` or `disconnected`."""


class HealthReport(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    """`ok`, or `degraded` when a connection is down."""
    version: str
    uptime_seconds: float
    connections: list[ConnectionHealth]
    scheduler_running: bool
    active_flows: int
    subscribers: int


class HealthService:
    """Liveness and readiness of the service, for the health controller.

    Liveness is the hottest path of the service, so the answer is assembled
    from values kept up to date elsewhere (probe cache, run activity) and
    the connection entries are rebuilt only when a probe has new results.
    """

    def __init__(self, state: ServiceState) -> None:
        self._state = state
        self._probe = ConnectionProbe(state)
        self._types = {
            name: connection.type
            for name, connection in state.project.config.connections.items()
        }
        self._listed: tuple[dict[str, bool], list[ConnectionHealth]] | None = None

    async def liveness(self) -> HealthReport:
        connections = self._connections(await self._probe.statuses())
        degraded = any(item.status != "connected" for item in connections)
        state = self._state
        return HealthReport(
            status="degraded" if degraded else "ok",
            version=interlace.__version__,
            uptime_seconds=round(state.uptime_seconds, 2),
            connections=connections,
            scheduler_running=state.scheduler_running,
            active_flows=state.activity.open_count,
            subscribers=state.subscribers,
        )

    def _connections(self, statuses: dict[str, bool]) -> list[ConnectionHealth]:
        """Connection entries, rebuilt only when a probe produced new results."""
        if self._listed is None or self._listed[0] is not statuses:
            entries = [
                ConnectionHealth(
                    name=name,
                    type=kind,
                    status="connected" if statuses.get(name) else "disconnected",
                )
                for name, kind in self._types.items()
            ]
            self._listed = (statuses, entries)
        return self._listed[1]

    async def readiness(self) -> ReadinessReport:
        return await check_readiness(self._state)
