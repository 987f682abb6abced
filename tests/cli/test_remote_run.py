"""`interlace run` while a service runs for the project: submitted over HTTP.

Real granian services in subprocesses (one per module fixture) and the real
console script in subprocesses; the service's own API is the witness.
"""

from __future__ import annotations

import getpass
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlace.cli.service_discovery import LiveService, find_service
from tests.cli.conftest import Invoke, last_run_tasks, outcomes
from tests.cli.test_entry_point import REPO, console_script
from tests.service.conftest import (
    ServiceProcess,
    free_port,
    running_service,
    write_project,
)

RUN_TIMEOUT_S = 60

MODELS = {
    "raw.sql": "SELECT range AS id, range * 10 AS amount FROM range(4)",
    "enriched.py": """
        from interlace import model

        @model
        def enriched(raw):
            return [
                {"id": row["id"], "gross": row["amount"] * 2}
                for row in raw.arrow().to_pylist()
            ]
        """,
    "total.sql": "SELECT sum(gross) AS total FROM enriched",
    "broken.py": """
        from interlace import model

        @model
        def broken(raw):
            raise ValueError("boom in broken")
        """,
    "after_broken.sql": "SELECT * FROM broken",
    "sleepy.py": """
        import time

        from interlace import model

        @model
        def sleepy():
            time.sleep(3)  # cancelling cannot stop this: the run stays open
            return [{"id": 1}]
        """,
    "slow.sql": (
        "SELECT sum(a.range * b.range % 7) AS n FROM range(300000) a, range(300000) b"
    ),
}

