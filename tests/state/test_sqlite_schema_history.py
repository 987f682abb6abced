"""Schema history in the SQLite store: version numbering and reads (SPEC §8.1)."""

from __future__ import annotations

from pathlib import Path

from interlace.state.records import SchemaColumn, SchemaVersionRecord
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import RecordSchemaVersion
from tests.state.factories import T0, at

ID = SchemaColumn(name="id", type="int64", nullable=False, is_primary_key=True)
AMOUNT = SchemaColumn(name="amount", type="float64")
COUPON = SchemaColumn(name="coupon", type="string")


def record(
    *columns: SchemaColumn, model: str = "orders", seconds: float = 0
) -> RecordSchemaVersion:
    return RecordSchemaVersion(
        model_name=model, columns=list(columns), detected_at=at(seconds)
    )


def test_the_first_recorded_schema_is_version_1(store: SQLiteStateStore) -> None:
    store.apply([record(ID, AMOUNT)])

    latest = store.latest_schema_version("orders")

    assert latest == SchemaVersionRecord(
        model_name="orders", version=1, detected_at=T0, columns=[ID, AMOUNT]
    )


def test_an_added_column_records_the_next_version_with_every_column(
    store: SQLiteStateStore,
) -> None:
    store.apply([record(ID, AMOUNT)])

    store.apply([record(ID, AMOUNT, COUPON, seconds=5)])

    latest = store.latest_schema_version("orders")
    assert latest is not None
    assert (latest.version, latest.detected_at) == (2, at(5))
    assert latest.columns == [ID, AMOUNT, COUPON]


def test_a_changed_type_records_the_next_version(store: SQLiteStateStore) -> None:
    store.apply([record(ID, AMOUNT)])

    store.apply([record(ID, SchemaColumn(name="amount", type="string"))])

    latest = store.latest_schema_version("orders")
    assert latest is not None
    assert latest.version == 2
    assert latest.columns[1].type == "string"


def test_a_removal_or_an_unchanged_schema_records_no_version(
    store: SQLiteStateStore,
) -> None:
    store.apply([record(ID, AMOUNT, COUPON)])

    store.apply([record(ID, AMOUNT)])
    store.apply([record(ID, AMOUNT, COUPON)])

    assert store.schema_versions("orders", limit=10)[1] == 1


def test_versions_written_in_one_batch_are_numbered_in_order(
    store: SQLiteStateStore,
) -> None:
    batch = [record(ID), record(ID, AMOUNT), record(ID, AMOUNT, COUPON)]

    store.apply(batch)

    versions, total = store.schema_versions("orders", limit=10)
    assert total == 3
    assert [v.version for v in versions] == [3, 2, 1]


def test_versions_are_numbered_per_model(store: SQLiteStateStore) -> None:
    store.apply([record(ID), record(ID, AMOUNT)])

    store.apply([record(ID, model="customers")])

    latest = store.latest_schema_version("customers")
    assert latest is not None
    assert latest.version == 1


def test_schema_versions_pages_newest_first(store: SQLiteStateStore) -> None:
    store.apply([record(ID), record(ID, AMOUNT), record(ID, AMOUNT, COUPON)])

    first, total = store.schema_versions("orders", limit=2)
    rest, _ = store.schema_versions("orders", limit=2, offset=2)

    assert total == 3
    assert [v.version for v in first] == [3, 2]
    assert [(v.version, v.columns) for v in rest] == [(1, [ID])]


def test_a_version_is_read_by_number_with_columns_in_table_order(
    store: SQLiteStateStore,
) -> None:
    store.apply([record(COUPON, ID), record(COUPON, ID, AMOUNT)])

    first = store.schema_version("orders", 1)
    missing = store.schema_version("orders", 3)

    assert first is not None
    assert [column.name for column in first.columns] == ["coupon", "id"]
    assert missing is None


def test_an_unknown_model_has_no_history(store: SQLiteStateStore) -> None:
    latest = store.latest_schema_version("nothing")
    page = store.schema_versions("nothing", limit=5)

    assert latest is None
    assert page == ([], 0)


def test_history_survives_reopening_the_store(state_path: Path) -> None:
    with SQLiteStateStore(state_path) as store:
        store.apply([record(ID, AMOUNT)])

    with SQLiteStateStore(state_path) as reopened:
        latest = reopened.latest_schema_version("orders")

    assert latest is not None
    assert latest.columns == [ID, AMOUNT]
