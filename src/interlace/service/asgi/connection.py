"""Plain-ASGI plumbing shared by the service's edge policies.

The edge runs for every request before Litestar routes it, so it works on
the raw ASGI scope: header lists of byte pairs, no request objects. Values
it hands inward travel as scope keys named here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from interlace.service.problems import PROBLEM_CONTENT_TYPE, Problem, problem_body

__all__ = [
    "KEY_NAME",
    "REQUEST_ID",
    "ASGIApp",
    "RawHeaders",
    "Receive",
    "Scope",
    "Send",
    "header",
    "read_headers",
    "request_id_of",
    "send_problem",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
RawHeaders = list[tuple[bytes, bytes]]

REQUEST_ID = "interlace.request_id"
"""Scope key: the request id echoed in `X-Request-ID` and problem bodies."""
KEY_NAME = "interlace.key_name"
"""Scope key: the name of the API key that authenticated the request."""


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower-case bytes), decoded as latin-1."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def read_headers(scope: Scope, names: frozenset[bytes]) -> dict[bytes, str]:
    """The first value of each header in `names` that the request carries.

    One pass over the header list serves every policy of the edge.
    """
    found: dict[bytes, str] = {}
    for key, value in scope["headers"]:
        if key in names and key not in found:
            found[key] = value.decode("latin-1")
    return found


def request_id_of(scope: Scope) -> str:
    return str(scope.get(REQUEST_ID, ""))


async def send_problem(
    scope: Scope,
    send: Send,
    problem: Problem,
    headers: RawHeaders | None = None,
) -> None:
    """Answer the request with `problem` (the body is not streamed)."""
    body = problem_body(
        problem, instance=scope["path"], request_id=request_id_of(scope)
    )
    raw_headers = [
        (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
        (b"content-length", str(len(body)).encode()),
        *(
            (name.lower().encode(), value.encode())
            for name, value in problem.headers.items()
        ),
        *(headers or ()),
    ]
    await send(
        {
            "type": "http.response.start",
            "status": problem.status,
            "headers": raw_headers,
        }
    )
    await send({"type": "http.response.body", "body": body})
