"""The DuckDB warehouse: bindings, model calls, staging and writes.

A task takes a cursor from `DuckDBWarehouse`, binds its upstreams as `Table`
handles (`bind_inputs`), calls the model (`call_model` / `sql_result`) and
hands the result to `materialise`, which stages, shapes and writes it in one
transaction. `drop_run_scratch` clears a run's scratch tables at its end.
"""

from __future__ import annotations

from interlace.warehouse.database import AttachSpec, DuckDBWarehouse
from interlace.warehouse.inputs import UpstreamRef, bind_inputs
from interlace.warehouse.invoke import call_model, sql_result
from interlace.warehouse.materialise import WriteResult, materialise
from interlace.warehouse.scratch import drop_run_scratch
from interlace.warehouse.table import Table

__all__ = [
    "AttachSpec",
    "DuckDBWarehouse",
    "Table",
    "UpstreamRef",
    "WriteResult",
    "bind_inputs",
    "call_model",
    "drop_run_scratch",
    "materialise",
    "sql_result",
]
