"""`GET /api/v1/events` (SPEC §10.10) against a real granian server.

Streams are read with httpx line by line; every read is bounded by the
client's read timeout, and the servers send a keepalive every 0.2 s, so a
missing event fails a test instead of hanging it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from interlace.state.records import EventRecord
from interlace.state.sqlite.store import SQLiteStateStore
from tests.service.conftest import (
    ServiceProcess,
    running_service,
    start_service,
    write_project,
)

READ_TIMEOUT_S = 10.0
STREAM_DEADLINE_S = 20.0
"""Keepalives keep reads alive, so waits are also bounded in total."""
MODELS = {
    "raw.sql": "SELECT range AS id FROM range(3)",
    "slow.py": """
        import time

        from interlace import model

        @model
        def slow(raw):
            time.sleep(0.4)
            return raw.sql("SELECT id FROM raw")
        """,
    "final.sql": "SELECT count(*) AS n FROM slow",
}
SERVICE_YAML = """
service:
  auth:
    enabled: true
    api_keys:
      - {name: runner, key: runner-key, permissions: [read, write, execute]}
      - {name: watcher, key: watcher-key, permissions: [read]}
  sse: {keepalive_seconds: 0.2, max_subscribers: 4, buffer_size: 1000}
"""
RUNNER = {"Authorization": "Bearer runner-key"}
WATCHER = {"X-API-Key": "watcher-key"}
Frame = dict[str, Any]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = write_project(tmp_path_factory.mktemp("events"), MODELS, SERVICE_YAML)
    with running_service(root, ["--no-scheduler"]) as running:
        yield running


class TinyBufferServer:
    """A server with `buffer_size: 1`, restarted when a test stopped it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.current: ServiceProcess | None = None

    def running(self) -> ServiceProcess:
        if self.current is None or self.current.process.poll() is not None:
            self.current = start_service(self.root, ["--no-scheduler"])
        return self.current


@pytest.fixture(scope="module")
def tiny_buffer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TinyBufferServer]:
    yaml = SERVICE_YAML.replace("buffer_size: 1000", "buffer_size: 1")
    holder = TinyBufferServer(
        write_project(tmp_path_factory.mktemp("tiny"), MODELS, yaml)
    )
    try:
        yield holder
    finally:
        if holder.current is not None:
            holder.current.stop()


class EventSource:
    """One open SSE response, read frame by frame."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.iter_lines()
        self._deadline = time.monotonic() + STREAM_DEADLINE_S

    def frame(self) -> Frame:
        """The next frame: `{"id", "event", "data", "retry", "comment"}` keys."""
        frame: Frame = {}
        for line in self._lines:
            if time.monotonic() > self._deadline:
                raise TimeoutError(f"no end of stream within {STREAM_DEADLINE_S} s")
            if line == "":
                if frame:
                    return frame
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                frame["data"] = msgspec.json.decode(value)
            else:
                frame[name or "comment"] = value
        raise EOFError(f"the stream ended; last partial frame: {frame}")

    def events(self) -> Iterator[Frame]:
        """Frames that are not keepalive comments, until the stream ends."""
        while True:
            try:
                frame = self.frame()
            except EOFError:
                return
            if "comment" not in frame:
                yield frame

    def until(self, stop: Callable[[Frame], bool]) -> list[Frame]:
        """Events up to and including the first one `stop` accepts."""
        seen = []
        for frame in self.events():
            seen.append(frame)
            if stop(frame):
                return seen
        raise AssertionError(f"the stream ended before the awaited event: {seen}")


@contextlib.contextmanager
def subscribe(
    service: ServiceProcess, query: str = "", **headers: str
) -> Iterator[EventSource]:
    """An open stream whose `connected` event was already read."""
    timeout = httpx.Timeout(10.0, read=READ_TIMEOUT_S)
    with (
        httpx.Client(base_url=service.url, timeout=timeout) as client,
        client.stream(
            "GET", f"/api/v1/events{query}", headers={**WATCHER, **headers}
        ) as response,
    ):
        assert response.status_code == 200, response.read()
        source = EventSource(response)
        assert source.frame() == {"retry": "3000"}
        assert source.frame()["event"] == "connected"
        yield source


def start_run(service: ServiceProcess, models: list[str] | None = None) -> str:
    """Start a forced run (so that every model runs) and return its id."""
    body: dict[str, Any] = {"force": True}
    if models is not None:
        body["models"] = models
    with service.client(**RUNNER) as client:
        response = client.post("/api/v1/runs", json=body)
    assert response.status_code == 202, response.text
    return str(response.json()["run_id"])


def wait_for_end(service: ServiceProcess, run_id: str) -> None:
    """Poll the run's status until it is terminal (bounded)."""
    deadline = time.monotonic() + STREAM_DEADLINE_S
    with service.client(**RUNNER) as client:
        while time.monotonic() < deadline:
            status = client.get(f"/api/v1/runs/{run_id}/status").json()["status"]
            if status in {"completed", "failed", "cancelled"}:
                return
            time.sleep(0.05)
    raise AssertionError(f"run {run_id} did not end within {STREAM_DEADLINE_S} s")


