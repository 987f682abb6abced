"""HTTP service figures: what the service costs over a bare Litestar app.

Figure 1 (health): `GET /api/v1/health` at concurrency 32, answered by the
Interlace service (`python -m interlace.service`, every middleware on) and by
a bare Litestar app whose one handler returns a health-shaped dict. Both run
on granian embedded with the same settings (one worker, ASGI) in their own
subprocess on 127.0.0.1. A small raw-socket HTTP/1.1 client in this process
keeps 32 keep-alive connections busy; the two servers are measured
alternately, REPEATS times each, and the medians compared, so a noisy
machine affects both alike; the ratio is the median of the ratios of
back-to-back pairs. Goal: service / bare >= 0.8.

Further figures (run submission latency, SSE fan-out) belong in this file
too: add a `figure_*` function next to `figure_health` and call it from
`main`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CONCURRENCY = 32
REQUESTS = 5_000
WARMUP = 500
REPEATS = 5
START_TIMEOUT_S = 60.0
GOAL = 0.8

SRC = Path(__file__).resolve().parents[1] / "src"

BARE_APP = """
import asyncio
import sys
import time

from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server
from litestar import Litestar, get

STARTED = time.monotonic()


@get(["/health", "/api/v1/health"])
async def health() -> dict[str, object]:
    return {
        "status": "ok",
        "version": "0.1.0",
        "uptime_seconds": round(time.monotonic() - STARTED, 2),
        "connections": [{"name": "default", "type": "duckdb", "status": "connected"}],
        "scheduler_running": False,
        "active_flows": 0,
        "subscribers": 0,
    }


app = Litestar([health])
server = Server(
    app,
    address="127.0.0.1",
    port=int(sys.argv[1]),
    interface=Interfaces.ASGI,
    log_level=LogLevels.error,
)
asyncio.run(server.serve())
"""


# --- servers -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def server(
    command: list[str], port: int, cwd: Path
) -> Iterator[subprocess.Popen[bytes]]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_until_listening(port, process)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode() if process.stderr else ""
            raise RuntimeError(f"server exited at start-up:\n{error}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection(("127.0.0.1", port), timeout=0.2),
        ):
            asyncio.run(load(port, "/api/v1/health", 1, 1))
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on port {port} within {START_TIMEOUT_S} s")


def service_command(project: Path, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "interlace.service",
        "--project-dir",
        str(project),
        "--port",
        str(port),
        "--no-scheduler",
    ]


def write_project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "config.yaml").write_text(
        textwrap.dedent(
            """\
            name: bench
            connections:
              default: {type: duckdb, path: warehouse.duckdb}
            """
        )
    )
    (root / "models" / "numbers.sql").write_text("SELECT range AS id FROM range(10)\n")
    return root


# --- client ------------------------------------------------------------------


async def load(port: int, path: str, requests: int, concurrency: int) -> float:
    """Send `requests` GETs over `concurrency` keep-alive connections; seconds."""
    request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    shares = [
        requests // concurrency + (i < requests % concurrency)
        for i in range(concurrency)
    ]
    started = time.perf_counter()
    await asyncio.gather(*(connection(port, request, count) for count in shares))
    return time.perf_counter() - started


async def connection(port: int, request: bytes, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for _ in range(count):
            writer.write(request)
            await read_response(reader)
    finally:
        writer.close()
        await writer.wait_closed()


async def read_response(reader: asyncio.StreamReader) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status != 200:
        raise RuntimeError(f"unexpected status {status}")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    await reader.readexactly(length)


def requests_per_second(port: int, pid: int) -> tuple[float, float]:
    """Throughput, and the server's CPU time per request in microseconds."""
    asyncio.run(load(port, "/api/v1/health", WARMUP, CONCURRENCY))
    cpu_before = cpu_seconds(pid)
    elapsed = asyncio.run(load(port, "/api/v1/health", REQUESTS, CONCURRENCY))
    cpu = (cpu_seconds(pid) - cpu_before) / REQUESTS * 1e6
    return REQUESTS / elapsed, cpu


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, from /proc (Linux; else 0)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- figures -----------------------------------------------------------------


