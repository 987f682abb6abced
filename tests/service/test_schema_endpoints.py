"""Schema history, current and diff endpoints against a real granian server."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.runtime.helpers import run_project
from tests.service.conftest import ServiceProcess, running_service, write_project

V1 = "-- @name: orders\n-- @strategy: append\nSELECT 1 AS id, 1.5::DOUBLE AS amount"
V2 = (
    "-- @name: orders\n-- @strategy: append\n"
    "SELECT 2 AS id, 2.5::DOUBLE AS amount, 'X' AS coupon"
)
STOCK = """
    from interlace import model

    @model(fields={"sku": "string", "qty": "int32"}, primary_key="sku")
    def stock():
        return [{"sku": "a", "qty": 1}]
    """
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def column(name: str, kind: str, primary: bool = False) -> dict[str, object]:
    return {"name": name, "type": kind, "nullable": True, "is_primary_key": primary}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """`orders` materialised twice (v1, then v2 adding `coupon`); `stock`
    never materialised."""
    root: Path = write_project(
        tmp_path_factory.mktemp("schema"), {"orders.sql": V1, "stock.py": STOCK}
    )
    run_project(root, selectors=("orders",))
    (root / "models" / "orders.sql").write_text(V2)
    run_project(root, selectors=("orders",))
    with running_service(root, ["--no-scheduler"]) as service:
        yield service


def test_history_lists_versions_newest_first_with_every_column(
    served: ServiceProcess,
) -> None:
    with served.client() as client:
        response = client.get("/api/v1/models/orders/schema/history")

    body = response.json()
    assert response.status_code == 200
    assert [v["version"] for v in body["versions"]] == [2, 1]
    assert body["versions"][0]["columns"] == [
        column("id", "int32"),
        column("amount", "float64"),
        column("coupon", "string"),
    ]
    assert all(ISO_MILLIS.match(v["detected_at"]) for v in body["versions"])
    assert (body["total"], body["has_more"], body["next_cursor"]) == (2, False, None)


def test_history_pages_with_a_cursor(served: ServiceProcess) -> None:
    with served.client() as client:
        first = client.get("/api/v1/models/orders/schema/history?limit=1").json()
        cursor = first["next_cursor"]
        second = client.get(
            f"/api/v1/models/orders/schema/history?limit=1&cursor={cursor}"
        ).json()

    assert [v["version"] for v in first["versions"]] == [2]
    assert first["has_more"] is True
    assert [v["version"] for v in second["versions"]] == [1]
    assert second["has_more"] is False


def test_current_is_the_latest_version(served: ServiceProcess) -> None:
    with served.client() as client:
        body = client.get("/api/v1/models/orders/schema/current").json()

    assert body["version"] == 2
    assert [c["name"] for c in body["columns"]] == ["id", "amount", "coupon"]


def test_diff_from_1_to_current_has_the_documented_shape(
    served: ServiceProcess,
) -> None:
    with served.client() as client:
        response = client.get("/api/v1/models/orders/schema/diff?from=1&to=0")

    assert response.status_code == 200
    assert response.json() == {
        "model": "orders",
        "from_version": 1,
        "to_version": 2,
        "diff": [
            {
                "name": "id",
                "change": "unchanged",
                "old_type": "int32",
                "new_type": "int32",
            },
            {
                "name": "amount",
                "change": "unchanged",
                "old_type": "float64",
                "new_type": "float64",
            },
            {
                "name": "coupon",
                "change": "added",
                "old_type": None,
                "new_type": "string",
            },
        ],
        "added": [{"name": "coupon", "type": "string"}],
        "removed": [],
        "modified": [],
    }


def test_diff_without_parameters_compares_the_previous_version_with_current(
    served: ServiceProcess,
) -> None:
    with served.client() as client:
        body = client.get("/api/v1/models/orders/schema/diff").json()

    assert (body["from_version"], body["to_version"]) == (1, 2)


def test_a_never_materialised_model_has_a_synthetic_version_from_fields(
    served: ServiceProcess,
) -> None:
    with served.client() as client:
        history = client.get("/api/v1/models/stock/schema/history").json()
        current = client.get("/api/v1/models/stock/schema/current").json()
        diff = client.get("/api/v1/models/stock/schema/diff?from=1").json()

    columns = [column("sku", "string", primary=True), column("qty", "int32")]
    assert history["versions"] == [
        {"version": 1, "detected_at": None, "columns": columns}
    ]
    assert history["total"] == 1
    assert current == {"version": 0, "columns": columns}
    assert (diff["from_version"], diff["to_version"]) == (1, 0)
    assert {c["change"] for c in diff["diff"]} == {"unchanged"}


@pytest.mark.parametrize("query", ["from=abc", "to=1.5", "from=1&to=x"])
def test_non_integer_versions_are_rejected(served: ServiceProcess, query: str) -> None:
    with served.client() as client:
        response = client.get(f"/api/v1/models/orders/schema/diff?{query}")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert body["detail"] == "'from' and 'to' must be valid integers"


@pytest.mark.parametrize("query", ["from=7", "from=1&to=3", "from=-1"])
def test_unknown_versions_are_not_found(served: ServiceProcess, query: str) -> None:
    with served.client() as client:
        response = client.get(f"/api/v1/models/orders/schema/diff?{query}")

    body = response.json()
    assert response.status_code == 404
    assert body["code"] == "RESOURCE_NOT_FOUND"
    assert body["model_id"] == "orders"
    assert "Schema version" in body["detail"]


@pytest.mark.parametrize("endpoint", ["history", "current", "diff"])
def test_an_unknown_model_is_not_found(served: ServiceProcess, endpoint: str) -> None:
    with served.client() as client:
        response = client.get(f"/api/v1/models/nope/schema/{endpoint}")

    assert response.status_code == 404
    assert response.json()["code"] == "MODEL_NOT_FOUND"


def test_model_detail_reports_columns_from_the_latest_schema_version(
    served: ServiceProcess,
) -> None:
    with served.client() as client:
        orders = client.get("/api/v1/models/orders").json()
        stock = client.get("/api/v1/models/stock").json()

    assert [(c["name"], c["data_type"]) for c in orders["columns"]] == [
        ("id", "int32"),
        ("amount", "float64"),
        ("coupon", "string"),
    ]
    assert [(c["name"], c["is_primary_key"]) for c in stock["columns"]] == [
        ("sku", True),
        ("qty", False),
    ]
