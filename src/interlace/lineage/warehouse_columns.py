"""Columns of the tables that exist in the warehouses, for column lineage.

Schema history knows the tables Interlace wrote; external tables (loaded by
other tools, attached databases) are known only to the warehouse catalog.
Reading the catalog is cheap: one `information_schema` query per connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from interlace.types import canonical_from_duckdb
from interlace.warehouse.boundary import duckdb_errors

if TYPE_CHECKING:
    from interlace.warehouse.database import DuckDBWarehouse

__all__ = ["CatalogColumns", "read_catalog_columns"]

CatalogColumns = Mapping[tuple[str, str, str], Mapping[str, str]]
"""(connection, schema, table) to `{column: canonical type}` in column order."""

_COLUMNS_SQL = (
    "SELECT table_schema, table_name, column_name, data_type "
    "FROM information_schema.columns "
    "WHERE table_catalog NOT IN ('system', 'temp') "
    "ORDER BY table_catalog, table_schema, table_name, ordinal_position"
)


def read_catalog_columns(
    warehouses: Mapping[str, DuckDBWarehouse],
) -> dict[tuple[str, str, str], dict[str, str]]:
    """Every table and view of every warehouse with its typed columns.

    Raises `WarehouseError` when a warehouse cannot be read.
    """
    found: dict[tuple[str, str, str], dict[str, str]] = {}
    for connection, warehouse in warehouses.items():
        cursor = warehouse.cursor()
        try:
            with duckdb_errors(model=None, action="reading the catalog columns"):
                rows = cursor.execute(_COLUMNS_SQL).fetchall()
        finally:
            cursor.close()
        for schema, table, column, data_type in rows:
            columns = found.setdefault((connection, schema, table), {})
            columns.setdefault(column, canonical_from_duckdb(data_type))
    return found
