"""The CLI's HTTP client for a running Interlace service (standard library only).

httpx is a development dependency, so the CLI talks to the service with
`http.client`. It avoids `urllib.request` on purpose: urllib honours
`HTTP_PROXY`, which would route requests meant for a service on this
machine through a proxy.

Transport failures (`OSError`, `http.client.HTTPException`) are translated
here, and only here, into `ServiceUnreachable`; error statuses become
`ServiceRequestError` carrying the problem's `detail` (SPEC §10.2).
"""

from __future__ import annotations

import http.client
import logging
import os
import socket
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import msgspec

from interlace.errors import InterlaceError

__all__ = [
    "API_KEY_ENV",
    "EventConnection",
    "ServiceClient",
    "ServiceReply",
    "ServiceRequestError",
    "ServiceUnreachable",
]

logger = logging.getLogger(__name__)

API_KEY_ENV = "INTERLACE_API_KEY"
"""Where the CLI finds the API key of a service with `service.auth` on."""
REQUEST_TIMEOUT_S = 30.0
_TransportErrors = (OSError, http.client.HTTPException)


class ServiceUnreachable(InterlaceError):
    """The service did not answer: refused, reset or timed out."""

    code = "CONNECTION_ERROR"


class ServiceRequestError(InterlaceError):
    """The service answered with an error status; `detail` is its problem's."""

    def __init__(
        self, message: str, *, status: int, code: str | None, detail: str
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or "SERVICE_ERROR"
        self.detail = detail


class ServiceReply(msgspec.Struct, frozen=True, kw_only=True):
    status: int
    body: bytes

    def json(self) -> Any:
        return msgspec.json.decode(self.body)


class _Opened(NamedTuple):
    connection: http.client.HTTPConnection
    response: http.client.HTTPResponse
    sock: socket.socket | None


class EventConnection:
    """An open `text/event-stream` response, read line by line.

    `abort` may be called from another thread: shutting the socket down
    wakes a reader blocked in `lines`, which then ends.
    """

    def __init__(self, opened: _Opened, where: str) -> None:
        self._connection = opened.connection
        self._response = opened.response
        self._socket = opened.sock
        self._where = where

    def lines(self) -> Iterator[bytes]:
        """The stream's lines as they arrive; ends when the server closes."""
        while True:
            try:
                line = self._response.readline()
            except _TransportErrors as exc:
                raise ServiceUnreachable(f"{self._where}: {exc}") from exc
            if not line:
                return
            yield line

    def abort(self) -> None:
        if self._socket is None:
            return
        try:
            self._socket.shutdown(socket.SHUT_RDWR)
        except OSError as exc:
            logger.debug("event stream already closed: %s", exc)

    def close(self) -> None:
        self._response.close()
        self._connection.close()


class ServiceClient:
    """Requests to the service at `url`, with the API key when one is set."""

    def __init__(self, url: str, *, api_key: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ServiceUnreachable(
                f"expected an http(s) URL for the service, found `{url}`"
            )
        self.url = url.rstrip("/")
        self._parts = parts
        self._base = parts.path.rstrip("/")
        self.api_key = api_key

    @classmethod
    def from_environment(cls, url: str) -> ServiceClient:
        """A client sending the key in `INTERLACE_API_KEY`, if set."""
        return cls(url, api_key=os.environ.get(API_KEY_ENV) or None)

    def get(self, path: str, *, timeout: float = REQUEST_TIMEOUT_S) -> ServiceReply:
        return self._exchange("GET", path, None, {}, timeout)

    def post(
        self,
        path: str,
        body: bytes | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = REQUEST_TIMEOUT_S,
    ) -> ServiceReply:
        sent = {"Content-Type": "application/json", **(headers or {})}
        return self._exchange("POST", path, body or b"", sent, timeout)

    def open_events(
        self,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float,
    ) -> EventConnection:
        """GET an SSE endpoint; `timeout` bounds each read (keepalives reset it).

        Raises `ServiceRequestError` unless the service answers 200.
        """
        sent = {"Accept": "text/event-stream", **(headers or {})}
        opened = self._open("GET", path, None, sent, timeout)
        if opened.response.status != 200:
            raise self.problem(self._finish("GET", path, opened))
        return EventConnection(opened, self._where("GET", path))

    def checked(self, reply: ServiceReply) -> ServiceReply:
        """`reply` when its status is 2xx, else raise its problem."""
        if 200 <= reply.status < 300:
            return reply
        raise self.problem(reply)

    def problem(self, reply: ServiceReply) -> ServiceRequestError:
        """The error for an error reply, worded for the person at the CLI."""
        code, detail = _problem_fields(reply)
        message = self._explain(reply.status, detail)
        return ServiceRequestError(
            message, status=reply.status, code=code, detail=detail
        )

    def _explain(self, status: int, detail: str) -> str:
        if status == 400:
            # Validation messages read exactly as a local run's would.
            return detail
        if status == 401 and self.api_key is None:
            return (
                f"{detail} (the service at {self.url} requires an API key: set "
                f"`{API_KEY_ENV}` to a key with `read` and `execute` permissions)"
            )
        if status == 401:
            return f"{detail} (the key in `{API_KEY_ENV}` was refused by {self.url})"
        if status == 403:
            return (
                f"{detail} (the key in `{API_KEY_ENV}` needs `read` and `execute` "
                f"permissions on {self.url})"
            )
        return f"The service at {self.url} answered {status}: {detail}"

    def _exchange(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> ServiceReply:
        opened = self._open(method, path, body, headers, timeout)
        return self._finish(method, path, opened)

    def _open(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> _Opened:
        connection = self._connection(timeout)
        try:
            connection.request(
                method, self._base + path, body=body, headers=self._headers(headers)
            )
            # Taken before `getresponse`, which drops the connection's
            # reference when the server announces it will close.
            sock = connection.sock
            return _Opened(connection, connection.getresponse(), sock)
        except _TransportErrors as exc:
            connection.close()
            raise ServiceUnreachable(f"{self._where(method, path)}: {exc}") from exc

    def _finish(self, method: str, path: str, opened: _Opened) -> ServiceReply:
        response = opened.response
        try:
            return ServiceReply(status=response.status, body=response.read())
        except _TransportErrors as exc:
            raise ServiceUnreachable(f"{self._where(method, path)}: {exc}") from exc
        finally:
            opened.connection.close()

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        host, port = self._parts.hostname or "", self._parts.port
        if self._parts.scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=timeout)
        return http.client.HTTPConnection(host, port, timeout=timeout)

    def _headers(self, extra: Mapping[str, str]) -> dict[str, str]:
        headers = {"User-Agent": "interlace-cli", **extra}
        if self.api_key is not None:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    def _where(self, method: str, path: str) -> str:
        return f"Could not reach the service at {self.url} ({method} {path})"


def _problem_fields(reply: ServiceReply) -> tuple[str | None, str]:
    """`code` and `detail` of an RFC 9457 body, else the body's text."""
    try:
        problem = reply.json()
    except msgspec.DecodeError:
        problem = None
    if isinstance(problem, dict) and isinstance(problem.get("detail"), str):
        code = problem.get("code")
        return (code if isinstance(code, str) else None), problem["detail"]
    text = reply.body.decode("utf-8", errors="replace").strip()
    return None, text[:300] or f"HTTP {reply.status}"
