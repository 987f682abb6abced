"""`/api/v1/plan` against a real granian server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.service.conftest import ServiceProcess, running_service, write_project

MODELS = {
    "events.py": """
        from interlace import model


        @model(cursor="id")
        def events():
            return [{"id": 1}, {"id": 2}]
        """,
    "per_event.sql": "SELECT id * 10 AS value FROM events",
    "source.sql": "SELECT range AS id FROM range(5)",
    "doubled.sql": "SELECT id * 2 AS id FROM source",
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


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = write_project(tmp_path_factory.mktemp("plan"), MODELS)
    with running_service(root, ["--no-scheduler"]) as service:
        yield service


def names(entries: list[dict[str, Any]]) -> list[str]:
    return [entry["model_name"] for entry in entries]


def test_a_fresh_project_plans_every_model_as_a_first_run(
    planned: ServiceProcess,
) -> None:
    with planned.client() as client:
        body = client.get("/api/v1/plan").json()

    assert names(body["models_to_run"]) == ["events", "source", "doubled", "per_event"]
    assert body["models_skipped"] == []
    first = body["models_to_run"][0]
    assert set(first) == RUN_KEYS
    assert first["run_reason"] == "first_run"
    assert first["downstream_affected"] == ["per_event"]
    assert body["breaking_changes"] == []
    assert body["total_affected"] == 4
    assert body["has_breaking_changes"] is False
    assert body["summary"] == {"will_run": 4, "skipped": 0, "warnings": 0, "errors": 0}


def test_a_selection_is_closed_under_upstream(planned: ServiceProcess) -> None:
    with planned.client() as client:
        body = client.get("/api/v1/plan?models=doubled").json()

    assert names(body["models_to_run"]) == ["source", "doubled"]


def test_after_a_run_the_plan_skips_unchanged_models_unless_forced(
    planned: ServiceProcess,
) -> None:
    with planned.client() as client:
        client.post("/api/v1/runs?wait=30", json={})
        unchanged = client.get("/api/v1/plan").json()
        forced = client.get("/api/v1/plan?models=source,doubled&force=yes").json()
        not_forced = client.get("/api/v1/plan?force=0").json()

    assert unchanged["models_to_run"] == []
    assert unchanged["models_skipped"][0] == {
        "model_name": "events",
        "will_run": False,
        "run_reason": None,
        "skip_reason": "no_changes",
    }
    assert [entry["run_reason"] for entry in forced["models_to_run"]] == [
        "force",
        "force",
    ]
    assert not_forced["summary"]["will_run"] == 0


def test_a_backfill_plan_forces_cursor_models_and_predicts_their_dependants(
    planned: ServiceProcess,
) -> None:
    with planned.client() as client:
        client.post("/api/v1/runs?wait=30", json={})
        body = client.post(
            "/api/v1/plan", json={"since": "0", "until": "9", "models": ["per_event"]}
        ).json()

    events, per_event = body["models_to_run"]
    assert (events["model_name"], events["run_reason"]) == ("events", "force")
    assert per_event["run_reason"] == "upstream_changed"
    assert per_event["upstream_changed"] == ["events"]


def test_no_upstream_plans_only_the_selected_models(planned: ServiceProcess) -> None:
    with planned.client() as client:
        body = client.post(
            "/api/v1/plan", json={"models": ["doubled"], "no_upstream": True}
        ).json()

    assert names(body["models_to_run"] + body["models_skipped"]) == ["doubled"]


@pytest.mark.parametrize(
    ("method", "path", "body", "detail"),
    [
        ("GET", "/api/v1/plan?force=maybe", None, "'force' must be a boolean"),
        ("POST", "/api/v1/plan", {"force": "x"}, "'force' must be a boolean"),
        ("POST", "/api/v1/plan", {"colour": 1}, "Unknown field 'colour'"),
        ("GET", "/api/v1/plan?models=nope", None, "Unknown models: ['nope']"),
        ("POST", "/api/v1/plan", {"models": ["nope"]}, "Unknown models: ['nope']"),
    ],
)
def test_an_invalid_plan_request_is_rejected(
    planned: ServiceProcess, method: str, path: str, body: object, detail: str
) -> None:
    with planned.client() as client:
        response = client.request(method, path, json=body)

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["detail"].startswith(detail)
