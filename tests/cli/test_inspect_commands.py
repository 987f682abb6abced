from __future__ import annotations

import json
import tomllib
from pathlib import Path

import yaml

from tests.cli.conftest import Invoke
from tests.conftest import ProjectFactory

MODELS = {
    "raw.sql": "SELECT range AS id FROM range(3)",
    "scored.py": """
        from interlace import model

        @model(schedule={"every_s": 300}, tags=["core"])
        def scored(raw):
            return [{"id": row["id"]} for row in raw.arrow().to_pylist()]
        """,
    "report.sql": (
        '-- @name: report\n-- @schedule: {"cron": "15 * * * *"}\n'
        "SELECT count(*) AS n FROM scored JOIN raw USING (id)"
    ),
}
SECRET_CONFIG = """
    name: shop
    connections:
      default: {type: duckdb, path: warehouse.duckdb}
    service:
      auth:
        api_keys:
          - {name: ops, key: s3cr3t-key, permissions: [read]}
    reporting:
      password: hunter2
      token: null
"""


def test_info_lists_project_connections_and_models_with_schedules(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(MODELS)

    result = cli("info", "-d", root)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Environment  dev" in out
    assert str(root / "warehouse.duckdb") in out
    rows = {line.split()[0]: line for line in out.splitlines() if "│" in line}
    assert rows["scored"].split("│")[1].strip() == "python"
    assert "raw" in rows["scored"].split("│")[4]
    assert "every 300s" in rows["scored"]
    assert "15 * * * * (UTC)" in rows["report"]
    assert "scored, raw" in rows["report"]


def test_graph_text_groups_models_by_layer_with_their_upstream(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(MODELS)

    result = cli("graph", "-d", root)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Layer 0",
        "  raw (sql, table)",
        "Layer 1",
        "  scored (python, table)  <- raw",
        "Layer 2",
        "  report (sql, table)  <- raw, scored",
    ]


def test_graph_json_has_nodes_edges_layers_and_stats(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(MODELS)

    body = json.loads(cli("graph", "--format", "json", "-d", root).stdout)

    assert [node["id"] for node in body["nodes"]] == ["raw", "scored", "report"]
    assert body["nodes"][1]["tags"] == ["core"]
    assert body["nodes"][1]["layer"] == 1
    assert {edge["id"] for edge in body["edges"]} == {
        "raw->scored",
        "raw->report",
        "scored->report",
    }
    assert body["layers"] == {"0": ["raw"], "1": ["scored"], "2": ["report"]}
    assert body["stats"] == {"total_nodes": 3, "total_edges": 3, "max_layer": 2}


def test_graph_dot_and_mermaid_declare_every_node_and_edge(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(MODELS)

    dot = cli("graph", "--format", "dot", "-d", root).stdout
    mermaid = cli("graph", "--format", "mermaid", "-d", root).stdout

    assert dot.startswith("digraph interlace {")
    assert '"scored" [label="scored\\npython", shape=ellipse];' in dot
    assert '"scored" -> "report";' in dot
    assert dot.rstrip().endswith("}")
    assert mermaid.splitlines()[0] == "graph LR"
    assert '  report["report (sql)"]' in mermaid
    assert "  raw --> scored" in mermaid


def test_config_show_masks_secrets_in_yaml_json_and_toml(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(MODELS, config=SECRET_CONFIG)

    as_yaml = yaml.safe_load(cli("config", "show", "-d", root).stdout)
    as_json = json.loads(cli("config", "show", "--format", "json", "-d", root).stdout)
    toml_out = cli("config", "show", "--format", "toml", "-d", root).stdout
    as_toml = tomllib.loads(toml_out)

    for body in (as_yaml, as_json, as_toml):
        assert body["reporting"]["password"] == "***"
        assert body["service"]["auth"]["api_keys"][0]["key"] == "***"
        assert body["service"]["auth"]["api_keys"][0]["name"] == "ops"
        assert body["name"] == "shop"
    assert "hunter2" not in toml_out
    assert as_json["reporting"]["token"] is None
    assert "token" not in as_toml["reporting"]


def test_config_show_reports_a_missing_config_as_one_error_line(
    tmp_path: Path, cli: Invoke
) -> None:
    result = cli("config", "show", "-d", tmp_path)

    assert result.exit_code == 1
    assert "Configuration file not found" in result.stderr


def test_env_selects_the_overlay_and_verbose_logs_debug_records_to_stderr(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(MODELS, config="name: shop\nmodels_dir: models\n")
    (root / "config.prod.yaml").write_text("description: production {env}\n")

    quiet = cli("config", "show", "--format", "json", "--env", "prod", "-d", root)
    verbose = cli("config", "show", "--env", "prod", "-v", "-d", root)
    default_env = cli("config", "show", "--format", "json", "-d", root)

    assert json.loads(quiet.stdout)["description"] == "production prod"
    assert "merged configuration overlay" not in quiet.stderr
    assert "merged configuration overlay" in verbose.stderr
    assert "description" not in json.loads(default_env.stdout)
