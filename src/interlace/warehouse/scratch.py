"""The scratch schema: staging tables and run-scoped outputs.

Everything a run creates besides its targets lives in `_interlace_scratch`
under a name starting with `<run_id>__`: staged results (dropped after each
write) and the outputs of `ephemeral` and `none` models, which downstream
tasks of the same run read from other cursors. `drop_run_scratch` removes
whatever is left when the run ends, including the leftovers of a crash.
"""

from __future__ import annotations

import logging
import secrets
import time

import duckdb

from interlace.errors import InterlaceError
from interlace.warehouse.boundary import duckdb_errors, first_row, translate
from interlace.warehouse.identifiers import qualified, quote_ident

__all__ = [
    "SCRATCH_SCHEMA",
    "drop_run_scratch",
    "ensure_schema",
    "run_output_name",
    "scratch_relation",
    "staging_name",
]

logger = logging.getLogger(__name__)

SCRATCH_SCHEMA = "_interlace_scratch"
_SCHEMA_ATTEMPTS = 3


def run_output_name(run_id: str, model: str) -> str:
    """Table name (in the scratch schema) of an in-run model output."""
    return f"{run_id}__{model}"


def scratch_relation(run_id: str, model: str) -> str:
    """`"_interlace_scratch"."<run_id>__<model>"`, for upstream bindings."""
    return qualified(SCRATCH_SCHEMA, run_output_name(run_id, model))


def staging_name(run_id: str, model: str) -> str:
    """A unique staging table name; the random part keeps retries apart."""
    return f"{run_id}__stage__{model}__{secrets.token_hex(4)}"


def ensure_schema(cursor: duckdb.DuckDBPyConnection, schema: str) -> None:
    """Create `schema` unless it exists, outside any task transaction.

    Two transactions creating the same schema conflict in DuckDB (catalog
    write-write conflict), so schemas are created in autocommit mode and a
    conflict with a concurrent creator counts as success.
    """
    statement = f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}"
    conflict: duckdb.Error | None = None
    for attempt in range(_SCHEMA_ATTEMPTS):
        try:
            cursor.execute(statement)
        except duckdb.TransactionException as exc:
            if _schema_exists(cursor, schema):
                return
            conflict = exc
            time.sleep(0.05 * (attempt + 1))
        except duckdb.Error as exc:
            raise _schema_error(schema, exc) from exc
        else:
            return
    assert conflict is not None
    raise _schema_error(schema, conflict) from conflict


def drop_run_scratch(cursor: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """Drop every scratch table of `run_id` (staging and in-run outputs)."""
    query = (
        "SELECT table_name FROM duckdb_tables() WHERE database_name ="
        " current_database() AND schema_name = $schema"
        " AND starts_with(table_name, $prefix)"
    )
    with duckdb_errors(model=None, action=f"dropping scratch tables of {run_id}"):
        parameters = {"schema": SCRATCH_SCHEMA, "prefix": f"{run_id}__"}
        rows = cursor.execute(query, parameters).fetchall()
        for (name,) in rows:
            cursor.execute(f"DROP TABLE IF EXISTS {qualified(SCRATCH_SCHEMA, name)}")
    logger.debug("dropped %d scratch tables of %s", len(rows), run_id)


def _schema_exists(cursor: duckdb.DuckDBPyConnection, schema: str) -> bool:
    row = first_row(
        cursor,
        "SELECT count(*) FROM duckdb_schemas() WHERE database_name ="
        " current_database() AND schema_name = $schema",
        {"schema": schema},
    )
    return row is not None and row[0] > 0


def _schema_error(schema: str, exc: duckdb.Error) -> InterlaceError:
    return translate(exc, model=None, action=f"creating schema `{schema}`")
