"""What the warehouse knows about the cursors it hands out.

Every task binds its upstreams with catalog-qualified names, which needs the
cursor's database name. Asking DuckDB (`current_database()`) costs a
statement per task on a busy connection; the warehouse already knows the
answer when it creates the cursor, so it records it here.
"""

from __future__ import annotations

import threading
import weakref

import duckdb

from interlace.warehouse.boundary import first_row

__all__ = ["database_of", "remember_database"]

_names: weakref.WeakKeyDictionary[duckdb.DuckDBPyConnection, str] = (
    weakref.WeakKeyDictionary()
)
_lock = threading.Lock()


def remember_database(cursor: duckdb.DuckDBPyConnection, name: str) -> None:
    with _lock:
        _names[cursor] = name


def database_of(cursor: duckdb.DuckDBPyConnection) -> str:
    """The cursor's database name, asked from DuckDB only if not recorded."""
    with _lock:
        known = _names.get(cursor)
    if known is not None:
        return known
    row = first_row(cursor, "SELECT current_database()")
    name = str(row[0]) if row else ""
    remember_database(cursor, name)
    return name
