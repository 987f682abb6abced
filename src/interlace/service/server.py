"""`run_service`: serve a project over HTTP with granian until a signal.

Granian runs embedded in this process (one worker, ASGI), on this process's
event loop, so the actor system and the app live in the same process, the
app is built here and the signal handling is ours:

1. First SIGTERM or SIGINT: the service drains while it keeps answering
   (`/api/v1/ready` 503, mutating requests 503, runs get
   `service.shutdown.grace_seconds`, then are cancelled), then granian
   stops and the lifespan stops the runtime and closes the state store.
2. A second signal exits at once with status 1; runs left open are
   recovered as `process_crashed` by the next start (SPEC §5.6).

`.interlace/service.json` (`url`, `pid`) exists while the service is ready.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Sequence
from pathlib import Path

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server

from interlace.service.app import create_app
from interlace.service.lifecycle import drain, remove_service_file
from interlace.service.state import ServiceState

__all__ = ["run_service", "serve"]

logger = logging.getLogger(__name__)

_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_REQUEST_SLOTS = 256
"""Concurrent non-SSE requests granian accepts beside the SSE streams."""


def run_service(
    project_dir: str | Path = ".",
    env: str | None = None,
    host: str | None = None,
    port: int | None = None,
    cors_origins: Sequence[str] | None = None,
    *,
    run_on_start: bool = False,
    scheduler: bool = True,
    ui: bool = True,
) -> None:
    """Serve the project until SIGTERM or SIGINT.

    `host` and `port` default to `service.host` and `service.port` (else
    127.0.0.1:8080). `run_on_start` submits one non-forced run of every
    model as an `api` run once the service is ready. Configuration errors
    (`ConfigError`, `DiscoveryError`) are raised before anything listens.
    """
    state = ServiceState.load(
        project_dir,
        env,
        host,
        port,
        cors_origins,
        run_on_start=run_on_start,
        scheduler=scheduler,
        ui=ui,
        advertise=True,
    )
    asyncio.run(serve(state))


async def serve(state: ServiceState) -> None:
    """Serve `state` on its host and port until a signal; see the module doc."""
    server = Server(
        create_app(state),
        address=state.options.host,
        port=state.options.port,
        interface=Interfaces.ASGI,
        log_level=LogLevels.error,
        log_access=False,
        # Each open SSE connection holds one of granian's concurrent request
        # slots (`backpressure`, 128 by default when embedded): leave room for
        # `service.sse.max_subscribers` streams plus ordinary requests.
        backlog=1024,
        backpressure=state.settings.sse.max_subscribers + _REQUEST_SLOTS,
    )
    loop = asyncio.get_running_loop()
    shutdown = _Shutdown(state, server)
    for signum in _SIGNALS:
        loop.add_signal_handler(signum, shutdown.on_signal, signum)
    try:
        await server.serve()
    finally:
        for signum in _SIGNALS:
            loop.remove_signal_handler(signum)
        remove_service_file(state)
    if state.startup_error is not None:
        raise state.startup_error


class _Shutdown:
    def __init__(self, state: ServiceState, server: Server) -> None:
        self._state = state
        self._server = server
        self._task: asyncio.Task[None] | None = None

    def on_signal(self, signum: int) -> None:
        name = signal.Signals(signum).name
        if self._task is not None:
            logger.warning("%s again: exiting at once", name)
            remove_service_file(self._state)
            os._exit(1)
        logger.info("%s received: shutting down gracefully", name)
        self._task = asyncio.ensure_future(self._shutdown())

    async def _shutdown(self) -> None:
        try:
            await drain(self._state)
        except Exception:
            logger.exception("draining failed; stopping anyway")
        finally:
            self._server.stop()  # type: ignore[no-untyped-call]
