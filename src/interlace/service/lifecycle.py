"""Start-up and graceful shutdown of one service process (SPEC §12).

The lifespan starts the runtime before the first request and stops it in its
`finally`, whatever happened in between. Shutdown first *drains*: the phase
turns `draining` (ready answers 503, mutating requests 503), the `on_drain`
hooks stop triggers, running runs get `service.shutdown.grace_seconds` to
finish and are then cancelled with `error.code: shutdown`. Only then is the
runtime stopped, which flushes state writes and closes the state store.

`drain` may be started early by the server's signal handler (so that the
drain happens while requests are still answered) and is idempotent: the
lifespan's `finally` awaits the same drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pykka

from interlace.runtime.messages import RunRequest
from interlace.service.bridge import BridgeTimeout, LoopRelay
from interlace.service.state import Phase, ServiceState
from interlace.state.owner import current_owner

__all__ = ["drain", "service_lifespan"]

logger = logging.getLogger(__name__)

SHUTDOWN_REASON = "the service is shutting down"
CANCEL_WAIT_S = 15.0
"""How long cancelled runs may take to reach a terminal status."""
_POLL_S = 0.05


@contextlib.asynccontextmanager
async def service_lifespan(state: ServiceState, app: Any = None) -> AsyncIterator[None]:
    """The Litestar lifespan of a service (use `functools.partial(..., state)`)."""
    try:
        try:
            await _start(state)
        except BaseException as exc:
            state.startup_error = exc
            raise
        yield
    finally:
        await _stop(state)


async def drain(state: ServiceState) -> None:
    """Stop accepting work and let runs finish or cancel them; idempotent."""
    if state.drain_task is None:
        state.drain_task = asyncio.ensure_future(_drain(state))
    await asyncio.shield(state.drain_task)


async def _start(state: ServiceState) -> None:
    await state.gateway.start()
    relay = LoopRelay(asyncio.get_running_loop())
    relay.add(state.activity.consume)
    await state.gateway.subscribe(relay)
    state.relay = relay
    state.activity.seed(await state.gateway.open_runs())
    for hook in state.on_startup:
        await hook(state)
    if state.phase == Phase.STARTING:
        # A signal during start-up may already have begun the drain.
        state.phase = Phase.SERVING
    if state.options.advertise:
        _write_service_file(state)
    logger.info("Interlace service ready at %s", state.url)
    if state.options.run_on_start:
        await _run_on_start(state)


async def _run_on_start(state: ServiceState) -> None:
    """`serve --run`: one non-forced run of every model, as an `api` run."""
    request = RunRequest(trigger_type="api", created_by="serve --run")
    submitted = await state.gateway.submit(request)
    logger.info(
        "started run %s of %d model(s)", submitted.run_id, len(submitted.models)
    )


async def _stop(state: ServiceState) -> None:
    try:
        if state.phase != Phase.STARTING:
            await drain(state)
        if state.relay is not None:
            relay, state.relay = state.relay, None
            await _unsubscribe(state, relay)
    finally:
        try:
            await state.gateway.stop()
        finally:
            state.phase = Phase.STOPPED
            remove_service_file(state)
            logger.info("Interlace service stopped")


async def _unsubscribe(state: ServiceState, relay: LoopRelay) -> None:
    """Detach from the event bus; a bus that is already gone is no error."""
    try:
        await state.gateway.unsubscribe(relay)
    except (pykka.ActorDeadError, RuntimeError, BridgeTimeout) as exc:
        logger.warning("could not unsubscribe from the event bus: %s", exc)


async def _drain(state: ServiceState) -> None:
    state.phase = Phase.DRAINING
    logger.info("draining: no new work is accepted")
    for hook in state.on_drain:
        try:
            await hook(state)
        except Exception:
            logger.exception("a drain hook failed; continuing the shutdown")
    own = await _own_open_runs(state)
    grace = state.settings.grace_seconds
    if own and not await _wait_for_runs(state, own, grace):
        await _cancel(state, own & state.activity.open_runs)
        if not await _wait_for_runs(state, own, CANCEL_WAIT_S):
            left = sorted(own & state.activity.open_runs)
            logger.warning("runs still open after cancelling: %s", left)
    await state.gateway.flush()


async def _own_open_runs(state: ServiceState) -> frozenset[str]:
    """Open runs executed by this process (a CLI process may own others)."""
    await state.gateway.flush()
    owner = current_owner()
    runs = await state.gateway.open_runs()
    return frozenset(run.run_id for run in runs if run.owner == owner)


async def _wait_for_runs(
    state: ServiceState, runs: frozenset[str], timeout: float
) -> bool:
    """True when none of `runs` is open any more within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    logger.info("waiting up to %.0f s for %d run(s) to finish", timeout, len(runs))
    while runs & state.activity.open_runs and time.monotonic() < deadline:
        await asyncio.sleep(_POLL_S)
    return not runs & state.activity.open_runs


async def _cancel(state: ServiceState, runs: frozenset[str]) -> None:
    for run_id in sorted(runs):
        logger.warning("cancelling run %s: %s", run_id, SHUTDOWN_REASON)
        await state.gateway.cancel(run_id, SHUTDOWN_REASON, code="shutdown")


class _ServiceFile(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    pid: int


def _write_service_file(state: ServiceState) -> None:
    """`.interlace/service.json`: how the CLI finds the running service."""
    path = state.service_file
    path.parent.mkdir(parents=True, exist_ok=True)
    document = _ServiceFile(url=state.url, pid=os.getpid())
    temporary = path.with_suffix(".json.tmp")
    temporary.write_bytes(msgspec.json.format(msgspec.json.encode(document)))
    temporary.replace(path)


def remove_service_file(state: ServiceState) -> None:
    """Remove service.json if it is ours (another process may have replaced it)."""
    if not state.options.advertise:
        return
    path = state.service_file
    try:
        document = msgspec.json.decode(path.read_bytes(), type=_ServiceFile)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return
    if document.pid == os.getpid():
        path.unlink(missing_ok=True)
