"""Column lineage persisted in SQLite: save, replace, read back."""

from __future__ import annotations

import pytest

from interlace.errors import StateStoreError
from interlace.state.records import LineageColumnRecord, LineageEdgeRecord
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import SaveColumnLineage


def edge(source: str, column: str, output: str, out_column: str) -> LineageEdgeRecord:
    return LineageEdgeRecord(
        source_model=source,
        source_column=column,
        output_model=output,
        output_column=out_column,
        transformation_type="direct",
    )


def save(model: str, *edges: LineageEdgeRecord, **fields: object) -> SaveColumnLineage:
    names = dict.fromkeys(e.output_column for e in edges)
    values: dict[str, object] = {
        "definition_hash": f"hash-{model}",
        "columns": [
            LineageColumnRecord(name=name, data_type="int64") for name in names
        ],
        "edges": list(edges),
    }
    return SaveColumnLineage(model_name=model, **{**values, **fields})


REVENUE = LineageEdgeRecord(
    source_model="orders",
    source_column="amount",
    output_model="daily",
    output_column="revenue",
    transformation_type="aggregated",
    transformation_expression="SUM(o.amount)",
    confidence=0.8,
)


def test_saved_lineage_reads_back_edges_columns_and_hash(
    store: SQLiteStateStore,
) -> None:
    write = save("daily", edge("orders", "day", "daily", "day"), REVENUE)

    store.apply([write])

    assert store.column_lineage() == write.edges
    record = store.lineage_models()["daily"]
    assert record.definition_hash == "hash-daily"
    assert record.columns == write.columns
    assert (record.complete, record.error) == (True, None)
    assert record.computed_at.tzinfo is not None
    assert store.lineage_hashes() == {"daily": "hash-daily"}


def test_saving_again_replaces_the_models_edges_only(store: SQLiteStateStore) -> None:
    store.apply(
        [
            save("daily", edge("orders", "day", "daily", "day"), REVENUE),
            save("clean", edge("raw", "id", "clean", "id")),
        ]
    )

    store.apply([save("daily", REVENUE, definition_hash="new")])

    assert store.column_lineage(["daily"]) == [REVENUE]
    assert store.column_lineage(["clean"]) == [edge("raw", "id", "clean", "id")]
    assert store.lineage_hashes() == {"clean": "hash-clean", "daily": "new"}


def test_edges_keep_their_saved_order_within_a_model(
    store: SQLiteStateStore,
) -> None:
    ordered = [
        edge("b", "z", "m", "second"),
        edge("a", "y", "m", "first"),
        edge("a", "x", "m", "first"),
    ]

    store.apply([save("m", *ordered)])

    assert store.column_lineage(["m"]) == ordered


def test_a_failed_model_keeps_its_error_and_columns_without_edges(
    store: SQLiteStateStore,
) -> None:
    columns = [LineageColumnRecord(name="id"), LineageColumnRecord(name="total")]

    store.apply(
        [
            save(
                "broken",
                columns=columns,
                complete=False,
                error="`broken`: SQL could not be parsed",
            )
        ]
    )

    record = store.lineage_models(["broken"])["broken"]
    assert record.columns == columns
    assert record.complete is False
    assert record.error == "`broken`: SQL could not be parsed"
    assert store.column_lineage(["broken"]) == []


def test_reading_no_models_returns_nothing(store: SQLiteStateStore) -> None:
    store.apply([save("daily", REVENUE)])

    assert store.column_lineage([]) == []
    assert store.lineage_models([]) == {}


def test_an_edge_into_another_model_is_refused_and_nothing_is_saved(
    store: SQLiteStateStore,
) -> None:
    with pytest.raises(ValueError, match="found an edge into `daily`"):
        store.apply([save("clean", REVENUE)])

    assert store.lineage_hashes() == {}


def test_a_closed_store_refuses_lineage_reads(store: SQLiteStateStore) -> None:
    store.close()

    with pytest.raises(StateStoreError, match="closed"):
        store.column_lineage()
