"""Breaking changes in the plan: edits compared with recorded schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from interlace.engine.project import Project
from interlace.lineage.store import refresh
from interlace.runtime.plan import build_plan
from interlace.runtime.runtime import open_warehouses
from interlace.runtime.upstreams import catalog_snapshot
from interlace.state import open_state_store
from tests.conftest import ProjectFactory
from tests.runtime.helpers import run_project

ORDERS_SQL = "SELECT 1::BIGINT AS id, 2.5::DOUBLE AS amount, 'new' AS status"
PIPELINE = {
    "orders.sql": ORDERS_SQL,
    "revenue.sql": (
        "SELECT o.id, SUM(o.amount) AS revenue FROM orders AS o GROUP BY o.id"
    ),
    "report.sql": "SELECT revenue * 2 AS doubled FROM revenue",
    "stock.py": """
        from interlace import model

        @model(
            fields={"sku": "string", "qty": "int64"},
            strict=True,
            primary_key="sku",
        )
        def stock():
            return [{"sku": "a", "qty": 1}]
        """,
}


def planned(root: Path, **request: Any) -> dict[str, Any]:
    """The plan of the project as it is on disk, with its state store."""
    project = Project.load(root)
    store = open_state_store("sqlite", project.config.state_path)
    warehouses = open_warehouses(project.config)
    try:
        return build_plan(
            project,
            model_states=store.model_states(),
            catalog=catalog_snapshot(warehouses),
            store=store,
            **request,
        )
    finally:
        store.close()
        for warehouse in warehouses.values():
            warehouse.close()


def change_views(plan: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            item["model_name"],
            item["change_type"],
            item["column_name"],
            item["severity"],
            item["affected_downstream"],
        )
        for item in plan["breaking_changes"]
    ]


def edit(root: Path, file_name: str, source: str) -> None:
    (root / "models" / file_name).write_text(source)


def test_an_unchanged_project_has_no_breaking_changes(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_project(root)

    plan = planned(root, force=True)

    assert plan["breaking_changes"] == []
    assert plan["has_breaking_changes"] is False
    assert (plan["summary"]["warnings"], plan["summary"]["errors"]) == (0, 0)


def test_removing_a_column_used_downstream_is_an_error(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_project(root)
    edit(root, "orders.sql", "SELECT 1::BIGINT AS id, 'new' AS status")

    plan = planned(root)

    assert change_views(plan) == [
        ("orders", "column_removed", "amount", "error", ["revenue", "report"])
    ]
    change = plan["breaking_changes"][0]
    assert change["description"] == (
        "Column 'amount' of model 'orders' will be removed; used downstream by "
        "'revenue', 'report'"
    )
    entry = next(e for e in plan["models_to_run"] if e["model_name"] == "orders")
    assert entry["breaking_changes"] == [change]
    assert plan["has_breaking_changes"] is True
    assert (plan["summary"]["warnings"], plan["summary"]["errors"]) == (0, 1)


def test_removing_a_column_nobody_reads_is_a_warning(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_project(root)
    edit(root, "orders.sql", "SELECT 1::BIGINT AS id, 2.5::DOUBLE AS amount")

    plan = planned(root)

    assert change_views(plan) == [("orders", "column_removed", "status", "warning", [])]


def test_a_type_change_is_a_warning_naming_the_readers(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_project(root)
    edit(root, "orders.sql", "SELECT 1::BIGINT AS id, '2.5' AS amount, 'x' AS status")

    plan = planned(root)

    assert change_views(plan) == [
        ("orders", "column_type_changed", "amount", "warning", ["revenue", "report"])
    ]
    assert plan["breaking_changes"][0]["description"] == (
        "Column 'amount' of model 'orders' changes type from float64 to string"
    )
    assert (plan["summary"]["warnings"], plan["summary"]["errors"]) == (1, 0)


def test_declared_fields_of_a_python_model_are_compared_too(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_project(root)
    edit(
        root,
        "stock.py",
        """
from interlace import model

@model(fields={"sku": "string", "qty": "float64"}, strict=True, primary_key="sku")
def stock():
    return [{"sku": "a", "qty": 1.0}]
""",
    )

    plan = planned(root)

    assert change_views(plan) == [
        ("stock", "column_type_changed", "qty", "warning", [])
    ]


def test_a_new_primary_key_is_a_warning(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINE)
    run_project(root)
    edit(
        root,
        "stock.py",
        """
from interlace import model

@model(fields={"sku": "string", "qty": "int64"}, strict=True, primary_key=["sku", "qty"])
def stock():
    return [{"sku": "a", "qty": 1}]
""",
    )

    plan = planned(root)

    assert change_views(plan) == [("stock", "primary_key_changed", None, "warning", [])]
    assert plan["breaking_changes"][0]["description"] == (
        "Primary key of model 'stock' changes from [sku] to [sku, qty]"
    )


def test_a_model_gone_from_the_project_is_a_warning(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_project(root)
    (root / "models" / "stock.py").unlink()

    plan = planned(root)

    assert change_views(plan) == [("stock", "model_removed", None, "warning", [])]
    assert plan["summary"]["warnings"] == 1


def test_without_a_store_no_breaking_changes_are_computed(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_project(root)
    edit(root, "orders.sql", "SELECT 1::BIGINT AS id")
    project = Project.load(root)
    store = open_state_store("sqlite", project.config.state_path)
    try:
        states = store.model_states()
    finally:
        store.close()

    plan = build_plan(project, model_states=states, catalog=set())

    assert plan["breaking_changes"] == []
    assert all(entry["breaking_changes"] == [] for entry in plan["models_to_run"])


def test_stored_lineage_of_an_edited_dependant_does_not_count(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_project(root)
    project = Project.load(root)
    store = open_state_store("sqlite", project.config.state_path)
    try:
        refresh(project, store)
    finally:
        store.close()
    edit(root, "orders.sql", "SELECT 1::BIGINT AS id, 'new' AS status")
    edit(
        root,
        "revenue.sql",
        "SELECT o.id, COUNT(*) AS revenue FROM orders AS o GROUP BY o.id",
    )

    plan = planned(root)

    assert change_views(plan) == [
        ("orders", "column_removed", "amount", "warning", []),
        ("revenue", "column_type_changed", "revenue", "warning", ["report"]),
    ]