def figure_health(workdir: Path) -> None:
    project = write_project(workdir / "project")
    bare_script = workdir / "bare_app.py"
    bare_script.write_text(BARE_APP)
    service_port, bare_port = free_port(), free_port()
    service_rates: list[float] = []
    bare_rates: list[float] = []
    service_cpu: list[float] = []
    bare_cpu: list[float] = []
    with (
        server(service_command(project, service_port), service_port, workdir) as svc,
        server(
            [sys.executable, str(bare_script), str(bare_port)], bare_port, workdir
        ) as plain,
    ):
        for _ in range(REPEATS):
            rate, cpu = requests_per_second(bare_port, plain.pid)
            bare_rates.append(rate)
            bare_cpu.append(cpu)
            rate, cpu = requests_per_second(service_port, svc.pid)
            service_rates.append(rate)
            service_cpu.append(cpu)
    service = statistics.median(service_rates)
    bare = statistics.median(bare_rates)
    # Each pair is measured back to back, so the median of the pairwise
    # ratios is less sensitive to load from other processes than a ratio
    # of medians taken minutes apart.
    ratio = statistics.median(
        s / b for s, b in zip(service_rates, bare_rates, strict=True)
    )
    verdict = "ok" if ratio >= GOAL else f"BELOW GOAL {GOAL}"
    print(
        f"health  c={CONCURRENCY} n={REQUESTS}x{REPEATS}: "
        f"service {service:,.0f} req/s, bare Litestar {bare:,.0f} req/s, "
        f"ratio {ratio:.2f} ({verdict})"
    )
    # CPU per request is what the middlewares and DI really cost; unlike
    # throughput it barely moves when other processes load the machine.
    print(
        f"health  server CPU per request: service "
        f"{statistics.median(service_cpu):.0f} us, bare Litestar "
        f"{statistics.median(bare_cpu):.0f} us"
    )


# --- runs: POST /api/v1/runs?wait= until completed -----------------------------
#
# Figure 2 (run latency): the time from sending `POST /api/v1/runs?wait=30`
# to receiving its 200 answer with `status: completed`, for one trivial SQL
# model and for a chain of 20 (`c00 <- c01 <- ... <- c19`), each request
# forcing its models so that every task really executes. One keep-alive
# connection sends the requests one after another; after a short warm-up the
# median (and p90) of up to RUN_REPEATS runs is reported, stopping early at
# RUN_BUDGET_S so the figure stays bounded on a slow machine.

RUN_WARMUP = 3
RUN_REPEATS = 50
RUN_BUDGET_S = 60.0
CHAIN_LENGTH = 20
RUN_GOALS_MS = {"1 model": 5.0, f"{CHAIN_LENGTH}-model chain": 40.0}


def write_run_project(root: Path) -> Path:
    """One standalone model `single` and a chain `c00 <- ... <- c19`."""
    models = root / "models"
    models.mkdir(parents=True)
    (root / "config.yaml").write_text(
        "name: runbench\n"
        "connections:\n"
        "  default: {type: duckdb, path: warehouse.duckdb}\n"
    )
    (models / "single.sql").write_text("SELECT 1 AS id\n")
    (models / "c00.sql").write_text("SELECT 1 AS id\n")
    for index in range(1, CHAIN_LENGTH):
        (models / f"c{index:02d}.sql").write_text(
            f"SELECT id + 1 AS id FROM c{index - 1:02d}\n"
        )
    return root


