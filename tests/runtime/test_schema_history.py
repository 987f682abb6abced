"""Schema modes and schema history through real runs (SPEC §8.1, §5.4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from interlace.engine.definition import SchemaMode
from interlace.engine.project import Project
from interlace.state import open_state_store
from interlace.state.records import SchemaColumn, SchemaVersionRecord
from tests.conftest import ProjectFactory
from tests.runtime.helpers import query, run_project, statuses

FIRST = "SELECT 1 AS id, 1.5::DOUBLE AS amount"
SECOND = {
    "added": "SELECT 2 AS id, 2.5::DOUBLE AS amount, 'X' AS coupon",
    "removed": "SELECT 2 AS id",
    "changed": "SELECT 2 AS id, '2.5' AS amount",
}
# Per scenario, the modes whose task fails; every other mode completes.
FAILING = {
    "added": {"strict"},
    "removed": {"strict"},
    "changed": {"strict", "safe"},
}
# The type of `amount` after the second run, per mode that completed.
AMOUNT_TYPE = {"flexible": "VARCHAR", "lenient": "VARCHAR", "ignore": "DOUBLE"}


def model_sql(mode: str, select: str, name: str | None = None) -> str:
    return (
        f"-- @name: {name or 'm_' + mode}\n-- @strategy: append\n"
        f"-- @schema_mode: {mode}\n{select}\n"
    )


def write_models(root: Path, select: str) -> None:
    for mode in SchemaMode:
        path = root / "models" / f"m_{mode}.sql"
        path.write_text(model_sql(mode.value, select))


def history(root: Path, model: str) -> list[SchemaVersionRecord]:
    store = open_state_store("sqlite", Project.load(root).config.state_path)
    try:
        versions, _ = store.schema_versions(model, limit=100)
    finally:
        store.close()
    return versions


def columns(root: Path, table: str) -> dict[str, str]:
    rows = query(root, f"DESCRIBE public.{table}")
    return {str(row[0]): str(row[1]) for row in rows}


@pytest.fixture
def ran_twice(make_project: ProjectFactory, request: pytest.FixtureRequest):
    """Every mode's model materialised with FIRST, then run with the scenario."""
    root = make_project({f"m_{m}.sql": model_sql(m.value, FIRST) for m in SchemaMode})
    first = run_project(root)
    assert set(statuses(first).values()) == {"completed"}
    write_models(root, SECOND[request.param])
    return root, request.param, run_project(root)


@pytest.mark.parametrize("ran_twice", list(SECOND), indirect=True)
def test_every_schema_mode_handles_added_removed_and_changed_columns(ran_twice):
    root, scenario, outcome = ran_twice

    tasks = {task.model_name: task for task in outcome.tasks}

    for mode in SchemaMode:
        task = tasks[f"m_{mode}"]
        table = columns(root, f"m_{mode}")
        if mode.value in FAILING[scenario]:
            assert task.status == "failed", mode
            assert task.error_type == "SchemaEvolutionError"
            assert f"schema_mode '{mode}' rejects changes" in (task.error_message or "")
            assert table == {"id": "INTEGER", "amount": "DOUBLE"}
            assert query(root, f"SELECT * FROM public.m_{mode}") == [(1, 1.5)]
            continue
        assert task.status == "completed", (mode, task.error_message)
        assert query(root, f"SELECT count(*) FROM public.m_{mode}") == [(2,)]
        if scenario == "added":
            assert table["coupon"] == "VARCHAR"
        elif scenario == "removed":
            assert query(root, f"SELECT amount FROM public.m_{mode} WHERE id = 2") == [
                (None,)
            ]
        else:
            assert table["amount"] == AMOUNT_TYPE[mode.value], mode


def test_history_records_v1_on_create_v2_on_an_added_column_and_nothing_on_a_removal(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"orders.sql": model_sql("safe", FIRST, "orders")})
    created = run_project(root)
    (root / "models" / "orders.sql").write_text(
        model_sql("safe", SECOND["added"], "orders")
    )
    added = run_project(root)
    (root / "models" / "orders.sql").write_text(
        model_sql("safe", SECOND["removed"], "orders")
    )

    removed = run_project(root)

    versions = history(root, "orders")
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].columns == [
        SchemaColumn(name="id", type="int32"),
        SchemaColumn(name="amount", type="float64"),
    ]
    assert [c.name for c in versions[0].columns] == ["id", "amount", "coupon"]
    assert [t.schema_changes for t in (created, added, removed) for t in t.tasks] == [
        0,
        1,
        0,
    ]


def test_a_safe_widening_alters_the_table_and_records_the_new_type(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {"orders.sql": model_sql("safe", "SELECT 1::INTEGER AS id", "orders")}
    )
    run_project(root)
    (root / "models" / "orders.sql").write_text(
        model_sql("safe", "SELECT (2^40)::BIGINT AS id", "orders")
    )

    outcome = run_project(root)

    assert statuses(outcome) == {"orders": "completed"}
    assert outcome.tasks[0].schema_changes == 1
    assert columns(root, "orders") == {"id": "BIGINT"}
    assert query(root, "SELECT id FROM public.orders ORDER BY id") == [(1,), (2**40,)]
    latest = history(root, "orders")[0]
    assert (latest.version, latest.columns[0].type) == (2, "int64")


def test_a_rejected_change_records_no_version(make_project: ProjectFactory) -> None:
    root = make_project({"orders.sql": model_sql("strict", FIRST, "orders")})
    run_project(root)
    (root / "models" / "orders.sql").write_text(
        model_sql("strict", SECOND["added"], "orders")
    )

    outcome = run_project(root)

    assert statuses(outcome) == {"orders": "failed"}
    assert [v.version for v in history(root, "orders")] == [1]


def test_primary_key_columns_are_flagged_in_history(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "orders.sql": (
                "-- @name: orders\n-- @strategy: merge_by_key\n"
                "-- @primary_key: id\n" + FIRST
            )
        }
    )

    run_project(root)

    (version,) = history(root, "orders")
    assert [(c.name, c.is_primary_key) for c in version.columns] == [
        ("id", True),
        ("amount", False),
    ]
