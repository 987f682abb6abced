"""The validated project configuration as frozen structs.

`ProjectConfig` carries both the typed settings the engine needs and `raw`,
the resolved mapping, so that user code and other components can read keys
this module does not model (`service`, `streams`, `logging`, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from interlace.retry import RetryPolicy

__all__ = [
    "AttachConfig",
    "ConnectionConfig",
    "ExecutorConfig",
    "ProjectConfig",
    "lookup",
]

_MISSING: Any = object()


class AttachConfig(msgspec.Struct, frozen=True, kw_only=True):
    """A database attached to every task connection of a DuckDB connection."""

    name: str
    """Catalog name used in queries, e.g. `pg` in `pg.public.customers`."""
    type: str
    """`postgres`, `mysql`, `sqlite`, `duckdb` or `ducklake`."""
    read_only: bool = False
    path: str | None = None
    """File of a `sqlite` or `duckdb` attachment, absolute unless `:memory:`."""
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    """`host`, `port`, `user`, `password`, `database` of `postgres`/`mysql`."""
    catalog: str | None = None
    """Metadata catalog of a `ducklake` attachment."""
    data_path: str | None = None


class ConnectionConfig(msgspec.Struct, frozen=True, kw_only=True):
    """One warehouse connection declared under `connections`."""

    name: str
    type: str
    """`duckdb` or `postgres`."""
    access: str = "readwrite"
    """`readwrite`, or `read` (models may not materialise into it)."""
    path: str = ":memory:"
    """DuckDB database file, absolute unless `:memory:`; the parent directory
    is created by whoever opens the connection, not by the loader."""
    attach: tuple[AttachConfig, ...] = ()
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    """PostgreSQL connection settings (`port` defaults to 5432)."""
    pool: dict[str, Any] = msgspec.field(default_factory=dict)
    """PostgreSQL pool settings (`max_size` 20, `timeout` 10 s)."""

    @property
    def read_only(self) -> bool:
        return self.access == "read"


class ExecutorConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Limits of the task executor (`executor` section)."""

    max_workers: int
    """Resolved worker count; `auto` means min(32, 2 x CPU + 4)."""
    max_concurrent_runs: int = 4
    task_timeout_s: float | None = None
    progress_interval_s: float = 2.0
    task_log_max_lines: int = 10000


class ProjectConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The loaded configuration of one project in one environment."""

    project_dir: Path
    env: str
    raw: dict[str, Any]
    """The merged, interpolated mapping as written (no defaults filled in)."""
    name: str
    description: str = ""
    models_dir: Path
    state_backend: str = "sqlite"
    state_path: Path
    default_schema: str = "public"
    default_materialise: str = "table"
    streams_default_schema: str = "events"
    connections: dict[str, ConnectionConfig]
    default_connection: str
    executor: ExecutorConfig
    retry: RetryPolicy = RetryPolicy.NONE
    """Project default policy; retries are opt-in, so no `retry` key means
    `RetryPolicy.NONE` rather than `RetryPolicy.DEFAULT`."""
    scheduler_enabled: bool = True
    scheduler_timezone: str = "UTC"
    files: tuple[Path, ...] = ()
    """The configuration files that were read, base first."""

    def __getitem__(self, key: str) -> Any:
        return self.raw[key]

    def get(self, dotted: str, default: Any = None) -> Any:
        """The value at a dotted path (`"service.auth.enabled"`), or `default`."""
        return lookup(self.raw, dotted, default)

    def connection(self, name: str | None = None) -> ConnectionConfig:
        """The named connection, or the default one when `name` is None."""
        return self.connections[name or self.default_connection]


def lookup(mapping: dict[str, Any], dotted: str, default: Any = None) -> Any:
    """Walk `dotted` through nested mappings; integer parts index lists."""
    current: Any = mapping
    for part in dotted.split("."):
        current = _step(current, part)
        if current is _MISSING:
            return default
    return current


def _step(current: Any, part: str) -> Any:
    if isinstance(current, dict):
        return current.get(part, _MISSING)
    if isinstance(current, list) and part.isdigit() and int(part) < len(current):
        return current[int(part)]
    return _MISSING
