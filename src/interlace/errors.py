"""The Interlace exception tree.

Every error Interlace raises on purpose derives from `InterlaceError`. Subclasses
exist only where a caller handles them differently; context travels as
attributes so that the CLI and the service can render it without parsing text.

    InterlaceError
    ├── ConfigError                 configuration cannot be loaded or is invalid
    ├── DiscoveryError              a model definition is invalid (file, line)
    │   └── CycleError              the model graph has a cycle (path)
    ├── SelectionError              a selector names unknown models
    ├── StateStoreError             the state store failed (SQLite, migrations)
    ├── WarehouseError              the warehouse failed (DuckDB)
    └── TaskError                   a task failed; carries the model name
        ├── MissingDependency       an upstream or external table is absent
        ├── UnsupportedReturnType   a Python model returned something unusable
        ├── SchemaInferenceError    no schema could be derived or batches differ
        ├── SchemaEvolutionError    the result schema breaks the schema mode
        ├── WriteError              a strategy could not write the result
        ├── TaskTimeout             the task exceeded `executor.task_timeout_s`
        └── TaskCancelled           the run was cancelled while the task ran
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ConfigError",
    "CycleError",
    "DiscoveryError",
    "InterlaceError",
    "MissingDependency",
    "SchemaEvolutionError",
    "SchemaInferenceError",
    "SelectionError",
    "StateStoreError",
    "TaskCancelled",
    "TaskError",
    "TaskTimeout",
    "UnsupportedReturnType",
    "WarehouseError",
    "WriteError",
]


class InterlaceError(Exception):
    """Root of every error Interlace raises deliberately."""

    #: Stable machine-readable code, used by the API's problem details.
    code = "INTERLACE_ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(InterlaceError):
    """The configuration cannot be loaded or is invalid."""

    code = "CONFIG_ERROR"

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(_located(message, path, line, column))
        self.path = path
        self.line = line
        self.column = column


class DiscoveryError(InterlaceError):
    """A model definition is invalid; raised before anything runs."""

    code = "DISCOVERY_ERROR"

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        model: str | None = None,
    ) -> None:
        super().__init__(_located(message, path, line, None))
        self.reason = message
        self.path = path
        self.line = line
        self.model = model


class CycleError(DiscoveryError):
    """The dependency graph has a cycle; `cycle` lists it, first name repeated."""

    code = "CYCLE"

    def __init__(
        self, cycle: list[str], *, path: Path | None = None, line: int | None = None
    ) -> None:
        super().__init__(
            "dependency cycle: " + " -> ".join(cycle), path=path, line=line
        )
        self.cycle = cycle


class SelectionError(InterlaceError):
    """A model selector names models that do not exist."""

    code = "VALIDATION_ERROR"

    def __init__(self, invalid: list[str], available: list[str]) -> None:
        super().__init__(f"Unknown models: {invalid!r}")
        self.invalid = invalid
        self.available = available


class StateStoreError(InterlaceError):
    """The state store could not complete an operation."""

    code = "DATABASE_ERROR"


class WarehouseError(InterlaceError):
    """The warehouse could not complete an operation."""

    code = "DATABASE_ERROR"


class TaskError(InterlaceError):
    """A task failed; `model` names the model that was executing."""

    code = "EXECUTION_ERROR"

    def __init__(self, message: str, *, model: str | None = None) -> None:
        super().__init__(message)
        self.model = model


class MissingDependency(TaskError):
    """An upstream model or external table does not exist in the warehouse."""


class UnsupportedReturnType(TaskError):
    """A Python model returned a value Interlace cannot materialise."""


class SchemaInferenceError(TaskError):
    """No schema could be derived from a result, or its batches disagree."""


class SchemaEvolutionError(TaskError):
    """The result schema violates the model's schema mode."""

    def __init__(
        self, message: str, *, model: str | None = None, columns: list[str]
    ) -> None:
        super().__init__(message, model=model)
        self.columns = columns


class WriteError(TaskError):
    """A strategy could not write the result into its target."""


class TaskTimeout(TaskError):
    """The task ran longer than `executor.task_timeout_s`."""


class TaskCancelled(TaskError):
    """The task was stopped because its run was cancelled."""


def _located(
    message: str, path: Path | None, line: int | None, column: int | None
) -> str:
    if path is None:
        return message
    where = str(path)
    if line is not None:
        where += f":{line}"
        if column is not None:
            where += f":{column}"
    return f"{where}: {message}"
