"""`/api/v1/flows`, tasks and task logs against a real granian server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from tests.service.conftest import ServiceProcess, running_service, write_project

TIMEOUT_S = 30.0

MODELS = {
    "source.sql": "SELECT range AS id FROM range(5)",
    "doubled.sql": "SELECT id * 2 AS id FROM source",
    "broken.sql": "SELECT * FROM missing_table_for_sure",
    "chatty.py": """
        import time
        from pathlib import Path

        from interlace import model

        RELEASE = Path(__file__).resolve().parent.parent / "release.flag"


        @model(retry={"max_attempts": 0})
        def chatty(context):
            context.logger.info("started")
            print("printed line")
            deadline = time.monotonic() + 20
            while not RELEASE.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            context.logger.warning("finished")
        """,
}

FLOW_KEYS = {
    "flow_id", "run_id", "status", "started_at", "completed_at", "duration_seconds",
    "total_tasks", "completed_tasks", "failed_tasks", "total_rows", "trigger",
    "trigger_type", "trigger_id", "created_by", "retry_of", "error",
    "model_selection", "models_total", "models_succeeded", "models_failed",
    "metadata", "summary", "created_at",
}  # fmt: skip
TASK_KEYS = {
    "task_id", "flow_id", "model_name", "schema_name", "status", "attempt",
    "max_attempts", "enqueued_at", "started_at", "completed_at", "duration_seconds",
    "wait_time_seconds", "materialise", "strategy", "dependencies", "parent_task_ids",
    "run_reason", "rows_processed", "rows_ingested", "rows_inserted", "rows_updated",
    "rows_deleted", "schema_changes", "skipped_reason", "error_type", "error_message",
    "error_stacktrace", "metadata",
}  # fmt: skip


class Flows(msgspec.Struct, kw_only=True):
    service: ServiceProcess
    doubled: str
    """api run of `doubled` (completed)."""
    cli: str
    """cli run of `source` (completed)."""
    broken: str
    """api run of `broken` (failed)."""


@pytest.fixture(scope="module")
def flows(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flows]:
    root = write_project(tmp_path_factory.mktemp("flows"), MODELS)
    with running_service(root, ["--no-scheduler"]) as service, service.client() as c:
        doubled = c.post("/api/v1/runs?wait=30", json={"models": ["doubled"]})
        cli = c.post(
            "/api/v1/runs?wait=30",
            json={"models": ["source"], "force": True},
            headers={"X-Interlace-Trigger": "cli"},
        )
        broken = c.post("/api/v1/runs?wait=30", json={"models": ["broken"]})
        yield Flows(
            service=service,
            doubled=doubled.json()["run_id"],
            cli=cli.json()["run_id"],
            broken=broken.json()["run_id"],
        )


def ids(body: dict[str, Any]) -> list[str]:
    return [flow["flow_id"] for flow in body["flows"]]


# --- listing -------------------------------------------------------------------


def test_flows_are_listed_newest_first_with_their_aggregates(flows: Flows) -> None:
    with flows.service.client() as client:
        body = client.get("/api/v1/flows").json()

    assert ids(body)[:3] == [flows.broken, flows.cli, flows.doubled]
    assert (body["total"], body["has_more"], body["next_cursor"]) == (3, False, None)
    doubled = body["flows"][2]
    assert set(doubled) == FLOW_KEYS
    assert doubled["status"] == "completed"
    assert (doubled["trigger"], doubled["trigger_type"]) == ("api", "api")
    assert (doubled["total_tasks"], doubled["completed_tasks"]) == (2, 2)
    assert doubled["total_rows"] == 10
    assert (doubled["models_total"], doubled["models_succeeded"]) == (2, 2)
    assert doubled["summary"] == {
        "total_tasks": 2,
        "completed": 2,
        "failed": 0,
        "skipped": 0,
        "cancelled": 0,
    }
    assert doubled["metadata"]["models"] == ["source", "doubled"]
    assert doubled["created_at"].endswith("Z")
    assert doubled["duration_seconds"] >= 0


def test_a_failed_flow_reports_its_error_and_failed_task(flows: Flows) -> None:
    with flows.service.client() as client:
        flow = client.get(f"/api/v1/flows/{flows.broken}").json()

    assert flow["status"] == "failed"
    assert flow["error"]["code"] == "task_failed"
    assert (flow["failed_tasks"], flow["models_failed"]) == (1, 1)
    (task,) = flow["tasks"]
    assert task["status"] == "failed"
    assert task["error_message"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=failed", ["broken"]),
        ("trigger_type=cli", ["cli"]),
        ("model=doubled", ["doubled"]),
        ("status=completed&trigger_type=api", ["doubled"]),
        ("since=2999-01-01", []),
        ("until=2000-01-01T00:00:00", []),
        ("since=2000-01-01&model=broken", ["broken"]),
    ],
)
def test_flow_filters_combine(flows: Flows, query: str, expected: list[str]) -> None:
    with flows.service.client() as client:
        body = client.get(f"/api/v1/flows?{query}").json()

    assert ids(body) == [getattr(flows, name) for name in expected]
    assert body["total"] == len(expected)


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("status=done", "query.status"),
        ("trigger_type=robot", "query.trigger_type"),
        ("since=yesterday", "query.since"),
        ("limit=0", "query.limit"),
    ],
)
def test_an_invalid_flow_filter_is_rejected(
    flows: Flows, query: str, path: str
) -> None:
    with flows.service.client() as client:
        response = client.get(f"/api/v1/flows?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["errors"][0]["path"] == path


def test_cursor_pages_continue_after_the_last_item_despite_new_runs(
    flows: Flows,
) -> None:
    with flows.service.client() as client:
        first = client.get("/api/v1/flows?limit=1&trigger_type=api").json()
        client.post("/api/v1/runs?wait=30", json={"models": ["source"]})
        cursor = first["next_cursor"]
        second = client.get(f"/api/v1/flows?limit=1&trigger_type=api&cursor={cursor}")
        other_filters = client.get(f"/api/v1/flows?limit=1&cursor={cursor}")

    assert ids(first) == [flows.broken]
    assert first["has_more"] is True
    assert ids(second.json()) == [flows.doubled]
    assert second.json()["total"] == 3
    assert second.json()["has_more"] is False
    assert other_filters.status_code == 400


# --- one flow and its tasks ----------------------------------------------------


def test_a_flow_comes_with_its_tasks_in_topological_order(flows: Flows) -> None:
    with flows.service.client() as client:
        flow = client.get(f"/api/v1/flows/{flows.doubled}").json()
        listed = client.get(f"/api/v1/flows/{flows.doubled}/tasks").json()

    assert set(flow) == FLOW_KEYS | {"tasks"}
    source, doubled = flow["tasks"]
    assert (source["model_name"], doubled["model_name"]) == ("source", "doubled")
    assert set(doubled) == TASK_KEYS
    assert doubled["flow_id"] == flows.doubled
    assert doubled["dependencies"] == ["source"]
    assert doubled["parent_task_ids"] == [source["task_id"]]
    assert doubled["run_reason"] == "first_run"
    assert doubled["rows_processed"] == 5
    assert doubled["wait_time_seconds"] >= 0
    assert listed["tasks"] == flow["tasks"]
    assert (listed["total"], listed["has_more"]) == (2, False)


def test_tasks_are_paginated_with_a_cursor(flows: Flows) -> None:
    with flows.service.client() as client:
        first = client.get(f"/api/v1/flows/{flows.doubled}/tasks?limit=1").json()
        cursor = first["next_cursor"]
        second = client.get(
            f"/api/v1/flows/{flows.doubled}/tasks?limit=1&cursor={cursor}"
        ).json()

    assert [task["model_name"] for task in first["tasks"]] == ["source"]
    assert [task["model_name"] for task in second["tasks"]] == ["doubled"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(
    "path", ["/api/v1/flows/run_000000000000", "/api/v1/flows/run_000000000000/tasks"]
)
def test_an_unknown_flow_is_not_found(flows: Flows, path: str) -> None:
    with flows.service.client() as client:
        response = client.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "FLOW_NOT_FOUND"
    assert response.json()["flow_id"] == "run_000000000000"


# --- task logs -------------------------------------------------------------------


def _logs(client: httpx.Client, run_id: str, task_id: str, **query: int) -> Any:
    path = f"/api/v1/flows/{run_id}/tasks/{task_id}/logs"
    return client.get(path, params=query).json()


def _poll_logs(
    client: httpx.Client, run_id: str, task_id: str, after: int, until: str
) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        body: dict[str, Any] = _logs(client, run_id, task_id, after=after)
        messages = [line["message"] for line in body["lines"]]
        if until in messages and (until != "finished" or body["complete"]):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def test_task_logs_can_be_tailed_until_the_task_is_complete(flows: Flows) -> None:
    release = flows.service.root / "release.flag"
    with flows.service.client() as client:
        run = client.post("/api/v1/runs", json={"models": ["chatty"]}).json()
        flow = client.get(f"/api/v1/flows/{run['run_id']}").json()
        task_id = flow["tasks"][0]["task_id"]
        early = _poll_logs(client, run["run_id"], task_id, 0, "printed line")
        paged = _logs(client, run["run_id"], task_id, after=0, limit=1)
        release.touch()
        late = _poll_logs(
            client, run["run_id"], task_id, early["next_after"], "finished"
        )

    assert early["complete"] is False
    assert early["truncated"] is False
    first, printed = early["lines"]
    assert (first["line"], first["level"], first["stream"]) == (1, "INFO", "log")
    assert first["message"] == "started"
    assert first["timestamp"].endswith("Z")
    assert (printed["line"], printed["stream"]) == (2, "stdout")
    assert early["next_after"] == 2
    assert [line["line"] for line in paged["lines"]] == [1]
    assert paged["next_after"] == 1
    assert [line["message"] for line in late["lines"]] == ["finished"]
    assert late["lines"][0]["level"] == "WARNING"
    assert late["next_after"] == 3
    assert late["complete"] is True


def test_logs_of_an_unknown_task_or_of_another_flow_are_not_found(
    flows: Flows,
) -> None:
    with flows.service.client() as client:
        task_id = client.get(f"/api/v1/flows/{flows.doubled}").json()["tasks"][0][
            "task_id"
        ]
        unknown = client.get(
            f"/api/v1/flows/{flows.doubled}/tasks/task_000000000000/logs"
        )
        elsewhere = client.get(f"/api/v1/flows/{flows.broken}/tasks/{task_id}/logs")
        finished = client.get(f"/api/v1/flows/{flows.doubled}/tasks/{task_id}/logs")

    assert unknown.status_code == elsewhere.status_code == 404
    assert unknown.json()["code"] == "TASK_NOT_FOUND"
    assert finished.json()["complete"] is True
    assert finished.json()["lines"] == []
