from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import pytest

from interlace.api import run_sync
from interlace.engine.definition import ModelDefinition, ModelType
from interlace.engine.project import Project
from interlace.errors import SelectionError
from interlace.runtime.plan import build_plan, read_live_columns, schema_changes
from interlace.runtime.runtime import open_warehouses
from interlace.runtime.upstreams import catalog_snapshot
from interlace.state import open_state_store
from tests.conftest import ProjectFactory

PIPELINE = {
    "raw.sql": "SELECT range AS id, range * 10 AS amount FROM range(4)",
    "enriched.py": """
        from interlace import model

        @model(fields={"id": "int64", "gross": "int64"})
        def enriched(raw):
            return [
                {"id": row["id"], "gross": row["amount"] * 2}
                for row in raw.arrow().to_pylist()
            ]
        """,
    "total.sql": "SELECT sum(gross) AS total FROM enriched",
    "other.sql": "SELECT 1 AS one",
}
RUN_KEYS = {
    "model_name",
    "will_run",
    "run_reason",
    "downstream_affected",
    "schema_changes",
    "breaking_changes",
    "file_changed",
    "upstream_changed",
}


def plan_for(root: Path, **request: Any) -> dict[str, Any]:
    """Load the project and plan it against its real state and warehouse."""
    project = Project.load(root)
    store = open_state_store("sqlite", project.config.state_path)
    warehouses = open_warehouses(project.config)
    try:
        catalog = catalog_snapshot(warehouses)
        return build_plan(
            project,
            model_states=store.model_states(),
            catalog=catalog,
            columns=read_live_columns(project, warehouses, catalog),
            **request,
        )
    finally:
        store.close()
        for warehouse in warehouses.values():
            warehouse.close()


def reasons(plan: dict[str, Any]) -> dict[str, str]:
    found = {item["model_name"]: item["run_reason"] for item in plan["models_to_run"]}
    for item in plan["models_skipped"]:
        found[item["model_name"]] = f"skip:{item['skip_reason']}"
    return found


def test_a_fresh_project_plans_every_model_as_first_run_in_layer_order(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)

    plan = plan_for(root)

    assert [item["model_name"] for item in plan["models_to_run"]] == [
        "other",
        "raw",
        "enriched",
        "total",
    ]
    assert set(reasons(plan).values()) == {"first_run"}
    assert all(set(item) == RUN_KEYS for item in plan["models_to_run"])
    raw = plan["models_to_run"][1]
    assert raw["downstream_affected"] == ["enriched", "total"]
    assert plan["models_to_run"][2]["upstream_changed"] == ["raw"]
    assert plan["summary"] == {"will_run": 4, "skipped": 0, "warnings": 0, "errors": 0}
    assert plan["total_affected"] == 4
    assert plan["breaking_changes"] == []
    assert plan["has_breaking_changes"] is False


def test_after_a_run_every_model_is_skipped_with_no_changes(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_sync(project_dir=root)

    plan = plan_for(root)

    assert plan["models_to_run"] == []
    assert plan["models_skipped"][0] == {
        "model_name": "other",
        "will_run": False,
        "run_reason": None,
        "skip_reason": "no_changes",
    }
    assert set(reasons(plan).values()) == {"skip:no_changes"}
    assert plan["summary"]["skipped"] == 4


def test_an_edited_model_plans_file_changed_and_upstream_changed_downstream(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_sync(project_dir=root)
    (root / "models" / "raw.sql").write_text(
        "SELECT range AS id, range * 5 AS amount FROM range(9)"
    )

    plan = plan_for(root)
    predicted = reasons(plan)
    actual = run_sync(project_dir=root)

    assert predicted == {
        "raw": "file_changed",
        "enriched": "upstream_changed",
        "total": "upstream_changed",
        "other": "skip:no_changes",
    }
    by_name = {item["model_name"]: item for item in plan["models_to_run"]}
    assert by_name["raw"]["file_changed"] is True
    assert by_name["enriched"]["file_changed"] is False
    assert by_name["enriched"]["upstream_changed"] == ["raw"]
    assert by_name["total"]["upstream_changed"] == ["enriched"]
    assert {name: result["reason"] for name, result in actual.items()} == {
        name: reason.removeprefix("skip:") for name, reason in predicted.items()
    }


def test_force_plans_every_selected_model_with_reason_force(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_sync(project_dir=root)

    plan = plan_for(root, selectors=["enriched"], force=True)

    assert reasons(plan) == {"raw": "force", "enriched": "force"}


def test_no_upstream_plans_only_the_selected_model(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)

    plan = plan_for(root, selectors=["total"], no_upstream=True)

    assert reasons(plan) == {"total": "first_run"}


def test_a_dropped_target_plans_target_missing_and_its_dependants_rerun(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_sync(project_dir=root)
    project = Project.load(root)
    warehouse = open_warehouses(project.config)["default"]
    cursor = warehouse.cursor()
    cursor.execute('DROP TABLE "public"."enriched"')
    cursor.close()
    warehouse.close()

    plan = plan_for(root)

    assert reasons(plan) == {
        "raw": "skip:no_changes",
        "enriched": "target_missing",
        "total": "upstream_changed",
        "other": "skip:no_changes",
    }


def test_changed_fields_are_reported_as_schema_changes_against_the_live_table(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)
    run_sync(project_dir=root)
    source = (root / "models" / "enriched.py").read_text()
    (root / "models" / "enriched.py").write_text(
        source.replace(
            '{"id": "int64", "gross": "int64"}',
            '{"id": "string", "gross": "int64", "note": "string"}',
        )
    )

    plan = plan_for(root)

    enriched = next(
        item for item in plan["models_to_run"] if item["model_name"] == "enriched"
    )
    assert enriched["run_reason"] == "config_changed"
    assert enriched["schema_changes"] == [
        {
            "column_name": "id",
            "change_type": "type_changed",
            "old_type": "int64",
            "new_type": "string",
        },
        {
            "column_name": "note",
            "change_type": "added",
            "old_type": None,
            "new_type": "string",
        },
    ]


def test_unknown_selectors_are_rejected_like_run_does(
    make_project: ProjectFactory,
) -> None:
    root = make_project(PIPELINE)

    with pytest.raises(SelectionError, match="Unknown models"):
        plan_for(root, selectors=["missing"])


def test_an_ephemeral_upstream_reruns_without_triggering_its_dependants(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "base.sql": "-- @name: base\n-- @materialise: ephemeral\nSELECT 1 AS id",
            "uses_base.sql": "SELECT id FROM base",
        }
    )
    run_sync(project_dir=root)

    predicted = reasons(plan_for(root))
    actual = run_sync(project_dir=root)

    assert predicted == {"base": "target_missing", "uses_base": "skip:no_changes"}
    assert {name: result["reason"] for name, result in actual.items()} == {
        "base": "target_missing",
        "uses_base": "no_changes",
    }


def test_strict_models_report_undeclared_live_columns_as_removed() -> None:
    definition = ModelDefinition(
        name="orders",
        type=ModelType.PYTHON,
        schema="public",
        connection=None,
        fields={"id": "int64"},
        strict=True,
    )

    changes = schema_changes(definition, [("id", "int64"), ("legacy", "string")])
    lenient = schema_changes(
        msgspec.structs.replace(definition, strict=False),
        [("id", "int64"), ("legacy", "string")],
    )

    assert changes == [
        {
            "column_name": "legacy",
            "change_type": "removed",
            "old_type": "string",
            "new_type": None,
        }
    ]
    assert lenient == []