def finished(run_id: str) -> Callable[[Frame], bool]:
    def stop(frame: Frame) -> bool:
        return (
            frame["event"].startswith("flow.")
            and frame["data"].get("flow_id") == run_id
            and frame["event"]
            in {
                "flow.completed",
                "flow.failed",
                "flow.cancelled",
            }
        )

    return stop


def logged(service: ServiceProcess, after_id: int = 0) -> list[EventRecord]:
    with SQLiteStateStore(service.root / ".interlace" / "state.db") as store:
        return store.read_events(after_id, limit=100_000)


def ids(frames: list[Frame]) -> list[int]:
    return [int(frame["id"]) for frame in frames if "id" in frame]


def test_stream_opens_with_sse_headers_retry_and_connected(
    service: ServiceProcess,
) -> None:
    with (
        httpx.Client(base_url=service.url, timeout=READ_TIMEOUT_S) as client,
        client.stream(
            "GET",
            "/api/v1/events?types=flow.completed,task.*&flow_id=run_000000000000",
            headers={**WATCHER, "Last-Event-ID": "0"},
        ) as response,
    ):
        source = EventSource(response)
        opening = source.frame()
        connected = source.frame()

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["connection"] == "keep-alive"
    assert response.headers["x-accel-buffering"] == "no"
    assert response.headers["x-request-id"].startswith("req_")
    assert opening == {"retry": "3000"}
    assert set(connected) == {"event", "data"}
    assert connected["event"] == "connected"
    assert connected["data"]["message"] == "Connected to event stream"
    assert connected["data"]["subscribed_types"] == ["flow.completed", "task.*"]
    assert connected["data"]["flow_id"] == "run_000000000000"
    assert connected["data"]["last_event_id"] == 0


def test_events_require_an_api_key_when_auth_is_on(
    service: ServiceProcess,
) -> None:
    with httpx.Client(base_url=service.url, timeout=READ_TIMEOUT_S) as client:
        response = client.get("/api/v1/events")

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


def test_live_events_of_a_run_arrive_in_order_as_logged(
    service: ServiceProcess,
) -> None:
    with subscribe(service) as source:
        run_id = start_run(service)
        seen = source.until(finished(run_id))

    mine = [frame for frame in seen if frame["data"].get("flow_id") == run_id]
    stored = [event for event in logged(service) if event.flow_id == run_id]
    assert ids(mine) == [event.id for event in stored]
    assert ids(mine) == sorted(set(ids(mine)))
    assert [frame["event"] for frame in mine] == [event.type for event in stored]
    assert [frame["data"] for frame in mine] == [event.payload for event in stored]
    assert {"flow.started", "task.running", "task.completed"} <= {
        frame["event"] for frame in mine
    }
    assert mine[-1]["event"] == "flow.completed"


def test_types_filter_keeps_exact_types_and_prefixes(
    service: ServiceProcess,
) -> None:
    with subscribe(service, "?types=flow.completed,task.*") as source:
        run_id = start_run(service, ["raw"])
        seen = source.until(finished(run_id))

    types = [frame["event"] for frame in seen]
    assert types[-1] == "flow.completed"
    assert all(name.startswith("task.") for name in types[:-1])
    assert "task.completed" in types or "task.skipped" in types


def test_flow_id_filter_replays_only_that_run(service: ServiceProcess) -> None:
    before = logged(service)[-1].id
    first = start_run(service, ["raw"])
    second = start_run(service, ["raw"])

    with subscribe(service, f"?flow_id={second}&since={before}") as source:
        seen = source.until(finished(second))

    assert {frame["data"]["flow_id"] for frame in seen} == {second}
    stored = [event.id for event in logged(service, before) if event.flow_id == second]
    assert ids(seen) == stored
    assert first != second


