"""`interlace run` through a running service (SPEC §11).

While a service runs for the project it owns the warehouse (a DuckDB file
takes one writer), so the command submits the run over HTTP as a `cli`
run and renders the service's events with the same renderer as a local
run. The order mirrors the local path: subscribe to the events first,
then `POST /api/v1/runs`, then follow the returned run id.

The final summary comes from `GET /api/v1/flows/{id}`, the service's
stored records, for the same reason the local path uses the run's outcome:
it is right even if trailing events were lost.
"""

from __future__ import annotations

import time
from typing import TypeVar

import msgspec

from interlace.cli.console import console
from interlace.cli.interrupts import InterruptGuard
from interlace.cli.run_feed import RunEventFeed
from interlace.cli.run_render import RunRenderer, render_events, renderer_for
from interlace.cli.service_client import (
    ServiceClient,
    ServiceRequestError,
    ServiceUnreachable,
)
from interlace.cli.service_discovery import LiveService
from interlace.cli.service_events import ServiceEventReader
from interlace.state.records import RunRecord, TaskRecord

__all__ = ["RemoteOutcome", "RunBody", "run_remote"]

T = TypeVar("T")

POLL_S = 0.1
CANCEL_TIMEOUT_S = 15.0
"""The service itself waits up to 5 s for a cancelled run to end."""
TRIGGER_HEADER = "X-Interlace-Trigger"
USER_HEADER = "X-Interlace-User"


class RunBody(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The `POST /api/v1/runs` body; `models` None (omitted) means all."""

    models: list[str] | None = None
    force: bool = False
    since: str | None = None
    until: str | None = None
    no_upstream: bool = False


class RemoteOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """The run and its tasks as the service stored them (a `FinishedRun`)."""

    run: RunRecord
    tasks: list[TaskRecord]


class _Accepted(msgspec.Struct, frozen=True):
    run_id: str
    models: list[str]


class _FlowDetail(msgspec.Struct):
    tasks: list[dict[str, object]]


def run_remote(
    service: LiveService, body: RunBody, user: str | None = None
) -> RemoteOutcome:
    """Submit a `cli` run to `service`, render it until it ends, and return it.

    Raises `ServiceRequestError` when the service refuses the run (unknown
    models, a missing API key...) and `ServiceUnreachable` when it cannot be
    reached or its event stream is lost before the run ends.
    """
    client = ServiceClient.from_environment(service.url)
    feed = RunEventFeed()
    reader = ServiceEventReader(client, feed)
    renderer = renderer_for(console)
    reader.start()
    try:
        with InterruptGuard() as guard:
            started = time.monotonic()
            accepted = _submit(client, body, user)
            feed.follow(accepted.run_id)
            console.print(
                f"Run submitted to the service at {service.url}", markup=False
            )
            renderer.start(accepted.run_id, accepted.models)
            _follow(client, accepted.run_id, feed, reader, renderer, guard)
            elapsed = time.monotonic() - started
    finally:
        reader.close()
    outcome = _stored_outcome(client, accepted.run_id)
    renderer.finish(outcome, elapsed)
    return outcome


def _submit(client: ServiceClient, body: RunBody, user: str | None) -> _Accepted:
    headers = {TRIGGER_HEADER: "cli"}
    if user is not None and user.isascii():
        headers[USER_HEADER] = user
    reply = client.checked(
        client.post("/api/v1/runs", msgspec.json.encode(body), headers=headers)
    )
    return _decode(client, reply.body, _Accepted)


def _follow(
    client: ServiceClient,
    run_id: str,
    feed: RunEventFeed,
    reader: ServiceEventReader,
    renderer: RunRenderer,
    guard: InterruptGuard,
) -> None:
    """Render events until the run's end event; the first Ctrl-C cancels."""
    cancel_sent = False
    while not render_events(feed.take(POLL_S), renderer):
        if guard.interrupted and not cancel_sent:
            cancel_sent = True
            renderer.note("Cancelling the run (press Ctrl-C again to exit now)...")
            _cancel(client, run_id, renderer)
        if reader.failure is not None:
            raise reader.failure


def _cancel(client: ServiceClient, run_id: str, renderer: RunRenderer) -> None:
    """Ask the service to cancel; a refusal is shown, and rendering goes on."""
    try:
        client.checked(
            client.post(f"/api/v1/runs/{run_id}/cancel", timeout=CANCEL_TIMEOUT_S)
        )
    except (ServiceRequestError, ServiceUnreachable) as exc:
        renderer.note(f"Could not cancel the run: {exc.message}")


def _stored_outcome(client: ServiceClient, run_id: str) -> RemoteOutcome:
    """The run's records from `GET /api/v1/flows/{id}` (SPEC §10.8)."""
    reply = client.checked(client.get(f"/api/v1/flows/{run_id}"))
    run = _decode(client, reply.body, RunRecord)
    detail = _decode(client, reply.body, _FlowDetail)
    tasks = [
        _convert(client, {**task, "run_id": run_id, "position": index}, TaskRecord)
        for index, task in enumerate(detail.tasks)
    ]
    return RemoteOutcome(run=run, tasks=tasks)


def _decode(client: ServiceClient, body: bytes, kind: type[T]) -> T:
    try:
        return msgspec.json.decode(body, type=kind)
    except msgspec.DecodeError as exc:  # ValidationError included
        raise _unexpected(client, kind, exc) from exc


def _convert(client: ServiceClient, value: object, kind: type[T]) -> T:
    try:
        return msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        raise _unexpected(client, kind, exc) from exc


def _unexpected(
    client: ServiceClient, kind: type[object], exc: Exception
) -> ServiceUnreachable:
    name = kind.__name__.lstrip("_")
    return ServiceUnreachable(
        f"Unexpected answer from the service at {client.url}: expected a "
        f"`{name}`, {exc}"
    )
