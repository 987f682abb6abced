"""What one service process shares between requests.

`ServiceState` is created before the app (so configuration errors stop the
service before it listens) and handed to `create_app`; the runtime inside
it starts in the app's lifespan. Colleagues' components hook in here: the
scheduler and stream triggers register `on_startup` and `on_drain`
callbacks, SSE endpoints use `relay` and update the `sse_subscribers` gauge.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import msgspec

from interlace.engine.project import Project
from interlace.runtime.runtime import Runtime
from interlace.service.activity import RunActivity
from interlace.service.bridge import LoopRelay
from interlace.service.gateway import RuntimeGateway
from interlace.service.metrics import ServiceMetrics
from interlace.service.settings import ServiceSettings, service_settings

__all__ = ["Hook", "Phase", "ServiceOptions", "ServiceState"]

Hook = Callable[["ServiceState"], Awaitable[None]]


class Phase(enum.StrEnum):
    STARTING = "starting"
    """The lifespan is starting the runtime; nothing is served yet."""
    SERVING = "serving"
    """Ready: requests of every kind are accepted."""
    DRAINING = "draining"
    """Shutting down: reads answer, new work gets 503, runs get their grace."""
    STOPPED = "stopped"
    """The runtime is stopped."""


class ServiceOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How `run_service` (or a test) asked for the service to run."""

    host: str
    port: int
    cors_origins: tuple[str, ...] = ()
    """Added to `service.cors_origins` (the `cors_origins` argument)."""
    run_on_start: bool = False
    scheduler: bool = True
    ui: bool = True
    advertise: bool = False
    """Write `.interlace/service.json` while serving (real servers only)."""


class ServiceState:
    def __init__(
        self, project: Project, settings: ServiceSettings, options: ServiceOptions
    ) -> None:
        self.project = project
        self.settings = settings
        self.options = options
        self.metrics = ServiceMetrics()
        self.activity = RunActivity(self.metrics)
        self.runtime = Runtime(project)
        self.gateway = RuntimeGateway(self.runtime)
        self.phase = Phase.STARTING
        self.started_at = time.monotonic()
        self.relay: LoopRelay | None = None
        """Set once the runtime has started; event batches arrive on the loop."""
        self.scheduler_running = False
        """Set by the scheduler component while it fires triggers."""
        self.on_startup: list[Hook] = []
        """Awaited after the runtime started, before the first request."""
        self.on_drain: list[Hook] = []
        """Awaited first when shutdown begins (stop triggers, close streams)."""
        self.drain_task: asyncio.Task[None] | None = None
        self.startup_error: BaseException | None = None
        """Why the lifespan failed to start, for the server to re-raise."""

    @classmethod
    def load(
        cls,
        project_dir: str | Path = ".",
        env: str | None = None,
        host: str | None = None,
        port: int | None = None,
        cors_origins: Sequence[str] | None = None,
        *,
        run_on_start: bool = False,
        scheduler: bool = True,
        ui: bool = True,
        advertise: bool = False,
    ) -> ServiceState:
        """Load the project and validate `service`; raises before anything starts.

        `host` and `port` override `service.host` and `service.port`.
        """
        project = Project.load(Path(project_dir), env)
        settings = service_settings(project.config)
        options = ServiceOptions(
            host=host or settings.host,
            port=port or settings.port,
            cors_origins=tuple(cors_origins or ()),
            run_on_start=run_on_start,
            scheduler=scheduler,
            ui=ui,
            advertise=advertise,
        )
        return cls(project, settings, options)

    @property
    def draining(self) -> bool:
        return self.phase in (Phase.DRAINING, Phase.STOPPED)

    @property
    def uptime_seconds(self) -> float:
        return time.monotonic() - self.started_at

    @property
    def cors_origins(self) -> tuple[str, ...]:
        return (*self.settings.cors_origins, *self.options.cors_origins)

    @property
    def url(self) -> str:
        """Where local clients reach the service (wildcard binds -> loopback)."""
        host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(
            self.options.host, self.options.host
        )
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.options.port}"

    @property
    def service_file(self) -> Path:
        return self.project.config.project_dir / ".interlace" / "service.json"

    @property
    def subscribers(self) -> int:
        """Open SSE connections, as the SSE endpoints count them in metrics."""
        return int(self.metrics.sse_subscribers.total())
