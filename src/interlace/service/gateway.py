"""The service's async view of one runtime: every call crosses the bridge.

Controllers and services never touch the `Runtime`, its state store or its
warehouses themselves; they await a method here, which runs the blocking
work on a worker thread under a deadline (`interlace.service.bridge`).
Reads that need several store calls (a page of tasks and their runs) are
done in one worker call so they cost one thread hop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import pykka

from interlace.engine.definition import Materialise, ModelDefinition
from interlace.errors import InterlaceError
from interlace.runtime.event_bus import EventBus, Listener
from interlace.runtime.messages import RunRequest
from interlace.runtime.run_manager import RunManager, Submitted
from interlace.runtime.runtime import Runtime
from interlace.runtime.status import TaskStatus
from interlace.service import bridge
from interlace.state.records import (
    EventRecord,
    ModelStateRecord,
    RunRecord,
    SchemaVersionRecord,
    TaskRecord,
)
from interlace.state.writes import UpdateRun
from interlace.warehouse.boundary import duckdb_errors
from interlace.warehouse.identifiers import qualified

__all__ = ["RuntimeGateway", "TaskPage"]

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0
START_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 60.0
_PROBE_RUN_ID = "run_readyprobe00"
"""An id no run has (ids are 12 hex digits); updating it writes nothing."""

TaskPage = tuple[list[tuple[TaskRecord, RunRecord | None]], int]
"""Tasks with their runs (None when the run is gone) and the total count."""


class RuntimeGateway:
    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    # --- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        await bridge.call(self._runtime.start, timeout=START_TIMEOUT_S)

    async def stop(self) -> None:
        await bridge.call(self._runtime.stop, timeout=STOP_TIMEOUT_S)

    async def subscribe(self, listener: Listener) -> None:
        await bridge.call(self._runtime.subscribe, listener)

    async def unsubscribe(self, listener: Listener) -> None:
        await bridge.call(self._runtime.unsubscribe, listener)

    async def flush(self) -> None:
        await bridge.call(self._runtime.flush, timeout=STOP_TIMEOUT_S)

    # --- runs --------------------------------------------------------------

    async def submit(self, request: RunRequest) -> Submitted:
        """Create a run. `Submitted.outcome` is a thread future: wait on it
        only through `bridge.call`, never on the loop."""
        return await bridge.call(self._runtime.submit, request)

    async def cancel(
        self, run_id: str, reason: str, *, code: str = "cancelled"
    ) -> bool:
        def cancel() -> bool:
            return self._runtime.cancel(run_id, reason, code=code)

        return await bridge.call(cancel)

    async def open_runs(self) -> list[RunRecord]:
        return await bridge.call(self._runtime.store.open_runs)

    # --- event log (SSE replay) --------------------------------------------

    async def read_events(self, after_id: int, limit: int) -> list[EventRecord]:
        """Up to `limit` logged events with `id > after_id`, ascending."""

        def read() -> list[EventRecord]:
            return self._runtime.store.read_events(after_id, limit=limit)

        return await bridge.call(read)

    async def event_bounds(self) -> tuple[int | None, int | None]:
        """The oldest and newest retained event ids (None when empty)."""
        return await bridge.call(self._runtime.store.event_bounds)

    # --- models ------------------------------------------------------------

    async def model_state(self, name: str) -> ModelStateRecord | None:
        return await bridge.call(self._runtime.store.get_model_state, name)

    async def latest_schema_version(self, name: str) -> SchemaVersionRecord | None:
        return await bridge.call(self._runtime.store.latest_schema_version, name)

    async def model_tasks(self, name: str, limit: int, offset: int) -> TaskPage:
        return await bridge.call(self._tasks_with_runs, name, limit, offset)

    async def completed_durations(self, name: str, count: int = 100) -> list[float]:
        """Durations of the latest `count` completed tasks of `name`, newest first."""
        return await bridge.call(self._completed_durations, name, count)

    async def row_count(self, definition: ModelDefinition) -> int | None:
        """Rows in the model's table; None for non-tables or a missing table."""
        if definition.materialise != Materialise.TABLE:
            return None
        return await bridge.call(self._row_count, definition)

    # --- probes ------------------------------------------------------------

    async def probe_connections(self) -> dict[str, bool]:
        """Whether each warehouse answers `SELECT 1` within the probe timeout."""
        results = {}
        for name, warehouse in self._runtime.warehouses.items():
            try:
                results[name] = await bridge.call(
                    warehouse.probe, timeout=PROBE_TIMEOUT_S
                )
            except bridge.BridgeTimeout:
                results[name] = False
        return results

    async def store_accepts_write(self) -> bool:
        """Run an empty write transaction (it takes the write lock, then commits)."""
        noop = UpdateRun(run_id=_PROBE_RUN_ID, changes={})
        try:
            await bridge.call(
                self._runtime.store.apply, [noop], timeout=PROBE_TIMEOUT_S
            )
        except InterlaceError as exc:
            logger.warning("state store refused the readiness write: %s", exc)
            return False
        return True

    async def actors_alive(self) -> bool:
        return await bridge.call(_actors_alive, timeout=PROBE_TIMEOUT_S)

    # --- blocking helpers (run on worker threads) --------------------------

    def _tasks_with_runs(self, name: str, limit: int, offset: int) -> TaskPage:
        store = self._runtime.store
        tasks, total = store.model_tasks(name, limit=limit, offset=offset)
        runs = {run_id: store.get_run(run_id) for run_id in {t.run_id for t in tasks}}
        return [(task, runs[task.run_id]) for task in tasks], total

    def _completed_durations(self, name: str, count: int) -> list[float]:
        store = self._runtime.store
        durations: list[float] = []
        offset, page = 0, max(count * 2, 50)
        # Bounded: failed and skipped tasks are passed over, at most 10 pages.
        for _ in range(10):
            tasks, total = store.model_tasks(name, limit=page, offset=offset)
            durations.extend(_durations(tasks))
            offset += len(tasks)
            if len(durations) >= count or offset >= total or not tasks:
                break
        return durations[:count]

    def _row_count(self, definition: ModelDefinition) -> int | None:
        config = self._runtime.project.config
        connection = definition.connection or config.default_connection
        warehouse = self._runtime.warehouses.get(connection)
        if warehouse is None:
            return None
        cursor = warehouse.cursor()
        try:
            kind = warehouse.relation_kind(cursor, definition.schema, definition.name)
            if kind != "table":
                return None
            target = qualified(definition.schema, definition.name)
            with duckdb_errors(model=definition.name, action="counting rows"):
                row = cursor.execute(f"SELECT count(*) FROM {target}").fetchone()
        finally:
            cursor.close()
        return None if row is None else int(row[0])


def _durations(tasks: Iterable[TaskRecord]) -> list[float]:
    return [
        (task.completed_at - task.started_at).total_seconds()
        for task in tasks
        if task.status == TaskStatus.COMPLETED
        and task.started_at is not None
        and task.completed_at is not None
    ]


def _actors_alive() -> bool:
    """The run manager and the event bus of this process are running."""
    managers = pykka.ActorRegistry.get_by_class(RunManager)
    buses = pykka.ActorRegistry.get_by_class(EventBus)
    return any(ref.is_alive() for ref in managers) and any(
        ref.is_alive() for ref in buses
    )
