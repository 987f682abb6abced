"""Reading schema history and diffing versions (SPEC §10.11)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from interlace.engine.definition import ModelDefinition, ModelType
from interlace.engine.schema_history import (
    DiffChange,
    SchemaVersionView,
    current_schema,
    diff_document,
    diff_schemas,
    schema_at,
    schema_history,
    version_document,
)
from interlace.state.records import SchemaColumn
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import RecordSchemaVersion

T0 = dt.datetime(2026, 2, 10, 8, 0, 1, tzinfo=dt.UTC)


def definition(**options: object) -> ModelDefinition:
    return ModelDefinition(
        name="orders",
        type=ModelType.PYTHON,
        schema="public",
        connection=None,
        **options,  # type: ignore[arg-type]
    )


def col(name: str, kind: str) -> SchemaColumn:
    return SchemaColumn(name=name, type=kind)


def view(version: int, *columns: SchemaColumn) -> SchemaVersionView:
    return SchemaVersionView(version=version, detected_at=T0, columns=list(columns))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStateStore]:
    with SQLiteStateStore(tmp_path / "state.db") as opened:
        yield opened


def record(store: SQLiteStateStore, *columns: SchemaColumn) -> None:
    store.apply(
        [
            RecordSchemaVersion(
                model_name="orders", columns=list(columns), detected_at=T0
            )
        ]
    )


def test_diff_lists_new_columns_in_order_then_removals():
    old = view(1, col("id", "int64"), col("amount", "float64"), col("legacy", "string"))
    new = view(2, col("id", "int64"), col("amount", "string"), col("coupon", "string"))

    diff = diff_schemas(old, new)

    assert [(c.name, c.change) for c in diff.columns] == [
        ("id", DiffChange.UNCHANGED),
        ("amount", DiffChange.MODIFIED),
        ("coupon", DiffChange.ADDED),
        ("legacy", DiffChange.REMOVED),
    ]
    assert diff_document("orders", diff) == {
        "model": "orders",
        "from_version": 1,
        "to_version": 2,
        "diff": [
            {
                "name": "id",
                "change": "unchanged",
                "old_type": "int64",
                "new_type": "int64",
            },
            {
                "name": "amount",
                "change": "modified",
                "old_type": "float64",
                "new_type": "string",
            },
            {
                "name": "coupon",
                "change": "added",
                "old_type": None,
                "new_type": "string",
            },
            {
                "name": "legacy",
                "change": "removed",
                "old_type": "string",
                "new_type": None,
            },
        ],
        "added": [{"name": "coupon", "type": "string"}],
        "removed": [{"name": "legacy", "type": "string"}],
        "modified": [{"column": "amount", "old_type": "float64", "new_type": "string"}],
    }


def test_a_version_document_has_millisecond_utc_times():
    document = version_document(view(3, col("id", "int64")))

    assert document == {
        "version": 3,
        "detected_at": "2026-02-10T08:00:01.000Z",
        "columns": [
            {"name": "id", "type": "int64", "nullable": True, "is_primary_key": False}
        ],
    }


def test_a_never_materialised_model_has_a_synthetic_version_from_fields(store):
    model = definition(fields={"id": "int64"}, primary_key=("id",))

    versions, total = schema_history(store, model, limit=10)
    current = current_schema(store, model)

    expected = [SchemaColumn(name="id", type="int64", is_primary_key=True)]
    assert total == 1
    assert versions == [
        SchemaVersionView(version=1, detected_at=None, columns=expected)
    ]
    assert current == SchemaVersionView(version=0, detected_at=None, columns=expected)
    assert schema_at(store, model, 1) == versions[0]
    assert schema_at(None, model, 2) is None


def test_recorded_versions_replace_the_synthetic_one(store):
    model = definition(fields={"id": "int64"})
    record(store, col("id", "int32"))
    record(store, col("id", "int32"), col("amount", "float64"))

    versions, total = schema_history(store, model, limit=1, offset=1)

    assert total == 2
    assert [(v.version, v.columns) for v in versions] == [(1, [col("id", "int32")])]
    assert current_schema(store, model).version == 2
    assert schema_at(store, model, 0) == current_schema(store, model)
    assert schema_at(store, model, 3) is None


def test_a_model_without_fields_or_history_has_no_versions():
    versions = schema_history(None, definition(), limit=10)
    current = current_schema(None, definition())

    assert versions == ([], 0)
    assert current == SchemaVersionView(version=0, detected_at=None, columns=[])
