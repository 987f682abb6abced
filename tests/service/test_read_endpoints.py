"""Shapes of the read-only endpoints, against a real granian server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.service.conftest import ServiceProcess, running_service, write_project

RUN_TIMEOUT_S = 30.0


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The default project served with `--run`, once that run has finished."""
    root = write_project(
        tmp_path_factory.mktemp("ran"),
        service_yaml='service:\n  cors_origins: ["https://dash.example.com"]\n',
    )
    with running_service(root, ["--run", "--no-scheduler"]) as service:
        deadline = time.monotonic() + RUN_TIMEOUT_S
        with service.client() as client:
            while client.get("/api/v1/health").json()["active_flows"]:
                assert time.monotonic() < deadline, service.output()
                time.sleep(0.05)
        yield service


def test_health_reports_version_connections_and_activity(ran: ServiceProcess) -> None:
    with ran.client() as client:
        api = client.get("/api/v1/health")
        plain = client.get("/health")

    body = api.json()
    assert api.status_code == 200
    assert body["status"] == "ok"
    assert body["version"] == "0.1.0"
    assert body["uptime_seconds"] > 0
    assert body["connections"] == [
        {"name": "default", "type": "duckdb", "status": "connected"}
    ]
    assert isinstance(body["scheduler_running"], bool)
    assert body["active_flows"] == 0
    assert body["subscribers"] == 0
    assert plain.status_code == 200
    assert set(plain.json()) == set(body)


def test_ready_checks_store_warehouse_and_actors(ran: ServiceProcess) -> None:
    with ran.client() as client:
        response = client.get("/api/v1/ready")

    assert response.status_code == 200
    assert response.json() == {
        "ready": True,
        "checks": {
            "state_store": {"ok": True},
            "actors": {"ok": True},
            "warehouse": {"ok": True},
        },
    }


def test_project_describes_the_loaded_project(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/project").json()

    assert body == {
        "name": "shop",
        "description": "A test shop",
        "environment": "dev",
        "project_dir": str(ran.root.resolve()),
        "models_count": 3,
        "streams_count": 0,
        "connections": [{"name": "default", "type": "duckdb"}],
        "state_enabled": True,
        "state_backend": "sqlite",
    }


def test_info_lists_api_version_and_feature_flags(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/info").json()

    assert body["api_version"] == "v1"
    assert body["interlace_version"] == "0.1.0"
    assert set(body["features"]) == {
        "scheduling",
        "streams",
        "sync",
        "checks",
        "retry_framework",
        "consumer_groups",
        "idempotency",
        "metrics",
    }
    assert body["features"]["metrics"] is True
    assert body["features"]["sync"] is False


def test_models_are_listed_sorted_by_name_with_effective_values(
    ran: ServiceProcess,
) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/models").json()

    assert [model["name"] for model in body["models"]] == [
        "enriched",
        "source",
        "total",
    ]
    assert body["models"][0] == {
        "name": "enriched",
        "type": "python",
        "schema": "staging",
        "connection": "default",
        "materialise": "table",
        "strategy": "merge_by_key",
        "description": "Cleaned rows.",
        "tags": ["staging", "core"],
        "owner": "data-eng",
        "layer": 1,
        "has_schedule": True,
    }
    assert body["models"][1]["strategy"] == "replace"
    assert (body["total"], body["has_more"], body["next_cursor"]) == (3, False, None)


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("schema=staging", ["enriched"]),
        ("type=sql", ["source", "total"]),
        ("tags=core,nope", ["enriched"]),
        ("search=RIC", ["enriched"]),
        ("type=sql&search=tot", ["total"]),
    ],
)
def test_model_filters_combine_with_and(
    ran: ServiceProcess, query: str, names: list[str]
) -> None:
    with ran.client() as client:
        body = client.get(f"/api/v1/models?{query}").json()

    assert [model["name"] for model in body["models"]] == names
    assert body["total"] == len(names)


def test_a_model_type_outside_the_vocabulary_is_a_validation_error(
    ran: ServiceProcess,
) -> None:
    with ran.client() as client:
        response = client.get("/api/v1/models?type=table")

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["detail"] == "'type' must be one of python, sql, stream"