class HttpConnection:
    """One blocking keep-alive HTTP/1.1 connection (enough for JSON POSTs)."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=60)
        self._file = self._socket.makefile("rb")

    def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self._socket.sendall(head.encode() + body)
        status = int(self._file.readline().split(b" ", 2)[1])
        length = 0
        while (line := self._file.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, self._file.read(length)

    def close(self) -> None:
        self._file.close()
        self._socket.close()


def figure_run_latency(workdir: Path) -> None:
    """Run latency through the service, next to the runtime's own figure.

    The runtime baseline is an in-process `Runtime` on a copy of the project
    (the service holds the warehouse file). Served and direct runs alternate,
    so that load from elsewhere on the machine affects both alike and their
    difference is what HTTP and the run service add to a run.
    """
    # Imported from the checkout, as the servers this script starts are.
    if str(SRC) not in sys.path:
        sys.path.insert(0, str(SRC))
    from interlace.engine.project import Project
    from interlace.runtime.runtime import Runtime

    project = write_run_project(workdir / "runs-project")
    baseline = write_run_project(workdir / "runs-baseline")
    port = free_port()
    cases = {
        "1 model": ["single"],
        f"{CHAIN_LENGTH}-model chain": [f"c{CHAIN_LENGTH - 1:02d}"],
    }
    with (
        server(service_command(project, port), port, workdir),
        Runtime(Project.load(baseline)) as runtime,
    ):
        connection = HttpConnection(port)
        try:
            for label, models in cases.items():
                served, direct = alternate_runs(connection, runtime, models)
                report_run_latency(label, served, direct)
        finally:
            connection.close()


def alternate_runs(
    connection: HttpConnection, runtime: Any, models: list[str]
) -> tuple[list[float], list[float]]:
    """Seconds per forced run of `models`: through HTTP, and in-process."""
    from interlace.runtime.messages import RunRequest

    body = json.dumps({"models": models, "force": True}).encode()
    request = RunRequest(selectors=tuple(models), force=True)

    def served_run() -> float:
        started = time.perf_counter()
        status, answer = connection.post("/api/v1/runs?wait=30", body)
        elapsed = time.perf_counter() - started
        if status != 200 or json.loads(answer)["status"] != "completed":
            raise RuntimeError(f"run did not complete in time: {status} {answer!r}")
        return elapsed

    def direct_run() -> float:
        started = time.perf_counter()
        runtime.submit(request).outcome.result(timeout=30)
        return time.perf_counter() - started

    for _ in range(RUN_WARMUP):
        served_run()
        direct_run()
    served: list[float] = []
    direct: list[float] = []
    deadline = time.monotonic() + RUN_BUDGET_S
    while len(served) < RUN_REPEATS and time.monotonic() < deadline:
        served.append(served_run())
        direct.append(direct_run())
    return served, direct


def report_run_latency(label: str, served: list[float], direct: list[float]) -> None:
    median_ms = statistics.median(served) * 1000
    p90_ms = statistics.quantiles(served, n=10)[-1] * 1000
    direct_ms = statistics.median(direct) * 1000
    goal = RUN_GOALS_MS[label]
    verdict = "ok" if median_ms <= goal else f"ABOVE GOAL {goal:g} ms"
    print(
        f"run     POST /runs?wait -> completed, {label}, n={len(served)}: "
        f"median {median_ms:.1f} ms, p90 {p90_ms:.1f} ms "
        f"(goal <= {goal:g} ms: {verdict}); in-process runtime alone "
        f"{direct_ms:.1f} ms, service overhead {median_ms - direct_ms:+.1f} ms"
    )


# --- SSE: POST /runs -> first event, and fan-out to 1,000 subscribers ----------
#
# Figure 3 (first event): one SSE subscriber on `GET /api/v1/events`; the time
# from sending `POST /api/v1/runs` (one forced model) to receiving the first
# event of that run, median of up to SSE_FIRST_RUNS runs sent one after the
# other (each waits for its `flow.completed`). It is split at the event's
# `timestamp` (set when the run logs it; truncated to the millisecond, so the
# split is good to about 1 ms): "logged" covers the request until the event
# exists, "delivered" the durable commit, the event bus, the hub and the wire.
#
# Figure 4 (fan-out): SSE_SUBSCRIBERS streams opened from this process with
# raw asyncio sockets (an HTTP client per stream would cost more than the
# server); runs are submitted one after another, each waiting until every
# subscriber received its `flow.completed`, and the lag from each event's
# `timestamp` to its receipt is taken on every subscriber. Client and server
# share the machine, so the lag includes the client's own reading time.
# Bounded: SSE_LAG_RUNS runs, SSE_BUDGET_S seconds per phase.

SSE_FIRST_RUNS = 30
SSE_SUBSCRIBERS = 1_000
SSE_LAG_RUNS = 10
SSE_BUDGET_S = 60.0
SSE_FIRST_GOAL_MS = 5.0
SSE_LAG_GOAL_MS = 100.0
SSE_PATH = "/api/v1/events"
_TERMINAL_FLOW = (b"event: flow.completed", b"event: flow.failed")

# The reference for figure 4: plain ASGI on granian with the same settings,
# one queue per stream, and `POST /api/v1/runs` broadcasting one event; the
# same client measures it right after the service, so the two lags compare
# the service with what the machine allows at that moment.
BARE_SSE_APP = r"""
import asyncio, datetime, itertools, json, sys
from granian.constants import Interfaces
from granian.log import LogLevels
from granian.server.embed import Server

QUEUES = set()
COUNT = itertools.count(1)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["method"] == "POST":
        number = next(COUNT)
        now = datetime.datetime.now(datetime.UTC).isoformat()
        data = json.dumps({"flow_id": f"bare{number}", "timestamp": now})
        frame = f"id: {number}\nevent: flow.completed\ndata: {data}\n\n"
        for queue in QUEUES:
            queue.put_nowait(frame.encode())
        body = json.dumps({"run_id": f"bare{number}"}).encode()
        await send({"type": "http.response.start", "status": 202, "headers": []})
        await send({"type": "http.response.body", "body": body})
    elif scope["path"] == "/api/v1/events":
        queue = asyncio.Queue()
        QUEUES.add(queue)
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        body = b"retry: 3000\n\nevent: connected\ndata: {}\n\n"
        try:
            while True:
                await send({"type": "http.response.body", "body": body, "more_body": True})
                body = await queue.get()
        finally:
            QUEUES.discard(queue)
    else:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


