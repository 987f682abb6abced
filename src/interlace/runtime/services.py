"""The shared parts of the runtime that actors receive at construction."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from interlace.engine.project import Project
from interlace.runtime.model_states import ModelStates, Watermarks
from interlace.state.batching import BatchingWriter
from interlace.state.writes import Write
from interlace.warehouse.database import DuckDBWarehouse

__all__ = ["RunServices"]


class RunServices:
    """Long-lived collaborators shared by the run manager and supervisors.

    Not a message: it holds live objects (pool, writer, warehouses) and is
    handed to actors once, when they are created.
    """

    def __init__(
        self,
        *,
        project: Project,
        writer: BatchingWriter,
        warehouses: dict[str, DuckDBWarehouse],
        pool: ThreadPoolExecutor,
        model_states: ModelStates,
        watermarks: Watermarks,
    ) -> None:
        self.project = project
        self.writer = writer
        self.warehouses = warehouses
        self.pool = pool
        self.model_states = model_states
        self.watermarks = watermarks

    def write(self, writes: Sequence[Write]) -> None:
        """Queue writes for the state writer; never blocks."""
        self.writer.submit_many(list(writes))

    def warehouse_for(self, connection: str | None) -> DuckDBWarehouse:
        name = connection or self.project.config.default_connection
        return self.warehouses[name]