def test_model_pages_follow_their_cursor_to_the_end(ran: ServiceProcess) -> None:
    with ran.client() as client:
        first = client.get("/api/v1/models?limit=2").json()
        second = client.get(
            "/api/v1/models", params={"limit": 2, "cursor": first["next_cursor"]}
        ).json()
        by_offset = client.get("/api/v1/models?limit=2&offset=2").json()

    assert [m["name"] for m in first["models"]] == ["enriched", "source"]
    assert first["has_more"] is True
    assert [m["name"] for m in second["models"]] == ["total"]
    assert (second["has_more"], second["next_cursor"]) == (False, None)
    assert by_offset["models"] == second["models"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=0", "'limit' must be an integer between 1 and 1000"),
        ("limit=1001", "'limit' must be an integer between 1 and 1000"),
        ("offset=-1", "'offset' must be an integer >= 0"),
        ("cursor=bm90LWEtY3Vyc29y", "'cursor' is not a valid pagination cursor"),
    ],
)
def test_bad_pagination_parameters_are_validation_errors(
    ran: ServiceProcess, query: str, message: str
) -> None:
    with ran.client() as client:
        response = client.get(f"/api/v1/models?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert response.json()["detail"] == message


def test_a_cursor_is_refused_with_other_filters(ran: ServiceProcess) -> None:
    with ran.client() as client:
        cursor = client.get("/api/v1/models?limit=1").json()["next_cursor"]
        response = client.get(
            "/api/v1/models", params={"cursor": cursor, "type": "sql"}
        )

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "query.cursor"


def test_model_detail_reports_effective_values(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/models/enriched").json()

    assert body["primary_key"] == ["id"]
    assert body["dependencies"] == ["source"]
    assert body["dependents"] == ["total"]
    assert body["external_dependencies"] == ["lookup_table"]
    assert body["file"] == str(ran.root.resolve() / "models" / "enriched.py")
    assert len(body["file_hash"]) == 64
    assert len(body["definition_hash"]) == 64
    assert body["schedule"] == "15 * * * *"
    assert body["schedule_config"]["cron"] == "15 * * * *"
    assert body["columns"][0] == {
        "name": "id",
        "type": "int64",
        "data_type": "int64",
        "nullable": True,
        "is_primary_key": True,
    }
    assert body["fields"] == {"id": "int64", "gross": "int64"}
    assert body["schema_mode"] == "safe"
    assert body["retry_policy"] == {
        "max_attempts": 2,
        "initial_delay": 1.0,
        "max_delay": 30.0,
        "exponential_base": 2.0,
        "delay_seconds": 1.0,
        "backoff_multiplier": 2.0,
    }
    assert body["last_run_at"].endswith("Z")
    assert body["last_success_at"].endswith("Z")


def test_an_unknown_model_is_a_model_not_found_problem(ran: ServiceProcess) -> None:
    with ran.client() as client:
        response = client.get("/api/v1/models/foo")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:interlace:problem:model-not-found",
        "title": "Model not found",
        "status": 404,
        "detail": "Model 'foo' not found",
        "instance": "/api/v1/models/foo",
        "code": "MODEL_NOT_FOUND",
        "request_id": response.headers["x-request-id"],
        "model_id": "foo",
    }


def test_model_runs_list_the_tasks_of_the_model(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/models/total/runs").json()

    assert body["model"] == "total"
    assert (body["total"], body["has_more"], body["next_cursor"]) == (1, False, None)
    run = body["runs"][0]
    assert run["flow_id"].startswith("run_")
    assert run["task_id"].startswith("task_")
    assert run["status"] == run["task_status"] == "completed"
    assert run["flow_status"] == "completed"
    assert run["trigger_type"] == "api"
    assert run["rows_processed"] == 1
    assert run["duration_seconds"] >= 0
    assert run["error_message"] is None
    assert run["started_at"].endswith("Z")


def test_model_stats_count_rows_and_average_durations(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/models/enriched/stats").json()

    assert body["total_rows"] == 5
    assert body["last_run_at"].endswith("Z")
    assert body["avg_duration_seconds"] >= 0


def test_the_full_graph_has_nodes_edges_layers_and_stats(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/graph").json()

    assert [node["id"] for node in body["nodes"]] == ["source", "enriched", "total"]
    assert body["nodes"][0] == {
        "id": "source",
        "name": "source",
        "type": "sql",
        "schema": "public",
        "materialise": "table",
        "strategy": "replace",
        "layer": 0,
        "tags": [],
        "description": "",
    }
    assert body["edges"] == [
        {"id": "source->enriched", "source": "source", "target": "enriched"},
        {"id": "enriched->total", "source": "enriched", "target": "total"},
    ]
    assert body["layers"] == {"0": ["source"], "1": ["enriched"], "2": ["total"]}
    assert body["stats"] == {"total_nodes": 3, "total_edges": 2, "max_layer": 2}
    assert "tree" not in body
    assert "nodes_by_layer" not in body


def test_the_layers_format_adds_nodes_by_layer(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/graph?format=layers").json()

    assert body["nodes_by_layer"] == [
        {"layer": 0, "nodes": ["source"]},
        {"layer": 1, "nodes": ["enriched"]},
        {"layer": 2, "nodes": ["total"]},
    ]


def test_the_tree_format_nests_dependants_under_roots(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/graph?format=tree").json()

    assert body["tree"] == [
        {
            "id": "source",
            "name": "source",
            "type": "sql",
            "children": [
                {
                    "id": "enriched",
                    "name": "enriched",
                    "type": "python",
                    "children": [
                        {"id": "total", "name": "total", "type": "sql", "children": []}
                    ],
                }
            ],
        }
    ]


def test_a_models_filter_keeps_those_nodes_and_their_edges(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/graph?models=total,source").json()

    assert [node["id"] for node in body["nodes"]] == ["source", "total"]
    assert body["edges"] == []
    assert body["layers"] == {"0": ["source"], "2": ["total"]}


def test_unknown_graph_models_are_listed_in_the_problem(ran: ServiceProcess) -> None:
    with ran.client() as client:
        response = client.get("/api/v1/graph?models=total,ghost")

    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "VALIDATION_ERROR"
    assert body["detail"] == "Unknown models: ['ghost']"
    assert body["invalid_models"] == ["ghost"]
    assert body["available_models"] == ["enriched", "source", "total"]


def test_graph_validation_warns_about_external_tables(ran: ServiceProcess) -> None:
    with ran.client() as client:
        body = client.get("/api/v1/graph/validate").json()

    assert body["valid"] is True
    assert body["issues"] == [
        {
            "type": "missing_dependency",
            "severity": "warning",
            "message": "Model 'enriched' depends on 'lookup_table', which is not a "
            "model; it must exist as a table in the warehouse when the model runs",
            "models": ["enriched", "lookup_table"],
        }
    ]


def test_metrics_expose_http_and_run_families(ran: ServiceProcess) -> None:
    requests = (
        'interlace_http_requests_total{route="/api/v1/models/{name}",'
        'method="GET",status="200"}'
    )
    durations = (
        'interlace_http_request_duration_seconds_bucket{route="/api/v1/models/{name}",'
        'method="GET",le="+Inf"}'
    )
    with ran.client() as client:
        before = client.get("/metrics").text
        client.get("/api/v1/models/enriched")
        response = client.get("/metrics")

    text = response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert "# TYPE interlace_runs_active gauge\ninterlace_runs_active 0\n" in text
    assert 'interlace_runs_total{status="completed",trigger_type="api"} 1' in text
    assert _sample(text, requests) == _sample(before, requests) + 1
    assert _sample(text, durations) == _sample(before, durations) + 1
    task_count = (
        'interlace_task_duration_seconds_count{model="total",status="completed"}'
    )
    assert _sample(text, task_count) == 1
    for family in (
        "interlace_stream_events_published_total",
        "interlace_stream_backlog_events",
        "interlace_sse_subscribers",
    ):
        assert f"# TYPE {family} " in text


def _sample(text: str, series: str) -> float:
    """The value of one series in Prometheus text (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_every_answer_carries_a_generated_request_id(ran: ServiceProcess) -> None:
    with ran.client() as client:
        ids = {
            client.get(path).headers["x-request-id"] for path in ("/health", "/nope")
        }

    assert len(ids) == 2
    assert all(len(value) == 16 and value.startswith("req_") for value in ids)
    assert all(int(value[4:], 16) >= 0 for value in ids)


def test_a_valid_client_request_id_is_echoed_and_an_invalid_one_replaced(
    ran: ServiceProcess,
) -> None:
    with ran.client() as client:
        echoed = client.get("/api/v1/models/foo", headers={"X-Request-ID": "trace-42"})
        replaced = client.get(
            "/health", headers={"X-Request-ID": "bad id\twith spaces"}
        )

    assert echoed.headers["x-request-id"] == "trace-42"
    assert echoed.json()["request_id"] == "trace-42"
    assert replaced.headers["x-request-id"].startswith("req_")


def test_an_unknown_api_route_is_resource_not_found(ran: ServiceProcess) -> None:
    with ran.client() as client:
        response = client.get("/api/v1/nothing/here")

    assert response.status_code == 404
    assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    assert response.json()["type"] == "urn:interlace:problem:resource-not-found"
    assert response.json()["instance"] == "/api/v1/nothing/here"


def test_a_wrong_method_is_an_invalid_request(ran: ServiceProcess) -> None:
    with ran.client() as client:
        response = client.delete("/api/v1/models")

    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "INVALID_REQUEST"
    assert (
        response.json()["detail"] == "Method DELETE is not allowed for '/api/v1/models'"
    )


def test_cors_preflight_is_answered_without_a_key(ran: ServiceProcess) -> None:
    with ran.client() as client:
        response = client.options(
            "/api/v1/models",
            headers={
                "Origin": "http://localhost:5173",
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "GET" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "authorization"
    assert response.headers["x-request-id"].startswith("req_")


def test_cors_headers_are_added_for_allowed_origins_only(ran: ServiceProcess) -> None:
    with ran.client() as client:
        dev = client.get("/api/v1/info", headers={"Origin": "http://localhost:5173"})
        same = client.get("/api/v1/info", headers={"Origin": ran.url})
        foreign = client.get("/api/v1/info", headers={"Origin": "https://evil.example"})

    assert dev.headers["access-control-allow-origin"] == "http://localhost:5173"
    exposed = dev.headers["access-control-expose-headers"]
    assert "X-Request-ID" in exposed
    assert "Retry-After" in exposed
    assert "RateLimit-Remaining" in exposed
    assert same.headers["access-control-allow-origin"] == ran.url
    assert "access-control-allow-origin" not in foreign.headers


def test_configured_cors_origins_are_allowed(ran: ServiceProcess) -> None:
    with ran.client() as client:
        response = client.get(
            "/api/v1/info", headers={"Origin": "https://dash.example.com"}
        )

    assert response.headers["access-control-allow-origin"] == "https://dash.example.com"


def test_openapi_documents_are_version_3_1_in_json_and_yaml(
    ran: ServiceProcess,
) -> None:
    import yaml

    with ran.client() as client:
        as_json = client.get("/api/openapi.json")
        as_yaml = client.get("/api/openapi.yaml")

    document = as_json.json()
    assert as_json.status_code == as_yaml.status_code == 200
    assert document["openapi"].startswith("3.1")
    assert yaml.safe_load(as_yaml.text) == document
    for path in (
        "/api/v1/health",
        "/api/v1/ready",
        "/api/v1/project",
        "/api/v1/info",
        "/api/v1/models",
        "/api/v1/models/{name}",
        "/api/v1/models/{name}/runs",
        "/api/v1/models/{name}/stats",
        "/api/v1/graph",
        "/api/v1/graph/validate",
    ):
        assert path in document["paths"], path
    assert "ModelDetail" in document["components"]["schemas"]
    assert document["info"]["title"] == "Interlace API"
    for reference in _references(document):
        assert _resolve(document, reference) is not None, reference
    for methods in document["paths"].values():
        for operation in methods.values():
            assert operation["responses"], operation


def _references(node: object) -> list[str]:
    """Every `$ref` in an OpenAPI document."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _references(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _references(value)]
    return []


def _resolve(document: dict[str, object], reference: str) -> object:
    assert reference.startswith("#/"), reference
    node: object = document
    for part in reference[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node


def test_swagger_ui_loads_the_yaml_document_from_local_assets(
    ran: ServiceProcess,
) -> None:
    with ran.client() as client:
        page = client.get("/api/docs")
        script = client.get("/api/docs/assets/swagger-ui-bundle.js")
        styles = client.get("/api/docs/assets/swagger-ui.css")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'url: "/api/openapi.yaml"' in page.text
    assert "/api/docs/assets/swagger-ui-bundle.js" in page.text
    assert "http://" not in page.text
    assert "https://" not in page.text
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.text
    assert styles.status_code == 200


def test_unknown_paths_outside_the_api_are_json_not_found(ran: ServiceProcess) -> None:
    with ran.client() as client:
        response = client.get("/some/page")

    assert response.status_code == 404
    assert response.json()["code"] == "RESOURCE_NOT_FOUND"
