"""API keys, permissions, whitelist and rate limits on a real server (§10.3)."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from tests.service.conftest import ServiceProcess, running_service, write_project

PROD = "prod-key-abc"
MONITOR = "mon-key-123"
WRITER = "writer-key-456"
BURST = "burst-key-789"
MISSING = (
    "Missing API key. Provide via Authorization: Bearer <key> or X-API-Key header."
)

SERVICE_YAML = """\
service:
  auth:
    enabled: true
    api_keys:
      - {name: production, key: "${TEST_PROD_KEY}", permissions: [read, write, execute]}
      - {name: monitoring, key: mon-key-123}
      - {name: writer, key: writer-key-456, permissions: [read, write]}
      - {name: burst, key: burst-key-789}
    whitelist: [/api/v1/health, "/api/docs*", "/api/openapi.*"]
    rate_limit: {requests_per_second: 0.1, burst: 40}
"""


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    root = write_project(tmp_path_factory.mktemp("secured"), service_yaml=SERVICE_YAML)
    args = ["--no-scheduler", "--no-ui"]
    with running_service(root, args, env={"TEST_PROD_KEY": PROD}) as service:
        yield service


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.parametrize(
    ("key", "method", "path", "permission"),
    [
        (MONITOR, "DELETE", "/api/v1/models", "write"),
        (MONITOR, "PUT", "/api/v1/models/source", "write"),
        (MONITOR, "POST", "/api/v1/plan", "write"),
        (MONITOR, "POST", "/api/v1/runs/run_000000000000/cancel", "execute"),
        (WRITER, "POST", "/api/v1/runs", "execute"),
        (WRITER, "POST", "/api/v1/lineage/refresh", "execute"),
    ],
)
def test_a_key_without_the_needed_permission_is_forbidden(
    secured: ServiceProcess, key: str, method: str, path: str, permission: str
) -> None:
    with secured.client(**bearer(key)) as client:
        response = client.request(method, path)

    name = "monitoring" if key == MONITOR else "writer"
    body = response.json()
    assert response.status_code == 403
    assert body["code"] == "FORBIDDEN"
    assert body["detail"] == f"API key '{name}' lacks '{permission}' permission"
    assert body["required_permission"] == permission
    assert body["key_name"] == name
    assert body["type"] == "urn:interlace:problem:forbidden"


@pytest.mark.parametrize(
    ("key", "method", "path"),
    [
        (MONITOR, "GET", "/api/v1/models"),
        (MONITOR, "HEAD", "/api/v1/project"),
        (WRITER, "DELETE", "/api/v1/models"),
        (WRITER, "PUT", "/api/v1/models/source"),
        (PROD, "POST", "/api/v1/runs/run_000000000000/cancel"),
        (PROD, "DELETE", "/api/v1/models"),
        (PROD, "GET", "/api/v1/ready"),
    ],
)
def test_a_key_with_the_needed_permission_passes_authentication(
    secured: ServiceProcess, key: str, method: str, path: str
) -> None:
    with secured.client(**bearer(key)) as client:
        response = client.request(method, path)

    assert response.status_code not in (401, 403, 429)


def test_a_missing_key_is_unauthorized_with_the_documented_message(
    secured: ServiceProcess,
) -> None:
    with secured.client() as client:
        response = client.get("/api/v1/models")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "UNAUTHORIZED"
    assert response.json()["detail"] == MISSING
    assert response.json()["request_id"] == response.headers["x-request-id"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer not-a-key"},
        {"X-API-Key": "not-a-key"},
        {"Authorization": f"Bearer {PROD}x"},
        {"Authorization": "Bearer not-a-key", "X-API-Key": PROD},
    ],
)
def test_an_unknown_key_is_unauthorized(
    secured: ServiceProcess, headers: dict[str, str]
) -> None:
    with secured.client(**headers) as client:
        response = client.get("/api/v1/models")

    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid API key"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {MONITOR}"},
        {"Authorization": f"bearer {MONITOR}"},
        {"X-API-Key": MONITOR},
        {"Authorization": f"Bearer {MONITOR}", "X-API-Key": "not-a-key"},
        {"Authorization": "Basic dXNlcjpwdw==", "X-API-Key": MONITOR},
    ],
)
def test_a_key_is_read_from_bearer_first_then_x_api_key(
    secured: ServiceProcess, headers: dict[str, str]
) -> None:
    with secured.client(**headers) as client:
        response = client.get("/api/v1/models")

    assert response.status_code == 200


def test_an_interpolated_key_authenticates(secured: ServiceProcess) -> None:
    with secured.client(**{"X-API-Key": PROD}) as client:
        response = client.get("/api/v1/info")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/health",
        "/api/docs",
        "/api/docs/assets/swagger-ui.css",
        "/api/openapi.json",
        "/api/openapi.yaml",
        "/health",
        "/metrics",
    ],
)
def test_whitelisted_and_non_api_paths_need_no_key(
    secured: ServiceProcess, path: str
) -> None:
    with secured.client() as client:
        response = client.get(path)

    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/ready", "/api/v1/health/extra", "/api/doc"])
def test_paths_outside_the_whitelist_need_a_key(
    secured: ServiceProcess, path: str
) -> None:
    with secured.client() as client:
        response = client.get(path)

    assert response.status_code == 401


def test_without_the_ui_other_paths_answer_json_not_found(
    secured: ServiceProcess,
) -> None:
    with secured.client() as client:
        response = client.get("/")

    assert response.status_code == 404
    assert response.json()["code"] == "RESOURCE_NOT_FOUND"


def test_answers_carry_the_rate_limit_of_their_key(secured: ServiceProcess) -> None:
    with secured.client(**bearer(WRITER)) as client:
        first = client.get("/api/v1/project")
        second = client.get("/api/v1/project")

    assert first.headers["ratelimit-limit"] == "40"
    remaining = int(first.headers["ratelimit-remaining"])
    assert int(second.headers["ratelimit-remaining"]) == remaining - 1
    assert (
        second.headers["x-ratelimit-remaining"] == second.headers["ratelimit-remaining"]
    )
    assert int(second.headers["ratelimit-reset"]) >= 10


def test_whitelisted_requests_without_a_key_are_limited_per_client(
    secured: ServiceProcess,
) -> None:
    with secured.client() as client:
        first = client.get("/api/v1/health")
        second = client.get("/api/v1/health")

    assert int(second.headers["ratelimit-remaining"]) == (
        int(first.headers["ratelimit-remaining"]) - 1
    )


def test_an_empty_bucket_answers_429_with_retry_information(
    secured: ServiceProcess,
) -> None:
    with secured.client(**bearer(BURST)) as client:
        allowed = [client.get("/api/v1/info").status_code for _ in range(40)]
        refused = client.get("/api/v1/info")
    with secured.client(**bearer(MONITOR)) as other:
        unaffected = other.get("/api/v1/info")

    body = refused.json()
    assert allowed == [200] * 40
    assert refused.status_code == 429
    assert body["code"] == "RATE_LIMITED"
    assert body["detail"] == "Rate limit exceeded for key 'burst'"
    assert body["limit"] == 40
    assert 0 < body["retry_after"] <= 10
    assert body["retry_after"] == round(body["retry_after"], 2)
    assert refused.headers["retry-after"] == str(math.ceil(body["retry_after"]))
    assert refused.headers["ratelimit-remaining"] == "0"
    assert unaffected.status_code == 200


def test_a_preflight_needs_no_key(secured: ServiceProcess) -> None:
    with secured.client() as client:
        response = client.options(
            "/api/v1/runs",
            headers={
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "POST",
            },
        )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
