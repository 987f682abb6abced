"""Runs: start, follow, cancel and retry (SPEC §10.7)."""

from __future__ import annotations

import weakref
from typing import Annotated, Any, cast

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter

from interlace.runtime.messages import RunRequest
from interlace.runtime.run_manager import Submitted
from interlace.service.asgi.connection import KEY_NAME, Scope, request_id_of
from interlace.service.asgi.rate_limit import client_address
from interlace.service.dto.runs import (
    CancelAnswer,
    RetryBody,
    RunAccepted,
    RunBody,
    RunStatusBody,
    body_problem,
    status_body,
)
from interlace.service.idempotency import (
    REPLAYED_HEADER,
    Answer,
    IdempotencyKeys,
    request_hash,
)
from interlace.service.problems import (
    PROBLEM_CONTENT_TYPE,
    not_found,
    problem_body,
    problem_from_exception,
    validation_error,
)
from interlace.service.runs import Caller, RunService
from interlace.service.state import ServiceState
from interlace.state.ids import utc_now

__all__ = ["RunsController", "body_validation_handler", "provide_run_service"]

MAX_WAIT_S = 300.0
TRIGGER_HEADER = "x-interlace-trigger"
"""`cli` marks a run submitted by `interlace run` (still `trigger_type: cli`)."""
USER_HEADER = "x-interlace-user"
"""The OS user of a `cli` submission, recorded as `created_by`."""

_encoder = msgspec.json.Encoder()
_services: weakref.WeakKeyDictionary[ServiceState, RunService] = (
    weakref.WeakKeyDictionary()
)
_keys: weakref.WeakKeyDictionary[ServiceState, IdempotencyKeys] = (
    weakref.WeakKeyDictionary()
)


def provide_run_service(service: NamedDependency[ServiceState]) -> RunService:
    """One `RunService` per service process (keyed by its state)."""
    runs = _services.get(service)
    if runs is None:
        runs = _services[service] = RunService(service.runtime, service.gateway)
    return runs


def provide_idempotency_keys(
    service: NamedDependency[ServiceState],
) -> IdempotencyKeys:
    """One key registry per process: its locks must be shared by requests."""
    keys = _keys.get(service)
    if keys is None:
        keys = _keys[service] = IdempotencyKeys(service.runtime)
    return keys


