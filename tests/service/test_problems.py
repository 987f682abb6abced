"""The one exception map: every failure becomes an RFC 9457 problem (§10.2).

These run the app in process (Litestar's test client) so that handlers
which fail on purpose can be registered next to the real controllers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.exceptions import HTTPException
from litestar.params import JSONBody
from litestar.testing import TestClient

from interlace.errors import ConfigError, StateStoreError
from interlace.service import ServiceState, create_app
from interlace.service.problems import problem_from_exception
from tests.service.conftest import write_project


class RunBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    models: list[str] | None = None
    force: bool = False


@get("/api/v1/test/boom")
async def boom() -> None:
    raise RuntimeError("secret internals /etc/passwd")


@get("/api/v1/test/database")
async def database() -> None:
    raise StateStoreError("the state store is locked")


@post("/api/v1/test/body")
async def body(data: JSONBody[RunBody]) -> dict[str, bool]:
    return {"force": data.force}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    """The real app of a small project, plus handlers that fail on purpose.

    Function-scoped: the suite stops every actor after each test, and a
    `ServiceState` serves a single app lifespan.
    """
    root = write_project(tmp_path)
    state = ServiceState.load(root, host="127.0.0.1", port=8080, scheduler=False)
    app = create_app(state)
    for handler in (boom, database, body):
        app.register(handler)
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_unexpected_error_is_an_internal_error_that_leaks_nothing(
    client: TestClient[Litestar], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="interlace.service"):
        response = client.get("/api/v1/test/boom")

    body = response.json()
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert body == {
        "type": "urn:interlace:problem:internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "An internal error occurred",
        "instance": "/api/v1/test/boom",
        "code": "INTERNAL_ERROR",
        "request_id": response.headers["x-request-id"],
    }
    assert "secret" not in response.text
    assert "RuntimeError: secret internals" in caplog.text
    assert "Traceback" in caplog.text


def test_a_state_store_error_keeps_its_database_code(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/api/v1/test/database")

    assert response.status_code == 500
    assert response.json()["code"] == "DATABASE_ERROR"
    assert response.json()["detail"] == "the state store is locked"


def test_malformed_json_is_an_invalid_request(client: TestClient[Litestar]) -> None:
    response = client.post(
        "/api/v1/test/body",
        content=b'{"force": tru',
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_REQUEST"
    assert response.json()["detail"] == "Invalid JSON in request body"


def test_an_unknown_body_field_is_a_validation_error_with_its_path(
    client: TestClient[Litestar],
) -> None:
    response = client.post("/api/v1/test/body", json={"force": True, "colour": "red"})

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert body["errors"] == [
        {"path": "$.colour", "message": "Object contains unknown field `colour`"}
    ]
    assert "$.colour" in body["detail"]


def test_a_wrongly_typed_body_field_is_a_validation_error(
    client: TestClient[Litestar],
) -> None:
    response = client.post("/api/v1/test/body", json={"force": "yes"})

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "$.force", "message": "Expected `bool`, got `str`"}
    ]


def test_an_empty_required_body_is_a_validation_error(
    client: TestClient[Litestar],
) -> None:
    response = client.post("/api/v1/test/body", content=b"")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "$", "message": "A JSON request body is required"}
    ]


def test_a_valid_body_reaches_the_handler(client: TestClient[Litestar]) -> None:
    response = client.post("/api/v1/test/body", json={"force": True})

    assert response.status_code == 201
    assert response.json() == {"force": True}


def test_a_wrong_query_parameter_type_names_the_parameter(
    client: TestClient[Litestar],
) -> None:
    response = client.get("/api/v1/models?limit=ten")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert body["errors"][0]["path"] == "query.limit"
    assert body["detail"].startswith("Invalid query parameter `limit`")


@pytest.mark.parametrize(
    ("raised", "answered", "code"),
    [
        (405, 400, "INVALID_REQUEST"),
        (415, 400, "INVALID_REQUEST"),
        (401, 401, "UNAUTHORIZED"),
        (413, 413, "PAYLOAD_TOO_LARGE"),
        (418, 418, "INVALID_REQUEST"),
        (503, 503, "SERVICE_UNAVAILABLE"),
        (502, 502, "INTERNAL_ERROR"),
    ],
)
def test_http_errors_map_to_problem_codes(
    raised: int, answered: int, code: str
) -> None:
    exc = HTTPException(status_code=raised, detail="x")

    problem = problem_from_exception(exc, "POST", "/api/v1/x")

    assert (problem.status, problem.code) == (answered, code)


def test_the_service_state_refuses_a_project_it_cannot_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="Configuration file not found"):
        ServiceState.load(tmp_path)
