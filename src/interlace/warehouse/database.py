"""The embedded DuckDB warehouse: one database instance, one cursor per task.

A `DuckDBWarehouse` opens the database once; every task takes its own cursor
(`cursor()`), so several tasks run in parallel against the same file while
their temporary views and transactions stay apart. Attached catalogs are
instance-wide in DuckDB; they are attached when the warehouse opens and again,
idempotently, for every cursor handed out, so a catalog detached by user code
comes back for the next task.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import duckdb
import msgspec

from interlace.errors import WarehouseError
from interlace.warehouse.boundary import duckdb_errors, first_row, translate
from interlace.warehouse.cursors import remember_database
from interlace.warehouse.identifiers import quote_ident, quote_literal

__all__ = ["AttachSpec", "DuckDBWarehouse", "attach_statement"]

logger = logging.getLogger(__name__)

_ATTACH_NAME = re.compile(r"^[A-Za-z0-9_]+$")
_NETWORK_KEYS = {
    "postgres": {"host": "host", "port": "port", "database": "dbname"},
    "mysql": {"host": "host", "port": "port", "database": "database"},
}


class AttachSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A database attached to every task cursor of a DuckDB warehouse."""

    name: str
    """Catalog name used in queries (`pg` in `pg.public.customers`)."""
    type: str
    """`duckdb`, `sqlite`, `postgres`, `mysql` or `ducklake`."""
    read_only: bool = False
    path: str | None = None
    """File of a `duckdb` or `sqlite` attachment."""
    config: dict[str, Any] = msgspec.field(default_factory=dict)
    """`host`, `port`, `user`, `password`, `database` of `postgres`/`mysql`."""
    catalog: str | None = None
    """Metadata catalog of a `ducklake` attachment."""
    data_path: str | None = None
    """Data directory of a `ducklake` attachment."""


class DuckDBWarehouse:
    """One DuckDB database shared by every task of a connection."""

    def __init__(
        self,
        path: str | Path,
        attach: Sequence[AttachSpec] = (),
        read_only: bool = False,
    ) -> None:
        self.path = str(path)
        self.attach = tuple(attach)
        self.read_only = read_only
        self._lock = threading.Lock()
        self._connection: duckdb.DuckDBPyConnection | None = _open(self.path, read_only)
        statements = [attach_statement(spec) for spec in self.attach]
        self._attach_statements = tuple(statements)
        self._apply_attach(self._connection)
        with duckdb_errors(model=None, action="reading the database name"):
            row = first_row(self._connection, "SELECT current_database()")
        self.database_name = str(row[0]) if row else "memory"

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A new cursor with its own temporary objects and transactions."""
        with self._lock:
            connection = self._connection
            if connection is None:
                raise WarehouseError(f"the warehouse `{self.path}` is closed")
            with duckdb_errors(model=None, action="opening a cursor"):
                cursor = connection.cursor()
        self._apply_attach(cursor)
        remember_database(cursor, self.database_name)
        return cursor

    def probe(self) -> bool:
        """True when the database answers `SELECT 1`."""
        try:
            cursor = self.cursor()
            try:
                row = first_row(cursor, "SELECT 1")
            finally:
                cursor.close()
        except (WarehouseError, duckdb.Error) as exc:
            logger.warning("warehouse %s did not answer: %s", self.path, exc)
            return False
        return row == (1,)

    def table_exists(
        self, cursor: duckdb.DuckDBPyConnection, schema: str, name: str
    ) -> bool:
        """True when `schema.name` is a table or a view."""
        return self.relation_kind(cursor, schema, name) is not None

    def relation_kind(
        self, cursor: duckdb.DuckDBPyConnection, schema: str, name: str
    ) -> Literal["table", "view"] | None:
        """Whether `schema.name` is a table, a view, or missing.

        Only the warehouse's own catalog counts: temporary views of the
        cursor (upstream bindings) and attached catalogs are ignored. A
        catalog lookup by fully qualified name costs a fraction of a
        millisecond, where scanning `duckdb_tables()` grows with the number
        of tables (30 ms at a thousand).
        """
        parts = (self.database_name, schema, name)
        qualified_name = ".".join(quote_ident(part) for part in parts)
        try:
            relation = cursor.table(qualified_name)
        except duckdb.CatalogException:
            return None
        except duckdb.Error as exc:
            action = f"looking up `{schema}.{name}`"
            raise translate(exc, model=None, action=action) from exc
        return "table" if relation.type == "TABLE_RELATION" else "view"

    def close(self) -> None:
        """Close the database; cursors handed out stop working."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _apply_attach(self, connection: duckdb.DuckDBPyConnection) -> None:
        for spec, statement in zip(self.attach, self._attach_statements, strict=True):
            with duckdb_errors(
                model=None, action=f"attaching `{spec.name}` ({spec.type})"
            ):
                connection.execute(statement)

    def __repr__(self) -> str:
        return f"DuckDBWarehouse({self.path!r})"


def _open(path: str, read_only: bool) -> duckdb.DuckDBPyConnection:
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    with duckdb_errors(model=None, action=f"opening the warehouse `{path}`"):
        return duckdb.connect(path, read_only=read_only)


def attach_statement(spec: AttachSpec) -> str:
    """The idempotent `ATTACH IF NOT EXISTS` statement for one entry."""
    if not _ATTACH_NAME.match(spec.name):
        raise WarehouseError(
            f"attach name `{spec.name}` is invalid; expected letters, digits "
            "and underscores"
        )
    target, options = _attach_target(spec)
    if spec.read_only:
        options.append("READ_ONLY")
    suffix = f" ({', '.join(options)})" if options else ""
    return (
        f"ATTACH IF NOT EXISTS {quote_literal(target)} AS "
        f"{quote_ident(spec.name)}{suffix}"
    )


def _attach_target(spec: AttachSpec) -> tuple[str, list[str]]:
    kind = spec.type.lower()
    if kind in {"duckdb", "sqlite"}:
        if not spec.path:
            raise WarehouseError(
                f"attach `{spec.name}` ({kind}) needs `path`; found none"
            )
        return spec.path, ([] if kind == "duckdb" else ["TYPE sqlite"])
    if kind in _NETWORK_KEYS:
        return _network_dsn(spec, kind), [f"TYPE {kind}"]
    if kind == "ducklake":
        if not spec.catalog:
            raise WarehouseError(f"attach `{spec.name}` (ducklake) needs `catalog`")
        options = []
        if spec.data_path:
            options.append(f"DATA_PATH {quote_literal(spec.data_path)}")
        return f"ducklake:{spec.catalog}", options
    raise WarehouseError(
        f"attach `{spec.name}` has type `{spec.type}`; expected duckdb, sqlite, "
        "postgres, mysql or ducklake"
    )


def _network_dsn(spec: AttachSpec, kind: str) -> str:
    missing = [key for key in ("host", "database") if not spec.config.get(key)]
    if missing:
        names = ", ".join(f"`config.{key}`" for key in missing)
        raise WarehouseError(f"attach `{spec.name}` ({kind}) needs {names}")
    keys = dict(_NETWORK_KEYS[kind], user="user", password="password")
    parts = [
        f"{dsn_key}={_dsn_value(spec.config[key])}"
        for key, dsn_key in keys.items()
        if spec.config.get(key) not in (None, "")
    ]
    return " ".join(parts)


def _dsn_value(value: object) -> str:
    text = str(value)
    if text and not any(char in text for char in " '\\"):
        return text
    escaped = text.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
