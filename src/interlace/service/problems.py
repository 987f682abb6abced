"""RFC 9457 problem details: the one shape of every 4xx and 5xx answer.

A `Problem` is built either by raising `ApiError` from a controller or a
service, or by `problem_from_exception`, the single translation of every
other exception (Interlace errors, Litestar's HTTP errors, bugs) into a
problem. The ASGI edge renders its problems with `problem_body` too, so a
401 from the auth layer looks exactly like a 404 from a controller.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import msgspec
from litestar.exceptions import (
    HTTPException,
    NotFoundException,
    SerializationException,
    ValidationException,
)

from interlace.errors import InterlaceError, SelectionError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "ApiError",
    "Problem",
    "bad_request",
    "not_found",
    "problem_body",
    "service_unavailable",
    "validation_error",
]

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:interlace:problem:"
INTERNAL_DETAIL = "An internal error occurred"

_TITLES = {
    "INVALID_REQUEST": "Invalid request",
    "UNAUTHORIZED": "Unauthorized",
    "FORBIDDEN": "Forbidden",
    "RATE_LIMITED": "Rate limit exceeded",
    "SERVICE_UNAVAILABLE": "Service unavailable",
}
_encoder = msgspec.json.Encoder()


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One problem, before the request supplies `instance` and `request_id`."""

    status: int
    code: str
    detail: str
    title: str | None = None
    """Defaults to the code in words (`MODEL_NOT_FOUND` -> `Model not found`)."""
    extensions: dict[str, Any] = {}
    headers: dict[str, str] = {}
    """Extra response headers (`Retry-After`, ...)."""

    @property
    def type(self) -> str:
        return TYPE_PREFIX + self.code.lower().replace("_", "-")


