"""Lineage, model lineage and column endpoints against a real granian server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.helpers import run_project
from tests.service.conftest import ServiceProcess, running_service, write_project

MODELS = {
    "orders.sql": (
        "SELECT range::BIGINT AS id, range * 1.5 AS amount, 'new' AS status "
        "FROM range(4)"
    ),
    "revenue.sql": (
        "SELECT o.id, SUM(o.amount) AS revenue FROM orders AS o GROUP BY o.id"
    ),
    "report.sql": "SELECT id, revenue * 2 AS doubled FROM revenue",
    "stock.py": """
        from interlace import model

        @model(fields={"sku": "string", "qty": "int64"}, primary_key="sku")
        def stock():
            return [{"sku": "a", "qty": 1}]
        """,
    "broken.sql": "SELECT 1 AS a; SELECT 2 AS b",
    "legacy.sql": "SELECT 1 AS a, 2 AS b",
    "uses_legacy.sql": "SELECT b FROM legacy",
}


NAMES = [file_name.split(".")[0] for file_name in MODELS]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """Every model but `broken` (whose lineage fails) materialised once;
    then `legacy` loses its column `b`, which `uses_legacy` reads."""
    root: Path = write_project(tmp_path_factory.mktemp("lineage"), MODELS)
    run_project(root, selectors=tuple(name for name in NAMES if name != "broken"))
    (root / "models" / "legacy.sql").write_text("SELECT 1 AS a")
    with running_service(root, ["--no-scheduler", "--no-ui"]) as service:
        yield service


def get(service: ServiceProcess, path: str) -> tuple[int, Any]:
    with service.client() as client:
        response = client.get(path)
    return response.status_code, response.json()


def test_lineage_lists_columns_with_source_counts_and_edges(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/lineage")

    assert status == 200
    assert set(body["models"]) == set(NAMES)
    assert body["models"]["revenue"] == {
        "columns": [
            {"name": "id", "data_type": "int64", "sources_count": 1},
            {"name": "revenue", "data_type": "decimal(38,1)", "sources_count": 1},
        ]
    }
    assert {
        "source_model": "orders",
        "source_column": "amount",
        "output_model": "revenue",
        "output_column": "revenue",
        "transformation_type": "aggregated",
        "transformation_expression": "SUM(o.amount)",
        "confidence": 1.0,
    } in body["edges"]


def test_lineage_of_some_models_keeps_only_their_edges(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/lineage?models=report")

    assert status == 200
    assert list(body["models"]) == ["report"]
    assert {edge["output_model"] for edge in body["edges"]} == {"report"}


def test_lineage_of_an_unknown_model_is_a_validation_error(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/lineage?models=report,nope")

    assert status == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert body["invalid_models"] == ["nope"]


def test_refresh_of_named_models_reports_success(served: ServiceProcess) -> None:
    with served.client() as client:
        response = client.post(
            "/api/v1/lineage/refresh", json={"models": ["revenue", "report"]}
        )

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "success": 2,
        "errors": 0,
        "error_details": [],
    }


def test_refresh_without_a_body_refreshes_all_and_lists_errors(
    served: ServiceProcess,
) -> None:
    with served.client() as client:
        response = client.post("/api/v1/lineage/refresh")

    body = response.json()
    assert response.status_code == 200
    assert (body["ok"], body["success"], body["errors"]) == (False, len(NAMES) - 1, 1)
    assert [detail["model"] for detail in body["error_details"]] == ["broken"]
    assert "expected one query" in body["error_details"][0]["error"]


def test_refresh_refuses_unknown_body_fields(served: ServiceProcess) -> None:
    with served.client() as client:
        response = client.post("/api/v1/lineage/refresh", json={"model": ["x"]})

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"


def test_model_lineage_walks_the_asked_direction_and_depth(
    served: ServiceProcess,
) -> None:
    status, body = get(
        served, "/api/v1/models/report/lineage?depth=1&direction=upstream"
    )

    assert status == 200
    assert (body["model"], body["root"], body["direction"], body["depth"]) == (
        "report",
        "report",
        "upstream",
        1,
    )
    assert body["nodes"] == [
        {
            "id": "report",
            "name": "report",
            "type": "sql",
            "schema": "public",
            "materialise": "table",
            "strategy": "replace",
            "layer": 2,
            "tags": [],
        },
        {
            "id": "revenue",
            "name": "revenue",
            "type": "sql",
            "schema": "public",
            "materialise": "table",
            "strategy": "replace",
            "layer": 1,
            "tags": [],
        },
    ]
    assert body["edges"] == [{"source": "revenue", "target": "report"}]


def test_model_lineage_defaults_to_both_directions(served: ServiceProcess) -> None:
    status, body = get(served, "/api/v1/models/revenue/lineage")

    assert status == 200
    assert (body["direction"], body["depth"]) == ("both", 3)
    assert [node["id"] for node in body["nodes"]] == ["revenue", "orders", "report"]


@pytest.mark.parametrize("depth", ["abc", "101", "-1"])
def test_model_lineage_rejects_a_bad_depth(served: ServiceProcess, depth: str) -> None:
    status, body = get(served, f"/api/v1/models/revenue/lineage?depth={depth}")

    assert status == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert body["detail"] == "'depth' must be a valid integer between 0 and 100"


def test_model_lineage_of_an_unknown_model_is_not_found(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/models/nope/lineage")

    assert status == 404
    assert (body["code"], body["model_id"]) == ("MODEL_NOT_FOUND", "nope")


def test_columns_have_recorded_nullability_and_direct_sources(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/models/revenue/columns")

    assert status == 200
    assert body == {
        "model": "revenue",
        "columns": [
            {
                "name": "id",
                "data_type": "int64",
                "nullable": True,
                "is_primary_key": False,
                "description": None,
                "sources": [
                    {"model": "orders", "column": "id", "transformation": "direct"}
                ],
            },
            {
                "name": "revenue",
                "data_type": "decimal(38,1)",
                "nullable": True,
                "is_primary_key": False,
                "description": None,
                "sources": [
                    {
                        "model": "orders",
                        "column": "amount",
                        "transformation": "aggregated",
                    }
                ],
            },
        ],
    }


def test_columns_of_a_python_model_come_from_its_fields(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/models/stock/columns")

    assert status == 200
    assert [
        (c["name"], c["data_type"], c["is_primary_key"], c["sources"])
        for c in body["columns"]
    ] == [("sku", "string", True, []), ("qty", "int64", False, [])]


def test_columns_of_a_model_without_lineage_carry_the_error(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/models/broken/columns")

    assert status == 200
    assert body["model"] == "broken"
    assert all(column["sources"] == [] for column in body["columns"])
    assert "expected one query" in body["lineage_error"]


def test_column_lineage_defaults_to_upstream_with_depths(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/models/report/columns/doubled/lineage")

    assert status == 200
    assert (body["model"], body["column"]) == ("report", "doubled")
    assert [
        (s["source_model"], s["source_column"], s["transformation"], s["depth"])
        for s in body["sources"]
    ] == [("revenue", "revenue", "derived", 1), ("orders", "amount", "aggregated", 2)]
    assert body["dependents"] == []


def test_column_lineage_downstream_lists_dependents(
    served: ServiceProcess,
) -> None:
    status, body = get(
        served,
        "/api/v1/models/orders/columns/amount/lineage?direction=downstream&depth=1",
    )

    assert status == 200
    assert body["sources"] == []
    assert body["dependents"] == [
        {
            "source_model": "orders",
            "source_column": "amount",
            "output_model": "revenue",
            "output_column": "revenue",
            "transformation": "aggregated",
            "depth": 1,
        }
    ]


def test_an_unknown_column_is_a_resource_not_found(served: ServiceProcess) -> None:
    status, body = get(served, "/api/v1/models/report/columns/nope/lineage")

    assert status == 404
    assert body["code"] == "RESOURCE_NOT_FOUND"
    assert body["detail"] == "Column 'nope' not found"
    assert body["column_id"] == "nope"


def test_plan_reports_a_removed_column_that_dependants_read(
    served: ServiceProcess,
) -> None:
    status, body = get(served, "/api/v1/plan?models=legacy")

    assert status == 200
    assert [
        (c["model_name"], c["change_type"], c["column_name"], c["severity"])
        for c in body["breaking_changes"]
    ] == [("legacy", "column_removed", "b", "error")]
    assert body["breaking_changes"][0]["affected_downstream"] == ["uses_legacy"]
    assert body["has_breaking_changes"] is True
    assert body["summary"]["errors"] == 1
