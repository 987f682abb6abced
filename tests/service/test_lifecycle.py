"""Start-up refusal, service.json and graceful shutdown of a real server (§12)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from interlace.state.sqlite.store import SQLiteStateStore
from interlace.state.store import RunFilter
from tests.service.conftest import launch_service, start_service, write_project

SLOW_MODEL = {
    "slow.py": """
        import time

        from interlace import model

        @model
        def slow(context):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not context.cancelled():
                time.sleep(0.02)
            return [{"done": 1}]
        """
}


def test_a_key_naming_an_unset_variable_stops_the_service_before_it_listens(
    tmp_path: Path,
) -> None:
    root = write_project(
        tmp_path,
        service_yaml="""\
            service:
              auth:
                enabled: true
                api_keys:
                  - {name: production, key: a-real-key}
                  - {name: monitoring, key: "${INTERLACE_TEST_NEVER_SET_KEY}"}
            """,
    )

    service = launch_service(root)
    code = service.wait(timeout=30)

    assert code == 1
    assert (
        "service.auth.api_keys[1] ('monitoring'): key references an unset "
        "environment variable"
    ) in service.output()
    assert not (root / ".interlace" / "service.json").exists()


def test_sigterm_drains_exits_zero_and_cancels_runs_that_outlive_the_grace(
    tmp_path: Path,
) -> None:
    root = write_project(
        tmp_path, SLOW_MODEL, "service:\n  shutdown: {grace_seconds: 2}\n"
    )
    service = start_service(root, ["--run", "--no-scheduler"])
    service_file = root / ".interlace" / "service.json"
    advertised = json.loads(service_file.read_text())
    with service.client() as client:
        assert client.get("/api/v1/health").json()["active_flows"] == 1

        started = time.monotonic()
        service.terminate()
        ready = _ready_during_drain(client)
        refused = client.post("/api/v1/runs", json={})
        code = service.wait(timeout=20)
    elapsed = time.monotonic() - started

    assert advertised == {"url": service.url, "pid": service.process.pid}
    assert ready.status_code == 503
    assert ready.json()["ready"] is False
    assert refused.status_code == 503
    assert refused.json()["code"] == "SERVICE_UNAVAILABLE"
    assert code == 0
    assert 2 <= elapsed < 15
    assert not service_file.exists()
    with SQLiteStateStore(root / ".interlace" / "state.db") as store:
        runs, _ = store.list_runs(RunFilter(), limit=5)
    assert [run.status for run in runs] == ["cancelled"]
    assert runs[0].error is not None
    assert runs[0].error["code"] == "shutdown"


def _ready_during_drain(client: httpx.Client) -> httpx.Response:
    """The first readiness answer after the signal that is not 200."""
    deadline = time.monotonic() + 5
    while True:
        response = client.get("/api/v1/ready")
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.02)
