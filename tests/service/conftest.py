"""Real granian servers in subprocesses, for HTTP tests of the service.

`start_service(project_dir, ...)` launches `python -m interlace.service` on a
free loopback port, waits (bounded) until `/api/v1/health` answers, and
returns a `ServiceProcess`; `stop()` sends SIGTERM, waits, then kills.
Module-scoped fixtures below share one server per test module; use
`write_project` to build a project in a temporary directory.

    @pytest.fixture(scope="module")
    def my_service(tmp_path_factory):
        root = write_project(tmp_path_factory.mktemp("p"), MODELS, SERVICE_YAML)
        with running_service(root) as service:
            yield service
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0

DEFAULT_MODELS = {
    "source.sql": "SELECT range AS id, range * 10 AS amount FROM range(5)",
    "enriched.py": '''
        from interlace import model

        @model(
            schema="staging",
            tags=["staging", "core"],
            owner="data-eng",
            fields={"id": "int64", "gross": "int64"},
            primary_key="id",
            strategy="merge_by_key",
            schedule={"cron": "15 * * * *"},
            retry={"max_attempts": 2},
        )
        def enriched(source, lookup_table=None):
            """Cleaned rows."""
            return [
                {"id": row["id"], "gross": row["amount"] * 2}
                for row in source.arrow().to_pylist()
            ]
        ''',
    "total.sql": "SELECT sum(gross) AS total FROM staging.enriched",
}


def write_project(
    root: Path,
    models: Mapping[str, str] | None = None,
    service_yaml: str = "",
    name: str = "shop",
) -> Path:
    """A project in `root`: DuckDB warehouse, the given models and `service:`."""
    (root / "models").mkdir(parents=True, exist_ok=True)
    config = (
        f"name: {name}\n"
        "description: A test shop\n"
        "connections:\n"
        "  default: {type: duckdb, path: warehouse.duckdb}\n"
    )
    (root / "config.yaml").write_text(config + textwrap.dedent(service_yaml))
    for file_name, source in (models or DEFAULT_MODELS).items():
        (root / "models" / file_name).write_text(textwrap.dedent(source).lstrip())
    return root


class ServiceProcess:
    def __init__(
        self, process: subprocess.Popen[bytes], url: str, root: Path, log: Path
    ) -> None:
        self.process = process
        self.url = url
        self.root = root
        self.log = log

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=10.0)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = STOP_TIMEOUT_S) -> int:
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL."""
        self.terminate()
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch_service(
    root: Path,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ServiceProcess:
    """Start the service process without waiting for it."""
    port = free_port()
    log = root / "service.log"
    environment = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    command = [
        sys.executable,
        "-m",
        "interlace.service",
        "--project-dir",
        str(root),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *args,
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, stdout=sink, stderr=subprocess.STDOUT, env=environment
        )
    return ServiceProcess(process, f"http://127.0.0.1:{port}", root, log)


def start_service(
    root: Path,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ServiceProcess:
    """Start the service and wait until `/api/v1/health` answers."""
    service = launch_service(root, args, env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            pytest.fail(f"the service exited at start-up:\n{service.output()}")
        with contextlib.suppress(httpx.TransportError):
            httpx.get(f"{service.url}/api/v1/health", timeout=1.0)
            return service
        time.sleep(0.05)
    service.stop()
    pytest.fail(f"the service did not answer within {START_TIMEOUT_S} s")


@contextlib.contextmanager
def running_service(
    root: Path,
    args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[ServiceProcess]:
    service = start_service(root, args, env)
    try:
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """A server for the default project: auth off, metrics on, no rate limit."""
    root = write_project(
        tmp_path_factory.mktemp("service"),
        service_yaml='service:\n  cors_origins: ["https://dash.example.com"]\n',
    )
    with running_service(root) as running:
        yield running