@pytest.mark.parametrize("resume_with", ["last-event-id", "since"])
def test_resuming_after_a_dropped_connection_has_no_gap_and_no_duplicate(
    service: ServiceProcess, resume_with: str
) -> None:
    with subscribe(service) as source:
        run_id = start_run(service)
        before_drop = source.until(lambda frame: frame["event"] == "task.running")
    last_seen = ids(before_drop)[-1]
    query, headers = f"?since={last_seen}", {}
    if resume_with == "last-event-id":
        query, headers = "?since=0", {"Last-Event-ID": str(last_seen)}

    with subscribe(service, query, **headers) as source:
        after_drop = source.until(finished(run_id))

    received = ids(before_drop) + ids(after_drop)
    stored = [event.id for event in logged(service, ids(before_drop)[0] - 1)]
    assert received == stored[: len(received)]
    assert len(received) == len(set(received))
    assert after_drop[-1]["data"]["flow_id"] == run_id


def test_idle_stream_sends_keepalive_comments(service: ServiceProcess) -> None:
    with subscribe(service) as source:
        started = time.monotonic()
        frames = [source.frame(), source.frame()]
        elapsed = time.monotonic() - started

    assert frames == [{"comment": "keepalive"}, {"comment": "keepalive"}]
    assert elapsed < 2.0


def test_invalid_types_and_last_event_id_are_validation_errors(
    service: ServiceProcess,
) -> None:
    with service.client(**WATCHER) as client:
        bad_types = client.get("/api/v1/events?types=task*")
        bad_id = client.get("/api/v1/events", headers={"Last-Event-ID": "abc"})

    assert bad_types.status_code == 400
    assert bad_types.json()["errors"][0]["path"] == "query.types"
    assert bad_id.status_code == 400
    assert bad_id.json()["code"] == "VALIDATION_ERROR"
    assert bad_id.json()["errors"][0]["path"] == "header.Last-Event-ID"


def test_subscribers_beyond_the_limit_get_503_until_a_seat_frees(
    service: ServiceProcess,
) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(4):
            stack.enter_context(subscribe(service))
        with service.client(**WATCHER) as client:
            refused = client.get("/api/v1/events")
            health = client.get("/api/v1/health").json()
            metrics = client.get("/metrics").text

    with service.client(**WATCHER) as client:
        deadline = time.monotonic() + 5
        while client.get("/api/v1/health").json()["subscribers"] and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
    with subscribe(service) as source:
        after = source.frame()

    assert refused.status_code == 503
    assert refused.json()["code"] == "SERVICE_UNAVAILABLE"
    assert "4 SSE connections" in refused.json()["detail"]
    assert health["subscribers"] == 4
    assert 'interlace_sse_subscribers{endpoint="/api/v1/events"} 4' in metrics
    assert after == {"comment": "keepalive"}


def test_resume_older_than_the_retained_log_yields_reset_then_all(
    service: ServiceProcess,
) -> None:
    for _ in range(2):
        wait_for_end(service, start_run(service, ["raw"]))
    with SQLiteStateStore(service.root / ".interlace" / "state.db") as store:
        store.prune_events(None, max_rows=3)
        oldest, newest = store.event_bounds()
    assert oldest is not None and newest is not None and oldest > 2

    with subscribe(service, "?since=1") as source:
        reset = source.frame()
        replayed = [source.frame() for _ in range(3)]

    assert reset["event"] == "reset"
    assert "id" not in reset
    assert reset["data"]["requested_id"] == 1
    assert reset["data"]["oldest_id"] == oldest
    assert ids(replayed) == list(range(oldest, newest + 1))


def test_a_subscriber_whose_buffer_overflows_gets_overflow_and_is_closed(
    tiny_buffer: TinyBufferServer,
) -> None:
    small = tiny_buffer.running()

    with subscribe(small) as source:
        # The run's first commit logs a `task.pending` per model at once.
        run_id = start_run(small)
        seen = list(source.events())
    wait_for_end(small, run_id)
    with small.client(**WATCHER) as client:
        health = client.get("/api/v1/health").json()

    assert seen[-1]["event"] == "overflow"
    assert seen[-1]["data"]["buffer_size"] == 1
    assert "id" not in seen[-1]
    assert health["subscribers"] == 0


def test_shutdown_sends_a_shutdown_event_before_closing(
    tiny_buffer: TinyBufferServer,
) -> None:
    stopping = tiny_buffer.running()

    with subscribe(stopping) as source:
        stopping.terminate()
        seen = list(source.events())
    code = stopping.wait()

    assert [frame["event"] for frame in seen] == ["shutdown"]
    assert seen[0]["data"]["message"] == "Server is shutting down"
    assert code == 0