def body_validation_handler(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[bytes]:
    """Body errors in the documented words; other errors as usual."""
    cause = exc.__cause__
    error: Exception = exc
    if isinstance(cause, msgspec.ValidationError):
        error = body_problem(cause)
    problem = problem_from_exception(error, request.method, request.url.path)
    body = problem_body(
        problem, instance=request.url.path, request_id=request_id_of(_scope(request))
    )
    return Response(body, status_code=problem.status, media_type=PROBLEM_CONTENT_TYPE)


class RunsController(Controller):
    path = "/api/v1/runs"
    tags = ["runs"]
    dependencies = {
        "runs": Provide(provide_run_service, sync_to_thread=False),
        "keys": Provide(provide_idempotency_keys, sync_to_thread=False),
    }
    exception_handlers = {ValidationException: body_validation_handler}

    @post(
        "/",
        status_code=202,
        summary="Start a run",
        description=(
            "202 with `Location` to the run's status. `?wait=<seconds>` "
            "(0-300) answers 200 with the status if the run ends in time. "
            "An `Idempotency-Key` header makes the request safe to repeat."
        ),
        responses={
            200: ResponseSpec(RunStatusBody, description="Ended within `wait`"),
            202: ResponseSpec(RunAccepted, description="Accepted"),
        },
    )
    async def create_run(
        self,
        request: Request[Any, Any, Any],
        service: NamedDependency[ServiceState],
        runs: NamedDependency[RunService],
        keys: NamedDependency[IdempotencyKeys],
        data: JSONBody[RunBody | None] = None,
        wait: Annotated[
            str | None,
            QueryParameter(description="Seconds (0-300) to wait for the run to end"),
        ] = None,
    ) -> Response[bytes]:
        body = data or RunBody()
        timeout = _wait_seconds(wait)
        caller = _caller(request)

        async def act() -> Answer:
            submitted = await runs.submit(_run_request(body, caller))
            return await _accepted(runs, submitted, timeout)

        key = request.headers.get("idempotency-key")
        if key is None:
            return _respond(await act(), replayed=False)
        answer, replayed = await keys.answer(
            _key_scope(request, service), key, request_hash(body), act
        )
        return _respond(answer, replayed=replayed)

    @get("/{run_id:str}/status", summary="Status of a run, live or finished")
    async def status(
        self, run_id: FromPath[str], runs: NamedDependency[RunService]
    ) -> RunStatusBody:
        view = await runs.read(run_id)
        if view is None:
            raise not_found("run", run_id)
        return status_body(view.run, view.tasks, utc_now())

    @post(
        "/{run_id:str}/cancel",
        status_code=200,
        summary="Cancel a run; waits up to 5 s for it to end",
    )
    async def cancel(
        self, run_id: FromPath[str], runs: NamedDependency[RunService]
    ) -> CancelAnswer:
        return await runs.cancel(run_id)

    @post(
        "/{run_id:str}/retry",
        status_code=202,
        summary="Start a run forcing the failed part of a finished run",
        responses={202: ResponseSpec(RunAccepted, description="Accepted")},
    )
    async def retry(
        self,
        request: Request[Any, Any, Any],
        run_id: FromPath[str],
        runs: NamedDependency[RunService],
        data: JSONBody[RetryBody | None] = None,
    ) -> Response[bytes]:
        mode = (data or RetryBody()).mode
        submitted = await runs.retry(run_id, mode, _caller(request))
        return _respond(await _accepted(runs, submitted, None, retry_of=run_id))


def _run_request(body: RunBody, caller: Caller) -> RunRequest:
    return RunRequest(
        selectors=tuple(body.models) if body.models is not None else None,
        force=body.force,
        since=body.since,
        until=body.until,
        no_upstream=body.no_upstream,
        trigger_type=caller.trigger_type,
        trigger_id=caller.name,
        created_by=caller.name,
        trigger_metadata=body.trigger_metadata,
    )


async def _accepted(
    runs: RunService,
    submitted: Submitted,
    timeout: float | None,
    *,
    retry_of: str | None = None,
) -> Answer:
    """200 with the status if the run ended within `timeout`, else 202."""
    if timeout is not None:
        outcome = await runs.wait(submitted, timeout)
        if outcome is not None:
            done = status_body(outcome.run, outcome.tasks, utc_now())
            return Answer(status_code=200, body=_encoder.encode(done))
    accepted = RunAccepted(
        run_id=submitted.run_id,
        flow_id=submitted.run_id,
        status="accepted",
        models=submitted.models,
        estimated_tasks=len(submitted.models),
        retry_of=retry_of,
    )
    return Answer(status_code=202, body=_encoder.encode(accepted))


class _RunRef(msgspec.Struct):
    run_id: str


def _respond(answer: Answer, *, replayed: bool = False) -> Response[bytes]:
    run_id = msgspec.json.decode(answer.body, type=_RunRef).run_id
    headers = {"Location": f"/api/v1/runs/{run_id}/status"}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return Response(
        answer.body,
        status_code=answer.status_code,
        media_type="application/json",
        headers=headers,
    )


def _wait_seconds(raw: str | None) -> float | None:
    if raw is None:
        return None
    message = "'wait' must be a number of seconds between 0 and 300"
    try:
        seconds = float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= MAX_WAIT_S:  # also rejects NaN
        raise validation_error(message, [{"path": "query.wait", "message": message}])
    return seconds


def _caller(request: Request[Any, Any, Any]) -> Caller:
    """`api` with the API key's name, or `cli` for `interlace run` clients."""
    key_name = _key_name(request)
    trigger = request.headers.get(TRIGGER_HEADER, "api")
    if trigger == "api":
        return Caller(trigger_type="api", name=key_name)
    if trigger == "cli":
        user = request.headers.get(USER_HEADER)
        return Caller(trigger_type="cli", name=user or key_name)
    message = f"'X-Interlace-Trigger' must be 'api' or 'cli'; got '{trigger}'"
    raise validation_error(message, [{"path": "header", "message": message}])


def _key_scope(request: Request[Any, Any, Any], service: ServiceState) -> str:
    """Idempotency keys belong to an API key, or to a client address."""
    key_name = _key_name(request)
    if key_name is not None:
        return f"key:{key_name}"
    trusted = service.settings.trusted_proxies
    return f"client:{client_address(_scope(request), trusted)}"


def _key_name(request: Request[Any, Any, Any]) -> str | None:
    """The API key that authenticated the request (None with auth off)."""
    name = _scope(request).get(KEY_NAME)
    return None if name is None else str(name)


def _scope(request: Request[Any, Any, Any]) -> Scope:
    # Litestar types its scope as a TypedDict; the ASGI helpers take the
    # plain mapping every ASGI scope is.
    return cast(Scope, request.scope)