class ApiError(InterlaceError):
    """An error that is answered with exactly this problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.code = problem.code


def problem_body(problem: Problem, *, instance: str, request_id: str) -> bytes:
    """The JSON document of `problem` for the request at `instance`."""
    document: dict[str, Any] = {
        "type": problem.type,
        "title": problem.title or _title(problem.code),
        "status": problem.status,
        "detail": problem.detail,
        "instance": instance,
        "code": problem.code,
        "request_id": request_id,
    }
    for key, value in problem.extensions.items():
        document.setdefault(key, value)
    return _encoder.encode(document)


def not_found(resource: str, identifier: str) -> ApiError:
    """404 `<RESOURCE>_NOT_FOUND`, e.g. `Model 'foo' not found` with `model_id`."""
    return ApiError(
        Problem(
            status=404,
            code=f"{resource.upper()}_NOT_FOUND",
            detail=f"{resource.capitalize()} '{identifier}' not found",
            extensions={f"{resource}_id": identifier},
        )
    )


def bad_request(detail: str, **extensions: Any) -> ApiError:
    """400 `INVALID_REQUEST`: the request itself is malformed."""
    return ApiError(
        Problem(
            status=400, code="INVALID_REQUEST", detail=detail, extensions=extensions
        )
    )


def validation_error(
    detail: str, errors: list[dict[str, str]] | None = None, **extensions: Any
) -> ApiError:
    """400 `VALIDATION_ERROR`; `errors` holds `{"path", "message"}` items."""
    if errors is not None:
        extensions["errors"] = errors
    return ApiError(
        Problem(
            status=400, code="VALIDATION_ERROR", detail=detail, extensions=extensions
        )
    )


def service_unavailable(detail: str) -> ApiError:
    return ApiError(Problem(status=503, code="SERVICE_UNAVAILABLE", detail=detail))


def unknown_models(error: SelectionError) -> Problem:
    """The problem of a selector naming unknown models."""
    return Problem(
        status=400,
        code="VALIDATION_ERROR",
        detail=f"Unknown models: {error.invalid!r}",
        extensions={
            "invalid_models": list(error.invalid),
            "available_models": list(error.available[:20]),
        },
    )


def problem_from_exception(exc: Exception, method: str, path: str) -> Problem:
    """Translate any exception raised while answering `method path`."""
    if isinstance(exc, ApiError):
        return exc.problem
    if isinstance(exc, SelectionError):
        return unknown_models(exc)
    if isinstance(exc, HTTPException):
        return _http_problem(exc, method, path)
    if isinstance(exc, InterlaceError) and exc.code in _SERVER_CODES:
        logger.error("%s %s failed: %s", method, path, exc, exc_info=exc)
        return Problem(status=_SERVER_CODES[exc.code], code=exc.code, detail=str(exc))
    logger.error("%s %s raised an unexpected error", method, path, exc_info=exc)
    return Problem(status=500, code="INTERNAL_ERROR", detail=INTERNAL_DETAIL)


_SERVER_CODES = {
    "DATABASE_ERROR": 500,
    "EXECUTION_ERROR": 500,
    "CONNECTION_ERROR": 502,
    "SERVICE_UNAVAILABLE": 503,
}
_STATUS_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "RESOURCE_NOT_FOUND",
    413: "PAYLOAD_TOO_LARGE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}


def _http_problem(exc: HTTPException, method: str, path: str) -> Problem:
    status: int = exc.status_code
    if isinstance(exc, ValidationException):
        return _validation_problem(exc)
    if isinstance(exc.__cause__, SerializationException):
        return bad_request("Invalid JSON in request body").problem
    if isinstance(exc, NotFoundException) or status == 404:
        detail = f"No resource at '{path}'"
        return Problem(status=404, code="RESOURCE_NOT_FOUND", detail=detail)
    if status in (405, 415):
        detail = str(exc.detail)
        if status == 405:
            detail = f"Method {method} is not allowed for '{path}'"
        return bad_request(detail).problem
    if status == 503:
        return service_unavailable(str(exc.detail)).problem
    if status >= 500:
        logger.error("%s %s failed", method, path, exc_info=exc)
        return Problem(status=status, code="INTERNAL_ERROR", detail=INTERNAL_DETAIL)
    code = _STATUS_CODES.get(status, "INVALID_REQUEST")
    return Problem(status=status, code=code, detail=str(exc.detail))


_AT_PATH = re.compile(r" - at `(?P<path>\$[^`]*)`$")
_UNKNOWN_FIELD = re.compile(r"unknown field `(?P<field>[^`]+)`")


def _validation_problem(exc: ValidationException) -> Problem:
    """Body and parameter validation failures, with a path per error."""
    items = [item for item in (exc.extra or []) if isinstance(item, dict)]
    if not items:
        return validation_error(str(exc.detail)).problem
    errors = [_validation_item(item) for item in items]
    first = errors[0]
    if first["path"].startswith("$"):
        detail = f"Invalid request body at `{first['path']}`: {first['message']}"
    else:
        detail = f"Invalid {first['path'].replace('.', ' parameter `', 1)}`: "
        detail += first["message"]
    return validation_error(detail, errors).problem


def _validation_item(item: dict[str, Any]) -> dict[str, str]:
    """`{"path", "message"}`: `$.field` for bodies, `query.name` otherwise."""
    message = str(item.get("message", ""))
    key = str(item.get("key") or "")
    source = item.get("source")
    source = str(getattr(source, "value", source) or "body")
    if source != "body":
        return {"path": f"{source}.{key}", "message": message}
    located = _AT_PATH.search(message)
    if located:
        return {"path": located["path"], "message": message[: located.start()]}
    if message == "'data'":
        # Litestar's report of a required body that was empty.
        return {"path": "$", "message": "A JSON request body is required"}
    unknown = _UNKNOWN_FIELD.search(message)
    field = unknown["field"] if unknown else key
    path = "$" if field in ("", "data") else f"$.{field}"
    return {"path": path, "message": message}


def _title(code: str) -> str:
    return _TITLES.get(code) or code.replace("_", " ").capitalize()