server = Server(
    app,
    address="127.0.0.1",
    port=int(sys.argv[1]),
    interface=Interfaces.ASGI,
    log_level=LogLevels.error,
    backlog=1024,
    backpressure=2048,
)
asyncio.run(server.serve())
"""


def write_sse_project(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "config.yaml").write_text(
        "name: ssebench\n"
        "connections:\n"
        "  default: {type: duckdb, path: warehouse.duckdb}\n"
        f"service:\n  sse: {{max_subscribers: {SSE_SUBSCRIBERS + 10}}}\n"
    )
    (root / "models" / "single.sql").write_text("SELECT 1 AS id\n")
    return root


class SseReader(asyncio.Protocol):
    """A raw HTTP/1.1 SSE client: undoes chunked encoding, splits frames and
    hands each event frame to `on_event` with the time its bytes arrived."""

    def __init__(self, port: int, on_event: Any) -> None:
        self._port = port
        self._on_event = on_event
        self._raw = b""
        self._text = b""
        self._in_body = False
        self.connected: asyncio.Future[None] = (
            asyncio.get_running_loop().create_future()
        )
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        request = f"GET {SSE_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{self._port}\r\n\r\n"
        transport.write(request.encode())  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        self._raw += data
        if not self._in_body:
            end = self._raw.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self._raw.startswith(b"HTTP/1.1 200"):
                self._fail(self._raw[:end].decode(errors="replace"))
                return
            self._in_body = True
            self._raw = self._raw[end + 4 :]
        self._dechunk()
        while (end := self._text.find(b"\n\n")) >= 0:
            frame, self._text = self._text[:end], self._text[end + 2 :]
            if frame.startswith(b"id: "):
                self._on_event(arrived, frame)
            elif frame.startswith(b"event: connected") and not self.connected.done():
                self.connected.set_result(None)

    def _dechunk(self) -> None:
        while (line_end := self._raw.find(b"\r\n")) >= 0:
            size = int(self._raw[:line_end].split(b";")[0], 16)
            start = line_end + 2
            if len(self._raw) < start + size + 2:
                return
            self._text += self._raw[start : start + size]
            self._raw = self._raw[start + size + 2 :]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(f"connection lost: {exc}")

    def _fail(self, reason: str) -> None:
        if not self.connected.done():
            self.connected.set_exception(ConnectionError(reason))


def event_fields(frame: bytes) -> tuple[str, float]:
    """`flow_id` and `timestamp` (epoch seconds) of an event frame."""
    payload = json.loads(frame[frame.index(b"data: ") + 6 :])
    stamp = datetime.datetime.fromisoformat(payload["timestamp"]).timestamp()
    return payload.get("flow_id") or "", stamp


async def post_run(port: int) -> tuple[float, str]:
    """`POST /api/v1/runs` forcing `single`; (the time it was sent, run id)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = b'{"models": ["single"], "force": true}'
    head = (
        f"POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    sent = time.time()
    writer.write(head.encode() + body)
    answer = await reader.read()
    writer.close()
    return sent, json.loads(answer.split(b"\r\n\r\n", 1)[1])["run_id"]


async def open_streams(port: int, count: int, on_event: Any) -> list[SseReader]:
    """`count` subscribed streams (opened 100 at a time, bounded)."""
    loop = asyncio.get_running_loop()
    readers: list[SseReader] = []
    while len(readers) < count:
        batch = min(100, count - len(readers))
        opened = await asyncio.gather(
            *(
                loop.create_connection(
                    lambda: SseReader(port, on_event), "127.0.0.1", port
                )
                for _ in range(batch)
            )
        )
        readers.extend(reader for _, reader in opened)
    await asyncio.wait_for(
        asyncio.gather(*(reader.connected for reader in readers)), SSE_BUDGET_S
    )
    return readers


def close_streams(readers: list[SseReader]) -> None:
    for reader in readers:
        if reader.transport is not None:
            reader.transport.close()


async def first_events(port: int) -> list[tuple[float, float]]:
    """Per run: (logged, delivered) seconds of its first event."""
    first: dict[str, tuple[float, float]] = {}
    ended: dict[str, asyncio.Event] = {}

    def on_event(arrived: float, frame: bytes) -> None:
        flow_id, stamp = event_fields(frame)
        first.setdefault(flow_id, (stamp, arrived))
        if frame.split(b"\n", 2)[1] in _TERMINAL_FLOW:
            ended.setdefault(flow_id, asyncio.Event()).set()

    readers = await open_streams(port, 1, on_event)
    splits: list[tuple[float, float]] = []
    deadline = time.monotonic() + SSE_BUDGET_S
    try:
        while len(splits) < SSE_FIRST_RUNS and time.monotonic() < deadline:
            sent, run_id = await post_run(port)
            done = ended.setdefault(run_id, asyncio.Event())
            await asyncio.wait_for(done.wait(), SSE_BUDGET_S)
            stamp, arrived = first[run_id]
            splits.append((stamp - sent, arrived - stamp))
    finally:
        close_streams(readers)
    return splits


async def fanout_lags(port: int) -> tuple[list[float], int]:
    """Lag of every event on every subscriber, and the runs measured."""
    lags: list[float] = []
    finished: dict[str, int] = {}
    all_received = asyncio.Event()

    def on_event(arrived: float, frame: bytes) -> None:
        flow_id, stamp = event_fields(frame)
        lags.append(arrived - stamp)
        if frame.split(b"\n", 2)[1] in _TERMINAL_FLOW:
            finished[flow_id] = finished.get(flow_id, 0) + 1
            if finished[flow_id] == SSE_SUBSCRIBERS:
                all_received.set()

    readers = await open_streams(port, SSE_SUBSCRIBERS, on_event)
    runs = 0
    deadline = time.monotonic() + SSE_BUDGET_S
    try:
        while runs < SSE_LAG_RUNS and time.monotonic() < deadline:
            all_received.clear()
            await post_run(port)
            await asyncio.wait_for(all_received.wait(), SSE_BUDGET_S)
            runs += 1
    finally:
        close_streams(readers)
    return lags, runs


def figure_sse(workdir: Path) -> None:
    project = write_sse_project(workdir / "sse-project")
    port = free_port()
    with server(service_command(project, port), port, workdir):
        splits = asyncio.run(first_events(port))
        lags, runs = asyncio.run(fanout_lags(port))
    bare_script = workdir / "bare_sse_app.py"
    bare_script.write_text(BARE_SSE_APP)
    bare_port = free_port()
    command = [sys.executable, str(bare_script), str(bare_port)]
    with server(command, bare_port, workdir):
        bare_lags, bare_runs = asyncio.run(fanout_lags(bare_port))
    report_first_event(splits)
    report_fanout(f"service, {runs} runs of one model", lags)
    report_fanout(f"bare granian, {bare_runs} single events", bare_lags)


def report_first_event(splits: list[tuple[float, float]]) -> None:
    totals = [logged + delivered for logged, delivered in splits]
    median_ms = statistics.median(totals) * 1000
    verdict = "ok" if median_ms <= SSE_FIRST_GOAL_MS else "ABOVE GOAL"
    print(
        f"sse     POST /runs -> first event, n={len(totals)}: median "
        f"{median_ms:.1f} ms, p90 {statistics.quantiles(totals, n=10)[-1] * 1000:.1f}"
        f" ms (goal <= {SSE_FIRST_GOAL_MS:g} ms: {verdict}); logged after "
        f"{statistics.median(s[0] for s in splits) * 1000:.1f} ms, delivered "
        f"{statistics.median(s[1] for s in splits) * 1000:.1f} ms later"
    )


def report_fanout(label: str, lags: list[float]) -> None:
    ordered = sorted(lags)
    p50, p99 = (ordered[int(q * (len(ordered) - 1))] * 1000 for q in (0.5, 0.99))
    verdict = "ok" if p99 <= SSE_LAG_GOAL_MS else "ABOVE GOAL"
    print(
        f"sse     delivery lag at {SSE_SUBSCRIBERS} subscribers ({label}, "
        f"{len(lags):,} receipts): p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
        f"{ordered[-1] * 1000:.1f} ms (goal p99 <= {SSE_LAG_GOAL_MS:g} ms: {verdict})"
    )


def main() -> int:
    print(
        f"HTTP benchmarks (granian embedded, 1 worker, Python {sys.version.split()[0]})"
    )
    with tempfile.TemporaryDirectory(prefix="interlace-http-bench-") as workdir:
        figure_health(Path(workdir))
        figure_run_latency(Path(workdir))
        figure_sse(Path(workdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
