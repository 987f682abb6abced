"""`/api/v1/runs` against a real granian server with authentication on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import (
    start_service,
    write_project,
)

RUN_TIMEOUT_S = 30.0
SLOW_QUERY = "SELECT count(*) AS n FROM range(100000000000) a"
TERMINAL = {"completed", "failed", "cancelled"}

MODELS = {
    "source.sql": "SELECT range AS id FROM range(5)",
    "doubled.sql": "SELECT id * 2 AS id FROM source",
    "flaky.py": """
        from pathlib import Path

        from interlace import model

        FLAG = Path(__file__).resolve().parent.parent / "fail.flag"


        @model(retry={"max_attempts": 0})
        def flaky(source):
            if FLAG.exists():
                raise RuntimeError("flaky failed on purpose")
            return source.sql("SELECT id FROM source")
        """,
    "after_flaky.sql": "SELECT id FROM flaky",
    "slow.sql": SLOW_QUERY,
    "after_slow.sql": "SELECT * FROM slow",
}
SERVICE_YAML = """
service:
  auth:
    enabled: true
    api_keys:
      - {name: ops, key: ops-secret, permissions: [read, write, execute]}
      - {name: other, key: other-secret, permissions: [read, execute]}
"""
OPS = {"Authorization": "Bearer ops-secret"}
OTHER = {"X-API-Key": "other-secret"}


class Served:
    """The module's server, which one test restarts on the same project."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.service = start_service(root, ["--no-scheduler"])

    def client(self, **headers: str) -> httpx.Client:
        return self.service.client(**{**OPS, **headers})

    def restart(self) -> None:
        self.service.stop()
        self.service = start_service(self.root, ["--no-scheduler"])


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = write_project(tmp_path_factory.mktemp("runs"), MODELS, SERVICE_YAML)
    holder = Served(root)
    try:
        yield holder
    finally:
        holder.service.stop()


