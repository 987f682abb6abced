"""The validated, immutable description of one model.

Python decorators, SQL headers and stream declarations all end up as a
`ModelDefinition`. Everything downstream (graph, hashing, execution, state,
API) reads this struct and nothing else, so validation happens exactly once,
at discovery time.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from interlace.retry import RetryPolicy

__all__ = [
    "DeleteMode",
    "Materialise",
    "ModelDefinition",
    "ModelType",
    "SchemaMode",
    "Strategy",
]


class ModelType(enum.StrEnum):
    PYTHON = "python"
    """A function decorated with `@model`."""
    SQL = "sql"
    """A query in a `.sql` file."""
    STREAM = "stream"
    """A function decorated with `@stream`; its table receives published events."""


class Materialise(enum.StrEnum):
    TABLE = "table"
    """A table written by the model's strategy."""
    VIEW = "view"
    """A view replaced when its compiled SQL changes."""
    EPHEMERAL = "ephemeral"
    """A temporary table visible to dependants within one run."""
    NONE = "none"
    """Nothing is persisted; data is handed to dependants within one run."""


class Strategy(enum.StrEnum):
    REPLACE = "replace"
    """Replace every row in one transaction."""
    APPEND = "append"
    """Insert rows, matching columns by name."""
    MERGE_BY_KEY = "merge_by_key"
    """Upsert on the primary key."""
    SCD_TYPE_2 = "scd_type_2"
    """Keep versioned history with exactly one current row per key."""
    NONE = "none"
    """Same as replace; spelled out for models that declare no strategy."""


class DeleteMode(enum.StrEnum):
    PRESERVE = "preserve"
    """`merge_by_key` never deletes target rows."""
    DELETE_MISSING = "delete_missing"
    """`merge_by_key` deletes target rows whose key is absent from the batch."""


class SchemaMode(enum.StrEnum):
    STRICT = "strict"
    """Any difference from the recorded schema is an error."""
    SAFE = "safe"
    """Additions and safe widenings are applied; other changes are errors."""
    FLEXIBLE = "flexible"
    """Changes are allowed; incompatible types are cast or fail."""
    LENIENT = "lenient"
    """Changes are allowed; incompatible types rebuild the table."""
    IGNORE = "ignore"
    """The schema is not validated."""


class ModelDefinition(msgspec.Struct, frozen=True, kw_only=True):
    """One model, with every default applied and every option validated."""

    name: str
    type: ModelType
    schema: str
    connection: str | None
    """Connection name, or None for the project's default connection."""
    materialise: Materialise = Materialise.TABLE
    strategy: Strategy | None = None
    primary_key: tuple[str, ...] = ()
    dependencies: tuple[str, ...] = ()
    """Every upstream name: graph edges and external tables alike."""
    dependencies_declared: bool = False
    """True when `dependencies=` replaced inference."""
    fields: dict[str, str] | None = None
    """Column name to canonical type (see `interlace.types`)."""
    strict: bool = False
    column_mapping: dict[str, str] | None = None
    schema_mode: SchemaMode = SchemaMode.SAFE
    cursor: str | None = None
    schedule: dict[str, Any] | None = None
    retry: RetryPolicy | None = None
    """None means the project's default policy."""
    delete_mode: DeleteMode = DeleteMode.PRESERVE
    scd2_config: dict[str, Any] | None = None
    column_lineage: dict[str, Any] | None = None
    checks: Any = None
    incremental: Any = None
    description: str = ""
    tags: tuple[str, ...] = ()
    owner: str | None = None
    path: Path | None = None
    line: int | None = None
    sql: str | None = None
    """The query of a SQL model."""
    function: Callable[..., Any] | None = None
    """The original function of a Python model (never executed for streams)."""
    parameters: tuple[str, ...] = ()
    """Python parameters that name upstream models, in signature order."""
    optional_parameters: frozenset[str] = frozenset()
    """Parameters with a default: a missing external table is not an error."""
    injects_connection: bool = False
    injects_context: bool = False
    stream_options: dict[str, Any] | None = None
    """Stream-only options (auth, rate limit, retention...) as declared."""

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def effective_strategy(self) -> Strategy:
        return self.strategy or Strategy.REPLACE
