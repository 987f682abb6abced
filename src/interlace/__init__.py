"""Interlace: Python/SQL data pipelines in one process.

Model files import the decorators from here (`from interlace import model`),
so this module stays light: the runtime, DuckDB and pyarrow load only when
`run`, `run_sync` or `Table` is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from interlace.config import current as config
from interlace.engine.decorators import model, stream
from interlace.errors import InterlaceError
from interlace.retry import RetryPolicy

if TYPE_CHECKING:
    from interlace.api import run, run_sync
    from interlace.engine.context import RunContext
    from interlace.warehouse.table import Table

__version__ = "0.1.0"

__all__ = [
    "InterlaceError",
    "RetryPolicy",
    "RunContext",
    "Table",
    "__version__",
    "config",
    "model",
    "run",
    "run_sync",
    "stream",
]

_LAZY = {
    "run": "interlace.api",
    "run_sync": "interlace.api",
    "RunContext": "interlace.engine.context",
    "Table": "interlace.warehouse.table",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'interlace' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
