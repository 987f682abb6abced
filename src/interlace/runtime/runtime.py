"""The runtime: starts the actors and services of one process, and stops them.

The CLI, the programmatic API and the service all drive runs through this one
class. Its methods block the calling thread (pykka asks with timeouts), so
async callers must use them from a worker thread, never on an event loop.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, cast

import pykka

from interlace.config import ProjectConfig
from interlace.engine.project import Project
from interlace.errors import ConfigError
from interlace.runtime import messages as msg
from interlace.runtime.event_bus import EventBus, Listener, Subscribe, Unsubscribe
from interlace.runtime.model_states import ModelStates, Watermarks
from interlace.runtime.run_manager import RunManager, Submitted, cancel_message
from interlace.runtime.scheduler import Clock, SchedulerHandle, start_scheduler
from interlace.runtime.services import RunServices
from interlace.state import open_state_store
from interlace.state.batching import BatchingWriter
from interlace.state.records import EventRecord
from interlace.state.recovery import recover_abandoned_runs
from interlace.state.store import StateStore
from interlace.state.writes import Write
from interlace.warehouse.database import AttachSpec, DuckDBWarehouse

__all__ = ["Runtime"]

logger = logging.getLogger(__name__)

ASK_TIMEOUT_S = 30.0


class Runtime:
    """Owns the state store, warehouses, worker pool and actors of a process."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._store: StateStore | None = None
        self._warehouses: dict[str, DuckDBWarehouse] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._writer: BatchingWriter | None = None
        self._bus: pykka.ActorRef[Any] | None = None
        self._manager: pykka.ActorRef[Any] | None = None
        self._scheduler: SchedulerHandle | None = None

    @property
    def store(self) -> StateStore:
        if self._store is None:
            raise RuntimeError("runtime is not started")
        return self._store

    @property
    def warehouses(self) -> dict[str, DuckDBWarehouse]:
        """The open warehouses by connection name (a copy; for health probes)."""
        return dict(self._warehouses)

    def start(self) -> Runtime:
        config = self.project.config
        self._store = open_state_store(config.state_backend, config.state_path)
        recovered = recover_abandoned_runs(self._store)
        if recovered:
            logger.warning(
                "closed %d run(s) left open by a dead process", len(recovered)
            )
        self._warehouses = open_warehouses(config)
        self._bus = EventBus.start()
        bus = self._bus
        self._writer = BatchingWriter(
            self._store, on_events=lambda events: _forward(bus, events)
        )
        self._pool = ThreadPoolExecutor(
            config.executor.max_workers, thread_name_prefix="interlace-worker"
        )
        services = RunServices(
            project=self.project,
            writer=self._writer,
            warehouses=self._warehouses,
            pool=self._pool,
            model_states=ModelStates(self._store.model_states()),
            watermarks=Watermarks(self._store.watermarks()),
        )
        self._manager = RunManager.start(services)
        logger.debug("runtime started for %s", config.project_dir)
        return self

    def submit(self, request: msg.RunRequest) -> Submitted:
        """Create a run; raises `SelectionError` for unknown models."""
        result = self._require_manager().ask(
            msg.SubmitRun(request=request), timeout=ASK_TIMEOUT_S
        )
        return cast(Submitted, result)

    def cancel(
        self, run_id: str, reason: str = "cancelled by user", *, code: str = "cancelled"
    ) -> bool:
        """Ask a live run to cancel; False when it is not running here.

        `code` becomes the run's `error.code` (`shutdown` when the service stops).
        """
        cancel = msg.Cancel(reason=reason, code=code)
        answer = self._require_manager().ask(
            cancel_message(run_id, cancel), timeout=ASK_TIMEOUT_S
        )
        return bool(answer)

    def subscribe(self, listener: Listener) -> None:
        self._require_bus().ask(Subscribe(listener=listener), timeout=ASK_TIMEOUT_S)

    def unsubscribe(self, listener: Listener) -> None:
        self._require_bus().ask(Unsubscribe(listener=listener), timeout=ASK_TIMEOUT_S)

    def flush(self, timeout: float = ASK_TIMEOUT_S) -> None:
        """Wait until every queued state write is durable."""
        if self._writer is not None:
            self._writer.flush(timeout)

    def write(self, writes: Sequence[Write]) -> None:
        """Queue state writes (events, scheduler state); never blocks."""
        if self._writer is None:
            raise RuntimeError("runtime is not started")
        self._writer.submit_many(list(writes))

    def start_scheduler(
        self, *, firing: bool = True, clock: Clock | None = None
    ) -> SchedulerHandle:
        """Start the scheduler (§9); `firing=False` only answers and persists."""
        if self._scheduler is None:
            self._scheduler = start_scheduler(
                project=self.project,
                store=self.store,
                submit=self.submit,
                write=self.write,
                firing=firing,
                clock=clock,
            )
        return self._scheduler

    @property
    def scheduler(self) -> SchedulerHandle | None:
        """The scheduler if `start_scheduler` was called, else None."""
        return self._scheduler

    def stop(self, timeout: float = ASK_TIMEOUT_S) -> None:
        """Stop actors, finish queued writes and close every connection."""
        # The scheduler first: a fire in progress still finds the run manager.
        if self._scheduler is not None:
            self._scheduler.stop(timeout)
            self._scheduler = None
        if self._manager is not None:
            self._manager.stop(timeout=timeout)
            self._manager = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._writer is not None:
            self._writer.close(timeout)
            self._writer = None
        if self._bus is not None:
            self._bus.stop(timeout=timeout)
            self._bus = None
        for warehouse in self._warehouses.values():
            warehouse.close()
        self._warehouses = {}
        if self._store is not None:
            self._store.close()
            self._store = None
        logger.debug("runtime stopped")

    def __enter__(self) -> Runtime:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _require_manager(self) -> pykka.ActorRef[Any]:
        if self._manager is None:
            raise RuntimeError("runtime is not started")
        return self._manager

    def _require_bus(self) -> pykka.ActorRef[Any]:
        if self._bus is None:
            raise RuntimeError("runtime is not started")
        return self._bus


def open_warehouses(config: ProjectConfig) -> dict[str, DuckDBWarehouse]:
    """Open and probe every connection; any failure aborts start-up."""
    warehouses: dict[str, DuckDBWarehouse] = {}
    for name, connection in config.connections.items():
        if connection.type != "duckdb":
            raise ConfigError(
                f"connections.{name}.type: PostgreSQL warehouses are not supported "
                "by this version; use a DuckDB connection",
                path=config.project_dir / "config.yaml",
            )
        attach = [AttachSpec(**_attach_fields(entry)) for entry in connection.attach]
        warehouse = DuckDBWarehouse(
            connection.path, attach, read_only=connection.access == "read"
        )
        if not warehouse.probe():
            raise ConfigError(f"connections.{name}: the warehouse did not answer")
        warehouses[name] = warehouse
    return warehouses


def _attach_fields(entry: Any) -> dict[str, Any]:
    fields = AttachSpec.__struct_fields__
    return {field: getattr(entry, field) for field in fields if hasattr(entry, field)}


def _forward(bus: pykka.ActorRef[Any], events: list[EventRecord]) -> None:
    if events:
        bus.tell(msg.EventsPersisted(events=events))