def wait_for_end(client: httpx.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        body: dict[str, Any] = client.get(f"/api/v1/runs/{run_id}/status").json()
        if body["status"] in TERMINAL:
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def wait_until_executing(client: httpx.Client, run_id: str, model: str) -> None:
    """A SQL model's query runs while it is `running` or `materialising`."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while True:
        body = client.get(f"/api/v1/runs/{run_id}/status").json()
        states = {task["model_name"]: task["status"] for task in body["tasks"]}
        if states.get(model) in ("running", "materialising"):
            return
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def tasks_of(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["model_name"]: task for task in body["tasks"]}


# --- starting ------------------------------------------------------------------


def test_a_run_is_accepted_with_its_location_and_recorded_for_the_api_key(
    served: Served,
) -> None:
    with served.client() as client:
        response = client.post(
            "/api/v1/runs",
            json={"models": ["doubled"], "trigger_metadata": {"ticket": "OPS-12"}},
        )
        run_id = response.json()["run_id"]
        status = wait_for_end(client, run_id)
        flow = client.get(f"/api/v1/flows/{run_id}").json()

    assert response.status_code == 202
    assert response.headers["location"] == f"/api/v1/runs/{run_id}/status"
    assert response.json() == {
        "run_id": run_id,
        "flow_id": run_id,
        "status": "accepted",
        "models": ["source", "doubled"],
        "estimated_tasks": 2,
    }
    assert run_id.startswith("run_") and len(run_id) == 16
    assert status["status"] == "completed"
    assert status["trigger_type"] == "api"
    assert status["progress"]["total_tasks"] == 2
    assert (flow["trigger_id"], flow["created_by"]) == ("ops", "ops")
    assert flow["model_selection"] == "doubled"
    assert flow["metadata"]["trigger_metadata"] == {"ticket": "OPS-12"}


def test_wait_answers_200_with_the_status_of_a_run_that_ends_in_time(
    served: Served,
) -> None:
    with served.client() as client:
        response = client.post(
            "/api/v1/runs?wait=30", json={"models": ["source"], "force": True}
        )

    body = response.json()
    assert response.status_code == 200
    assert response.headers["location"] == f"/api/v1/runs/{body['run_id']}/status"
    assert body["status"] == "completed"
    assert body["completed_at"].endswith("Z") and len(body["completed_at"]) == 24
    assert body["elapsed_seconds"] >= 0
    assert body["progress"] == {
        "total_tasks": 1,
        "completed": 1,
        "failed": 0,
        "running": 0,
        "pending": 0,
        "skipped": 0,
        "cancelled": 0,
    }
    (task,) = body["tasks"]
    assert task["model_name"] == "source"
    assert task["rows_processed"] == 5
    assert task["duration_seconds"] >= 0


def test_a_cli_submission_is_recorded_as_a_cli_run_of_its_user(
    served: Served,
) -> None:
    headers = {"X-Interlace-Trigger": "cli", "X-Interlace-User": "alice"}
    with served.client(**headers) as client:
        run_id = client.post(
            "/api/v1/runs?wait=30", json={"models": ["source"]}
        ).json()["run_id"]
        flow = client.get(f"/api/v1/flows/{run_id}").json()

    assert (flow["trigger_type"], flow["created_by"]) == ("cli", "alice")


# --- validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail", "path"),
    [
        ({"force": "yes"}, "'force' must be a boolean (true/false)", "$.force"),
        (
            {"since": 20240101},
            "'since' must be a string (e.g. '2024-01-01')",
            "$.since",
        ),
        ({"until": False}, "'until' must be a string", "$.until"),
        ({"models": "source"}, "'models' must be a list of model names", "$.models"),
        (
            {"models": ["source", 3]},
            "'models' must be a list of model names",
            "$.models",
        ),
        ({"colour": "red"}, "Unknown field 'colour' in request body", "$.colour"),
        (["source"], "Request body must be a JSON object", "$"),
    ],
)
def test_an_invalid_run_body_is_rejected_with_the_documented_message(
    served: Served, body: object, detail: str, path: str
) -> None:
    with served.client() as client:
        response = client.post("/api/v1/runs", json=body)

    problem = response.json()
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert problem["code"] == "VALIDATION_ERROR"
    assert problem["detail"] == detail
    assert problem["errors"][0]["path"] == path


def test_an_empty_model_list_runs_nothing(served: Served) -> None:
    with served.client() as client:
        response = client.post("/api/v1/runs?wait=10", json={"models": []})

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "completed"
    assert body["tasks"] == []
    assert body["progress"]["total_tasks"] == 0


def test_malformed_json_is_an_invalid_request(served: Served) -> None:
    with served.client() as client:
        response = client.post(
            "/api/v1/runs",
            content=b'{"models": [',
            headers={"Content-Type": "application/json"},
        )

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    assert response.json()["detail"] == "Invalid JSON in request body"


@pytest.mark.parametrize("wait", ["301", "-1", "soon", "nan"])
def test_a_wait_outside_0_to_300_seconds_is_rejected(served: Served, wait: str) -> None:
    with served.client() as client:
        response = client.post(f"/api/v1/runs?wait={wait}", json={"models": []})

    assert response.status_code == 400
    assert response.json()["detail"] == (
        "'wait' must be a number of seconds between 0 and 300"
    )


def test_unknown_models_are_listed_with_the_available_ones(served: Served) -> None:
    with served.client() as client:
        response = client.post("/api/v1/runs", json={"models": ["nope", "+source"]})

    problem = response.json()
    assert response.status_code == 400
    assert problem["detail"] == "Unknown models: ['nope']"
    assert problem["invalid_models"] == ["nope"]
    assert "after_slow" in problem["available_models"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/runs/run_000000000000/status"),
        ("POST", "/api/v1/runs/run_000000000000/cancel"),
        ("POST", "/api/v1/runs/run_000000000000/retry"),
    ],
)
def test_an_unknown_run_is_not_found(served: Served, method: str, path: str) -> None:
    with served.client() as client:
        response = client.request(method, path)

    assert response.status_code == 404
    assert response.json()["code"] == "RUN_NOT_FOUND"
    assert response.json()["run_id"] == "run_000000000000"


# --- cancelling ----------------------------------------------------------------


def test_cancel_interrupts_a_long_duckdb_query_of_a_run_that_outlived_wait(
    served: Served,
) -> None:
    with served.client() as client:
        accepted = client.post("/api/v1/runs?wait=0.2", json={"models": ["after_slow"]})
        run_id = accepted.json()["run_id"]
        wait_until_executing(client, run_id, "slow")
        retry = client.post(f"/api/v1/runs/{run_id}/retry")
        started = time.monotonic()
        cancel = client.post(f"/api/v1/runs/{run_id}/cancel")
        elapsed = time.monotonic() - started
        status = client.get(f"/api/v1/runs/{run_id}/status").json()
        again = client.post(f"/api/v1/runs/{run_id}/cancel")
        flow = client.get(f"/api/v1/flows/{run_id}").json()

    assert accepted.status_code == 202
    assert retry.status_code == 409
    assert retry.json()["code"] == "RUN_NOT_FINISHED"
    assert cancel.json() == {"status": "cancelled", "run_id": run_id}
    assert elapsed < 5.5
    assert status["status"] == "cancelled"
    assert status["progress"]["cancelled"] == 1
    tasks = tasks_of(status)
    assert tasks["slow"]["status"] == "cancelled"
    assert tasks["after_slow"]["status"] == "skipped"
    assert again.json() == {
        "status": "already_completed",
        "run_id": run_id,
        "final_status": "cancelled",
    }
    assert flow["error"]["code"] == "cancelled"
    assert flow["summary"]["skipped"] == 1


# --- retrying ------------------------------------------------------------------


def test_retry_forces_the_failed_model_and_its_skipped_downstream(
    served: Served,
) -> None:
    flag = served.root / "fail.flag"
    flag.touch()
    with served.client() as client:
        failed = client.post(
            "/api/v1/runs?wait=30",
            json={"models": ["after_flaky"], "force": True, "since": "2024-01-01"},
        ).json()
        flag.unlink()
        retry = client.post(f"/api/v1/runs/{failed['run_id']}/retry", json={})
        retried = wait_for_end(client, retry.json()["run_id"])
        flow = client.get(f"/api/v1/flows/{retried['run_id']}").json()

    assert failed["status"] == "failed"
    assert tasks_of(failed)["after_flaky"]["status"] == "skipped"
    assert retry.status_code == 202
    assert retry.headers["location"].endswith(f"/{retry.json()['run_id']}/status")
    assert retry.json()["retry_of"] == failed["run_id"]
    assert retried["retry_of"] == failed["run_id"]
    assert retried["status"] == "completed"
    assert tasks_of(retried)["flaky"]["status"] == "completed"
    assert tasks_of(retried)["after_flaky"]["status"] == "completed"
    assert flow["metadata"]["since"] == "2024-01-01"
    task_reasons = {task["model_name"]: task["run_reason"] for task in flow["tasks"]}
    assert task_reasons["flaky"] == "force"


def test_retry_in_failed_mode_leaves_skipped_downstream_out(served: Served) -> None:
    flag = served.root / "fail.flag"
    flag.touch()
    with served.client() as client:
        failed = client.post(
            "/api/v1/runs?wait=30", json={"models": ["after_flaky"], "force": True}
        ).json()
        flag.unlink()
        retry = client.post(
            f"/api/v1/runs/{failed['run_id']}/retry", json={"mode": "failed"}
        )
        retried = wait_for_end(client, retry.json()["run_id"])

    assert retry.json()["models"] == ["source", "flaky"]
    assert retried["status"] == "completed"
    assert set(tasks_of(retried)) == {"source", "flaky"}


def test_retry_of_a_completed_run_has_nothing_to_retry(served: Served) -> None:
    with served.client() as client:
        done = client.post("/api/v1/runs?wait=30", json={"models": ["source"]}).json()
        response = client.post(
            f"/api/v1/runs/{done['run_id']}/retry", json={"mode": "failed"}
        )
        bad_mode = client.post(
            f"/api/v1/runs/{done['run_id']}/retry", json={"mode": "some"}
        )

    assert response.status_code == 400
    assert "no tasks to retry" in response.json()["detail"]
    assert bad_mode.status_code == 400
    assert bad_mode.json()["detail"] == (
        "'mode' must be one of 'failed', 'failed_and_downstream', 'all'"
    )


def test_retry_all_forces_every_model_of_the_original_run(served: Served) -> None:
    with served.client() as client:
        done = client.post("/api/v1/runs?wait=30", json={"models": ["doubled"]}).json()
        retry = client.post(
            f"/api/v1/runs/{done['run_id']}/retry", json={"mode": "all"}
        )
        retried = wait_for_end(client, retry.json()["run_id"])

    assert retry.json()["models"] == ["source", "doubled"]
    assert [task["status"] for task in retried["tasks"]] == ["completed", "completed"]


# --- idempotency ---------------------------------------------------------------


def _flow_total(client: httpx.Client) -> int:
    total: int = client.get("/api/v1/flows?model=doubled&limit=1").json()["total"]
    return total


def test_a_repeated_idempotent_request_replays_the_answer_without_a_new_run(
    served: Served,
) -> None:
    key = {"Idempotency-Key": "replay-1"}
    with served.client() as client:
        first = client.post("/api/v1/runs", json={"models": ["doubled"]}, headers=key)
        total = _flow_total(client)
        second = client.post(
            "/api/v1/runs",
            content=b'{"force": false, "models": ["doubled"]}',
            headers={**key, "Content-Type": "application/json"},
        )
        total_after = _flow_total(client)
        wait_for_end(client, first.json()["run_id"])

    assert first.status_code == second.status_code == 202
    assert "idempotency-replayed" not in first.headers
    assert second.headers["idempotency-replayed"] == "true"
    assert second.headers["location"] == first.headers["location"]
    assert second.content == first.content
    assert total_after == total


def test_an_idempotency_key_reused_with_another_body_is_a_conflict(
    served: Served,
) -> None:
    key = {"Idempotency-Key": "conflict-1"}
    with served.client() as client:
        first = client.post(
            "/api/v1/runs?wait=30", json={"models": ["source"]}, headers=key
        )
        second = client.post(
            "/api/v1/runs", json={"models": ["source"], "force": True}, headers=key
        )

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["code"] == "IDEMPOTENCY_CONFLICT"


def test_idempotency_keys_are_scoped_per_api_key(served: Served) -> None:
    key = {"Idempotency-Key": "shared-1"}
    with served.client(**key) as ops, served.service.client(**OTHER, **key) as other:
        mine = ops.post("/api/v1/runs?wait=30", json={"models": ["source"]})
        theirs = other.post("/api/v1/runs?wait=30", json={"models": ["source"]})
        flow = ops.get(f"/api/v1/flows/{theirs.json()['run_id']}").json()

    assert "idempotency-replayed" not in theirs.headers
    assert theirs.json()["run_id"] != mine.json()["run_id"]
    assert flow["created_by"] == "other"


# --- restart ---------------------------------------------------------------------


def test_a_finished_run_reads_the_same_after_a_restart(served: Served) -> None:
    with served.client() as client:
        done = client.post("/api/v1/runs?wait=30", json={"models": ["doubled"]}).json()
    served.restart()

    with served.client() as client:
        status = client.get(f"/api/v1/runs/{done['run_id']}/status")
        flow = client.get(f"/api/v1/flows/{done['run_id']}")

    assert status.status_code == 200
    assert status.json() == done
    assert flow.json()["status"] == "completed"