SERVICE_YAML = """
service:
  auth:
    enabled: true
    api_keys:
      - {name: ops, key: ops-secret, permissions: [read, write, execute]}
      - {name: viewer, key: viewer-secret, permissions: [read]}
  sse: {buffer_size: 1}
"""
"""API keys required, and a one-event SSE buffer: the stream overflows on
every batch of events, so each run is followed through resumed streams."""
OPS_KEY = {"INTERLACE_API_KEY": "ops-secret"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = write_project(tmp_path_factory.mktemp("remote"), MODELS, SERVICE_YAML)
    with running_service(root) as running:
        yield running


def run_cli(
    root: Path, *args: str, env: Mapping[str, str] | None = OPS_KEY
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*console_script(), "run", "-d", str(root), *args],
        env=_environment(env),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def _environment(extra: Mapping[str, str] | None) -> dict[str, str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    environment.pop("INTERLACE_ENV", None)
    environment.pop("INTERLACE_API_KEY", None)
    return {**environment, **(extra or {})}


def api(service: ServiceProcess) -> httpx.Client:
    return service.client(Authorization="Bearer ops-secret")


def newest_flow(service: ServiceProcess) -> dict[str, Any]:
    with api(service) as client:
        flows = client.get("/api/v1/flows", params={"limit": 1}).json()["flows"]
        detail: dict[str, Any] = client.get(
            f"/api/v1/flows/{flows[0]['flow_id']}"
        ).json()
        return detail


def task_statuses(flow: dict[str, Any]) -> dict[str, str]:
    return {task["model_name"]: task["status"] for task in flow["tasks"]}


def shown_statuses(stdout: str, model: str) -> list[str]:
    """The statuses the plain renderer printed for `model`, in order."""
    return [
        line.split()[1] for line in stdout.splitlines() if line.split()[:1] == [model]
    ]


def test_run_submits_to_the_running_service_and_records_a_cli_run(
    service: ServiceProcess,
) -> None:
    result = run_cli(service.root, "total")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Run submitted to the service at {service.url}"
    assert "completed: 3 completed, 0 skipped, 0 failed" in lines[-1]
    flow = newest_flow(service)
    assert flow["trigger_type"] == "cli"
    assert flow["created_by"] == getpass.getuser()
    assert flow["status"] == "completed"
    assert task_statuses(flow) == {
        "raw": "completed",
        "enriched": "completed",
        "total": "completed",
    }


def test_every_status_change_is_shown_although_the_stream_overflows(
    service: ServiceProcess,
) -> None:
    result = run_cli(service.root, "total", "--force")

    assert result.returncode == 0, result.stderr
    for model in ("raw", "enriched", "total"):
        shown = [s for s in shown_statuses(result.stdout, model) if s != "waiting"]
        assert shown == ["ready", "running", "materialising", "completed"], model


def test_a_failing_model_on_the_service_exits_1_and_shows_its_error(
    service: ServiceProcess,
) -> None:
    result = run_cli(service.root, "after_broken", "--force")

    assert result.returncode == 1, result.stderr
    flow = newest_flow(service)
    assert flow["status"] == "failed"
    assert task_statuses(flow) == {
        "raw": "completed",
        "broken": "failed",
        "after_broken": "skipped",
    }
    assert "failed: 1 completed, 1 skipped, 1 failed" in result.stdout
    assert "  broken: boom in broken" in result.stdout


def test_an_unknown_model_exits_1_with_the_local_message_and_runs_nothing(
    service: ServiceProcess,
) -> None:
    with api(service) as client:
        before = client.get("/api/v1/flows").json()["total"]

    result = run_cli(service.root, "nope")

    assert result.returncode == 1
    assert "Error: Unknown models: ['nope']" in result.stderr
    with api(service) as client:
        assert client.get("/api/v1/flows").json()["total"] == before


def test_ctrl_c_cancels_the_run_on_the_service_and_exits_1(
    service: ServiceProcess,
) -> None:
    process = subprocess.Popen(
        [*console_script(), "run", "-d", str(service.root), "slow", "--force"],
        env=_environment(OPS_KEY),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for_running_flow(service, "slow")
        time.sleep(0.3)

        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)

    assert process.returncode == 1, stderr
    assert "Cancelling the run" in stdout
    flow = newest_flow(service)
    assert flow["status"] == "cancelled"
    assert task_statuses(flow) == {"slow": "cancelled"}


def test_a_second_ctrl_c_exits_130_while_the_run_is_still_cancelling(
    service: ServiceProcess,
) -> None:
    process = subprocess.Popen(
        [*console_script(), "run", "-d", str(service.root), "sleepy", "--force"],
        env=_environment(OPS_KEY),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    run_id = None
    try:
        run_id = _wait_for_running_flow(service, "sleepy")

        process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        returncode = process.wait(timeout=RUN_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
        if run_id is not None:
            with api(service) as client:
                client.post(f"/api/v1/runs/{run_id}/cancel")

    assert returncode == 130


def _wait_for_running_flow(service: ServiceProcess, model: str) -> str:
    deadline = time.monotonic() + 20
    query = {"status": "running", "model": model}
    with api(service) as client:
        while time.monotonic() < deadline:
            running = client.get("/api/v1/flows", params=query)
            if running.json()["total"]:
                return str(running.json()["flows"][0]["flow_id"])
            time.sleep(0.05)
    pytest.fail("the run did not start on the service")


def test_without_an_api_key_the_service_refuses_with_a_clear_error(
    service: ServiceProcess,
) -> None:
    result = run_cli(service.root, "raw", env={})

    assert result.returncode == 1
    assert "Missing API key" in result.stderr
    assert "INTERLACE_API_KEY" in result.stderr


def test_a_key_without_execute_permission_is_refused_with_a_clear_error(
    service: ServiceProcess,
) -> None:
    result = run_cli(service.root, "raw", env={"INTERLACE_API_KEY": "viewer-secret"})

    assert result.returncode == 1
    assert "API key 'viewer' lacks 'execute' permission" in result.stderr


def test_the_service_is_found_only_for_the_environment_it_serves(
    service: ServiceProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERLACE_API_KEY", "ops-secret")
    monkeypatch.delenv("INTERLACE_ENV", raising=False)

    found = find_service(service.root)
    other = find_service(service.root, "prod")

    assert found == LiveService(url=service.url, pid=service.process.pid)
    assert other is None


def test_a_stale_service_file_is_ignored_and_the_run_executes_locally(
    tmp_path: Path, cli: Invoke
) -> None:
    root = write_project(tmp_path, {"raw.sql": MODELS["raw.sql"]})
    service_file = _advertise(root, _dead_pid(), f"http://127.0.0.1:{free_port()}")

    result = cli("run", "-d", root)

    assert result.exit_code == 0, result.output
    assert "submitted to the service" not in result.stdout
    assert outcomes(last_run_tasks(root)) == {"raw": "completed:first_run"}
    assert service_file.is_file()


def test_a_live_pid_whose_service_does_not_answer_runs_locally(
    tmp_path: Path, cli: Invoke
) -> None:
    root = write_project(tmp_path, {"raw.sql": MODELS["raw.sql"]})
    _advertise(root, os.getpid(), f"http://127.0.0.1:{free_port()}")

    result = cli("run", "-d", root)

    assert result.exit_code == 0, result.output
    assert "submitted to the service" not in result.stdout
    assert outcomes(last_run_tasks(root)) == {"raw": "completed:first_run"}


def _advertise(root: Path, pid: int, url: str) -> Path:
    path = root / ".interlace" / "service.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": url, "pid": pid}))
    return path


def _dead_pid() -> int:
    finished = subprocess.Popen([sys.executable, "-c", "pass"])
    finished.wait(timeout=30)
    return finished.pid
