"""`/api/v1/scheduler` against a real granian server (SPEC §9, §10.4)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.service.conftest import ServiceProcess, running_service, write_project

WAIT_S = 30.0
ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

MODELS = {
    "plain.sql": "SELECT 1 AS id",
    "poll.py": """
        from interlace import model

        @model(schedule={"every_s": "300"})
        def poll(plain):
            return [{"n": 1}]
        """,
    "hourly.py": """
        from interlace import model

        @model(schedule={"cron": "5 * * * *", "timezone": "Europe/Berlin"})
        def hourly():
            return [{"n": 1}]
        """,
}
SCHEDULER_YAML = "scheduler:\n  timezone: UTC\n"


def wait_for(
    client: httpx.Client, ready: Callable[[dict[str, Any]], bool]
) -> dict[str, Any]:
    """Poll the scheduler status until `ready(models by name)` holds."""
    deadline = time.monotonic() + WAIT_S
    while True:
        body: dict[str, Any] = client.get("/api/v1/scheduler").json()
        models = {model["model"]: model for model in body["models"]}
        if ready(models):
            return body
        assert time.monotonic() < deadline, f"scheduler never got there: {body}"
        time.sleep(0.05)


def ended(*names: str) -> Callable[[dict[str, Any]], bool]:
    def check(models: dict[str, Any]) -> bool:
        return all(
            models[name]["last_run_id"] and not models[name]["active_run_id"]
            for name in names
        )

    return check


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = write_project(tmp_path_factory.mktemp("scheduled"), MODELS, SCHEDULER_YAML)
    with running_service(root) as service:
        yield service


def test_status_lists_scheduled_models_after_their_start_up_fire(
    served: ServiceProcess,
) -> None:
    with served.client() as client:
        body = wait_for(client, ended("poll", "hourly"))
        flows = client.get("/api/v1/flows", params={"trigger_type": "schedule"})

    assert (body["running"], body["timezone"], body["scheduled_models"]) == (
        True,
        "UTC",
        2,
    )
    hourly, poll = body["models"]
    assert hourly["model"] == "hourly"
    assert hourly["schedule"] == {"cron": "5 * * * *", "timezone": "Europe/Berlin"}
    assert poll["schedule"] == {"every_s": 300}
    assert set(poll) == {
        "model", "schedule", "next_fire_at", "last_run_at", "last_run_id",
        "last_status", "paused", "active_run_id",
    }  # fmt: skip
    # Never ran, so both fired once at start-up, sharing one run.
    assert poll["last_run_id"] == hourly["last_run_id"]
    assert poll["last_status"] == "completed"
    assert (poll["paused"], poll["active_run_id"]) == (False, None)
    assert ISO_MILLIS.match(poll["last_run_at"])
    assert ISO_MILLIS.match(poll["next_fire_at"])
    assert hourly["next_fire_at"].endswith(":05:00.000Z")
    (flow,) = flows.json()["flows"]
    assert flow["run_id"] == poll["last_run_id"]
    assert (flow["trigger_type"], flow["trigger_id"]) == ("schedule", "hourly,poll")


def test_health_reports_the_scheduler_running(served: ServiceProcess) -> None:
    with served.client() as client:
        body = client.get("/api/v1/health").json()

    assert body["scheduler_running"] is True


def test_pause_and_resume_are_idempotent_and_shown_in_the_status(
    served: ServiceProcess,
) -> None:
    url = "/api/v1/scheduler/models/poll"
    with served.client() as client:
        paused = client.post(f"{url}/pause")
        paused_again = client.post(f"{url}/pause")
        while_paused = client.get("/api/v1/scheduler").json()
        resumed = client.post(f"{url}/resume")
        resumed_again = client.post(f"{url}/resume")

    assert paused.status_code == 200
    assert paused.json() == {"model": "poll", "paused": True, "next_fire_at": None}
    assert paused_again.json() == paused.json()
    poll = {m["model"]: m for m in while_paused["models"]}["poll"]
    assert (poll["paused"], poll["next_fire_at"]) == (True, None)
    assert resumed.status_code == 200
    assert resumed.json()["paused"] is False
    assert ISO_MILLIS.match(resumed.json()["next_fire_at"])
    assert resumed_again.json() == resumed.json()


def test_an_unknown_model_is_a_404_problem(served: ServiceProcess) -> None:
    with served.client() as client:
        response = client.post("/api/v1/scheduler/models/nope/pause")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert (problem["code"], problem["model_id"]) == ("MODEL_NOT_FOUND", "nope")
    assert problem["detail"] == "Model 'nope' not found"


def test_a_model_without_a_schedule_cannot_be_paused(served: ServiceProcess) -> None:
    with served.client() as client:
        response = client.post("/api/v1/scheduler/models/plain/resume")

    assert response.status_code == 400
    assert response.json()["detail"] == "Model 'plain' has no schedule"


def test_a_pause_without_the_scheduler_persists_for_the_next_start(
    tmp_path: Path,
) -> None:
    root = write_project(tmp_path, MODELS, "scheduler:\n  enabled: false\n")
    with running_service(root) as disabled, disabled.client() as client:
        disabled_status = client.get("/api/v1/scheduler").json()
        info = client.get("/api/v1/info").json()
        paused = client.post("/api/v1/scheduler/models/poll/pause").json()
    write_project(tmp_path, MODELS, SCHEDULER_YAML)

    with (
        running_service(root, ["--no-scheduler"]) as idle,
        idle.client() as client,
    ):
        idle_status = client.get("/api/v1/scheduler").json()
        health = client.get("/api/v1/health").json()
        flows = client.get("/api/v1/flows", params={"trigger_type": "schedule"})

    assert disabled_status["running"] is False
    assert info["features"]["scheduling"] is False
    assert all(m["next_fire_at"] is None for m in disabled_status["models"])
    assert paused == {"model": "poll", "paused": True, "next_fire_at": None}
    assert idle_status["running"] is False
    assert health["scheduler_running"] is False
    models = {m["model"]: m for m in idle_status["models"]}
    assert (models["poll"]["paused"], models["hourly"]["paused"]) == (True, False)
    assert flows.json()["flows"] == []
