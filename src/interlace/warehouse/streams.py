"""The warehouse table behind a stream (SPEC §7.1, §7.3).

A stream's table holds its declared fields plus three columns Interlace adds
to every event: `_interlace_seq`, `_interlace_published_at` and
`_interlace_publish_id`. Until events are published the table exists empty,
so that models consuming the stream can be built and tested from day one.
"""

from __future__ import annotations

import duckdb

from interlace.engine.definition import ModelDefinition
from interlace.types import duckdb_type
from interlace.warehouse.boundary import duckdb_errors
from interlace.warehouse.database import DuckDBWarehouse
from interlace.warehouse.identifiers import qualified, quote_ident
from interlace.warehouse.scratch import ensure_schema

__all__ = ["SYSTEM_COLUMNS", "ensure_stream_table"]

SYSTEM_COLUMNS = (
    ("_interlace_seq", "BIGINT"),
    ("_interlace_published_at", "TIMESTAMPTZ"),
    ("_interlace_publish_id", "VARCHAR"),
)


def ensure_stream_table(
    warehouse: DuckDBWarehouse,
    cursor: duckdb.DuckDBPyConnection,
    definition: ModelDefinition,
) -> bool:
    """Create the stream's table when it is missing; True when created.

    An existing table is left as it is: it holds published events.
    """
    if warehouse.table_exists(cursor, definition.schema, definition.name):
        return False
    ensure_schema(cursor, definition.schema)
    columns = [
        f"{quote_ident(name)} {duckdb_type(kind)}"
        for name, kind in (definition.fields or {}).items()
    ]
    columns += [f"{quote_ident(name)} {kind}" for name, kind in SYSTEM_COLUMNS]
    target = qualified(definition.schema, definition.name)
    statement = f"CREATE TABLE IF NOT EXISTS {target} ({', '.join(columns)})"
    with duckdb_errors(model=definition.name, action=f"creating stream table {target}"):
        cursor.execute(statement)
    return True
