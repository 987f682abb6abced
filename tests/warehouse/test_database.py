"""The DuckDB warehouse: files, cursors, catalog look-ups and attach."""

from __future__ import annotations

import duckdb
import pytest

from interlace.errors import WarehouseError
from interlace.warehouse.database import AttachSpec, DuckDBWarehouse, attach_statement


def test_opening_creates_parent_directories(tmp_path):
    path = tmp_path / "data" / "dev" / "wh.duckdb"

    warehouse = DuckDBWarehouse(path)

    assert path.exists()
    assert warehouse.probe() is True
    warehouse.close()


def test_in_memory_cursors_share_one_database():
    warehouse = DuckDBWarehouse(":memory:")
    first, second = warehouse.cursor(), warehouse.cursor()

    first.execute("CREATE TABLE t AS SELECT 1 AS a")

    assert second.execute("SELECT a FROM t").fetchall() == [(1,)]
    warehouse.close()


def test_probe_is_false_and_cursor_fails_after_close(tmp_path):
    warehouse = DuckDBWarehouse(tmp_path / "wh.duckdb")

    warehouse.close()

    assert warehouse.probe() is False
    with pytest.raises(WarehouseError, match="is closed"):
        warehouse.cursor()


def test_relation_kind_tells_tables_views_and_missing(warehouse, cursor):
    cursor.execute("CREATE SCHEMA s")
    cursor.execute("CREATE TABLE s.t AS SELECT 1 AS a")
    cursor.execute("CREATE VIEW s.v AS SELECT 1 AS a")
    cursor.execute("CREATE TEMP VIEW missing AS SELECT 1 AS a")

    kinds = [warehouse.relation_kind(cursor, "s", name) for name in ("t", "v")]

    assert kinds == ["table", "view"]
    assert warehouse.relation_kind(cursor, "main", "missing") is None
    assert warehouse.table_exists(cursor, "s", "t")
    assert not warehouse.table_exists(cursor, "s", "nope")


def test_read_only_warehouse_rejects_writes(tmp_path):
    path = tmp_path / "wh.duckdb"
    DuckDBWarehouse(path).close()
    warehouse = DuckDBWarehouse(path, read_only=True)

    with pytest.raises(duckdb.Error):
        warehouse.cursor().execute("CREATE TABLE t (a INT)")
    warehouse.close()


def test_duckdb_attach_is_visible_on_every_cursor(tmp_path):
    other = duckdb.connect(str(tmp_path / "other.duckdb"))
    other.execute("CREATE TABLE customers AS SELECT 'ann' AS name")
    other.close()
    spec = AttachSpec(
        name="crm", type="duckdb", path=str(tmp_path / "other.duckdb"), read_only=True
    )

    warehouse = DuckDBWarehouse(tmp_path / "wh.duckdb", attach=[spec])

    for _ in range(2):
        cursor = warehouse.cursor()
        rows = cursor.execute("SELECT name FROM crm.main.customers").fetchall()
        assert rows == [("ann",)]
    with pytest.raises(duckdb.Error):
        warehouse.cursor().execute("CREATE TABLE crm.main.x (a INT)")
    warehouse.close()


def test_sqlite_attach_reads_a_sqlite_file(tmp_path):
    import sqlite3

    path = tmp_path / "legacy.sqlite"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE items (id INTEGER)")
        connection.execute("INSERT INTO items VALUES (7)")
    probe = duckdb.connect(config={"autoinstall_known_extensions": False})
    try:
        probe.execute("LOAD sqlite")
    except duckdb.Error as exc:
        pytest.skip(f"the DuckDB sqlite extension cannot be loaded offline: {exc}")
    spec = AttachSpec(name="legacy", type="sqlite", path=str(path))

    warehouse = DuckDBWarehouse(tmp_path / "wh.duckdb", attach=[spec])

    rows = warehouse.cursor().execute("SELECT id FROM legacy.items").fetchall()
    assert rows == [(7,)]
    warehouse.close()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            AttachSpec(
                name="pg",
                type="postgres",
                read_only=True,
                config={"host": "db", "database": "ops", "password": "p w"},
            ),
            "ATTACH IF NOT EXISTS 'host=db dbname=ops password=''p w''' AS \"pg\" "
            "(TYPE postgres, READ_ONLY)",
        ),
        (
            AttachSpec(
                name="my",
                type="mysql",
                config={"host": "h", "database": "d", "port": 3306},
            ),
            "ATTACH IF NOT EXISTS 'host=h port=3306 database=d' AS \"my\" (TYPE mysql)",
        ),
        (
            AttachSpec(name="lake", type="ducklake", catalog="meta.db", data_path="/d"),
            "ATTACH IF NOT EXISTS 'ducklake:meta.db' AS \"lake\" (DATA_PATH '/d')",
        ),
    ],
    ids=["postgres", "mysql", "ducklake"],
)
def test_network_and_lake_attach_statements(spec, expected):
    assert attach_statement(spec) == expected


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (AttachSpec(name="bad-name", type="duckdb", path="x"), "is invalid"),
        (AttachSpec(name="x", type="sqlite"), "needs `path`"),
        (
            AttachSpec(name="x", type="postgres", config={"host": "h"}),
            "config.database",
        ),
        (AttachSpec(name="x", type="ducklake"), "needs `catalog`"),
        (AttachSpec(name="x", type="oracle"), "expected duckdb, sqlite"),
    ],
)
def test_invalid_attach_entries_are_rejected(spec, message):
    with pytest.raises(WarehouseError, match=message):
        attach_statement(spec)
