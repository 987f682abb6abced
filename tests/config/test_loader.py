"""Loading, merging and validating `config.yaml`."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from interlace.config import load_config
from interlace.errors import ConfigError
from interlace.retry import RetryPolicy
from tests.config.conftest import WriteConfig


def test_missing_config_file_is_an_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)

    assert str(caught.value) == (
        f"Configuration file not found: {tmp_path / 'config.yaml'}"
    )


def test_empty_config_gets_every_default(write_config: WriteConfig) -> None:
    project = write_config("")

    config = load_config(project, environ={})

    assert config.project_dir == project.resolve()
    assert config.env == "dev"
    assert config.raw == {}
    assert config.name == project.name
    assert config.models_dir == project.resolve() / "models"
    assert config.state_backend == "sqlite"
    assert config.state_path == project.resolve() / ".interlace" / "state.db"
    assert (config.default_schema, config.default_materialise) == ("public", "table")
    assert config.retry == RetryPolicy.NONE
    assert (config.scheduler_enabled, config.scheduler_timezone) == (True, "UTC")
    assert config.executor.max_workers == min(32, 2 * (os.cpu_count() or 1) + 4)
    assert config.executor.max_concurrent_runs == 4
    assert config.executor.task_timeout_s is None


def test_project_without_connections_gets_an_implicit_duckdb_default(
    write_config: WriteConfig,
) -> None:
    project = write_config("name: shop\n")

    config = load_config(project, environ={})

    assert config.default_connection == "default"
    connection = config.connections["default"]
    assert connection.type == "duckdb"
    assert connection.path == str(project.resolve() / ".interlace/warehouse.duckdb")
    assert not (project / ".interlace").exists()


def test_overlay_merges_mappings_and_replaces_lists(write_config: WriteConfig) -> None:
    project = write_config(
        """
        executor: {max_workers: 2, max_concurrent_runs: 3}
        service: {cors_origins: [a, b], port: 8080}
        """,
        overlays={"prod": "executor: {max_workers: 8}\nservice: {cors_origins: [c]}\n"},
    )

    config = load_config(project, "prod", environ={})

    assert config.executor.max_workers == 8
    assert config.executor.max_concurrent_runs == 3
    assert config["service"] == {"cors_origins": ["c"], "port": 8080}
    assert [path.name for path in config.files] == ["config.yaml", "config.prod.yaml"]


def test_environment_comes_from_argument_then_interlace_env_then_dev(
    write_config: WriteConfig,
) -> None:
    project = write_config("name: x\n")

    from_argument = load_config(project, "prod", environ={"INTERLACE_ENV": "ci"})
    from_variable = load_config(project, environ={"INTERLACE_ENV": "ci"})
    fallback = load_config(project, environ={})

    assert (from_argument.env, from_variable.env, fallback.env) == ("prod", "ci", "dev")


def test_overlay_of_another_environment_is_ignored(write_config: WriteConfig) -> None:
    project = write_config("name: base\n", overlays={"prod": "name: production\n"})

    config = load_config(project, "dev", environ={})

    assert config.name == "base"


def test_interpolation_runs_after_the_overlay_is_merged(
    write_config: WriteConfig,
) -> None:
    project = write_config(
        """
        connections:
          default: {type: duckdb, path: "data/{env}/wh.duckdb"}
        """,
        overlays={"prod": "connections: {default: {path: '${WH:-x}/{env}.db'}}\n"},
    )

    config = load_config(project, "prod", environ={"WH": "/srv"})

    assert config.connections["default"].path == "/srv/prod.db"


def test_yaml_syntax_error_reports_file_line_and_column(
    write_config: WriteConfig,
) -> None:
    project = write_config("name: x\nexecutor:\n  max_workers: [1\n  other: 2\n")

    with pytest.raises(ConfigError) as caught:
        load_config(project, environ={})

    error = caught.value
    assert error.path == project / "config.yaml"
    assert (error.line, error.column) == (4, 8)
    assert "invalid YAML" in str(error)


def test_invalid_value_names_key_path_and_the_overlay_line(
    write_config: WriteConfig,
) -> None:
    project = write_config(
        "connections:\n  ops: {type: duckdb}\n",
        overlays={"prod": "connections:\n  ops:\n    type: mysql\n"},
    )

    with pytest.raises(ConfigError) as caught:
        load_config(project, "prod", environ={})

    error = caught.value
    assert error.path == project / "config.prod.yaml"
    assert (error.line, error.column) == (3, 5)
    assert error.message.endswith(
        "connections.ops.type: expected 'duckdb' or 'postgres', got 'mysql'"
    )


def test_top_level_must_be_a_mapping(write_config: WriteConfig) -> None:
    project = write_config("- a\n- b\n")

    with pytest.raises(ConfigError, match="expected a mapping at the top level"):
        load_config(project, environ={})


def test_connections_must_be_a_mapping(write_config: WriteConfig) -> None:
    project = write_config("connections: [a, b]\n")

    with pytest.raises(ConfigError, match="connections: expected a mapping") as caught:
        load_config(project, environ={})

    assert caught.value.line == 1


def test_unknown_top_level_key_is_a_warning_not_an_error(
    write_config: WriteConfig, caplog: pytest.LogCaptureFixture
) -> None:
    project = write_config("name: x\nmodles_dir: src\n")

    with caplog.at_level(logging.WARNING, logger="interlace.config"):
        config = load_config(project, environ={})

    assert config.raw["modles_dir"] == "src"
    assert "unknown top-level key `modles_dir`" in caplog.text


@pytest.mark.parametrize(
    ("connections", "executor", "expected"),
    [
        ("{a: {type: duckdb}, default: {type: duckdb}}", "{}", "default"),
        ("{b: {type: duckdb}, a: {type: duckdb}}", "{}", "b"),
        ("{a: {type: duckdb}, b: {type: duckdb}}", "{default_connection: b}", "b"),
    ],
)
def test_default_connection_is_configured_then_default_then_first(
    write_config: WriteConfig, connections: str, executor: str, expected: str
) -> None:
    project = write_config(f"connections: {connections}\nexecutor: {executor}\n")

    config = load_config(project, environ={})

    assert config.default_connection == expected


def test_default_connection_must_be_declared(write_config: WriteConfig) -> None:
    project = write_config(
        "connections: {a: {type: duckdb}}\nexecutor: {default_connection: b}\n"
    )

    with pytest.raises(ConfigError, match="unknown connection `b`; declared: `a`"):
        load_config(project, environ={})


def test_duckdb_paths_resolve_against_the_project_without_creating_dirs(
    write_config: WriteConfig,
) -> None:
    project = write_config(
        """
        connections:
          file: {type: duckdb, path: data/wh.duckdb}
          memory: {type: duckdb}
          reader: {type: duckdb, path: /abs/x.duckdb, access: read}
        """
    )

    config = load_config(project, environ={})

    assert config.connections["file"].path == str(project.resolve() / "data/wh.duckdb")
    assert config.connections["memory"].path == ":memory:"
    assert config.connections["reader"].read_only
    assert not (project / "data").exists()


def test_postgres_connection_gets_port_and_pool_defaults(
    write_config: WriteConfig,
) -> None:
    project = write_config(
        "connections:\n  pg: {type: postgres, config: {host: h, database: d}}\n"
    )

    connection = load_config(project, environ={}).connections["pg"]

    assert connection.config == {"host": "h", "database": "d", "port": 5432}
    assert connection.pool == {"max_size": 20, "timeout": 10}


def test_valid_attachments_are_parsed_and_their_paths_resolved(
    write_config: WriteConfig,
) -> None:
    project = write_config(
        """
        connections:
          default:
            type: duckdb
            attach:
              - {name: pg, type: postgres, read_only: true,
                 config: {host: h, database: d}}
              - {name: lite, type: sqlite, path: other.db}
              - {name: lake, type: ducklake, catalog: meta.ducklake, data_path: d/}
        """
    )

    attach = load_config(project, environ={}).connections["default"].attach

    assert [(item.name, item.type) for item in attach] == [
        ("pg", "postgres"),
        ("lite", "sqlite"),
        ("lake", "ducklake"),
    ]
    assert attach[0].read_only and attach[0].config["host"] == "h"
    assert attach[1].path == str(project.resolve() / "other.db")
    assert (attach[2].catalog, attach[2].data_path) == ("meta.ducklake", "d/")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{name: 'my-db', type: sqlite, path: x}", "attach[0].name: expected letters"),
        (
            "{name: pg, type: postgres, config: {database: d}}",
            "config.host: is required",
        ),
        ("{name: my, type: mysql, config: {host: h}}", "config.database: is required"),
        ("{name: lite, type: sqlite}", "attach[0].path: is required for `sqlite`"),
        ("{name: lake, type: ducklake}", "catalog: is required for `ducklake`"),
        ("{name: x, type: oracle}", "attach[0].type: expected one of 'postgres', "),
    ],
)
def test_invalid_attachment_is_rejected_with_its_key_path(
    write_config: WriteConfig, entry: str, message: str
) -> None:
    project = write_config(
        f"connections:\n  default:\n    type: duckdb\n    attach:\n      - {entry}\n"
    )

    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_config(project, environ={})

    assert caught.value.line == 5


def test_access_must_be_read_or_readwrite(write_config: WriteConfig) -> None:
    project = write_config("connections:\n  a: {type: duckdb, access: write}\n")

    with pytest.raises(ConfigError, match="expected 'readwrite' or 'read'"):
        load_config(project, environ={})


def test_executor_settings_are_read_and_validated(write_config: WriteConfig) -> None:
    project = write_config(
        "executor: {max_workers: 3, task_timeout_s: 1.5, task_log_max_lines: 7}\n"
    )

    executor = load_config(project, environ={}).executor

    assert (executor.max_workers, executor.task_timeout_s) == (3, 1.5)
    assert executor.task_log_max_lines == 7


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "executor: {max_workers: 0}",
            "executor.max_workers: expected an integer >= 1",
        ),
        ("executor: {max_workers: many}", "executor.max_workers: expected an integer"),
        (
            "executor: {task_timeout_s: -1}",
            "executor.task_timeout_s: expected a number > 0",
        ),
        ("scheduler: {timezone: Mars/Base}", "scheduler.timezone: unknown time zone"),
        ("scheduler: {enabled: maybe}", "scheduler.enabled: expected true or false"),
        ("models: {default_materialise: cube}", "models.default_materialise: expected"),
        ("state: {backend: postgres}", "state.backend: expected 'sqlite'"),
        ("retry: {max_attempts: -1}", "retry.max_attempts: expected an integer >= 0"),
        ("retry: {tries: 2}", "retry.tries: unknown retry option"),
        ("retry: {initial_delay: 5, max_delay: 1}", "retry: invalid retry policy"),
    ],
)
def test_invalid_settings_name_their_key(
    write_config: WriteConfig, body: str, message: str
) -> None:
    project = write_config(body + "\n")

    with pytest.raises(ConfigError, match=message):
        load_config(project, environ={})


def test_project_retry_policy_comes_from_config(write_config: WriteConfig) -> None:
    project = write_config("retry: {max_attempts: 2, initial_delay: 0.5}\n")

    retry = load_config(project, environ={}).retry

    assert (retry.max_attempts, retry.initial_delay, retry.max_delay) == (2, 0.5, 30.0)


def test_get_reads_dotted_paths_and_getitem_reads_raw_mapping(
    write_config: WriteConfig,
) -> None:
    project = write_config(
        "service:\n  auth: {enabled: true, api_keys: [{name: a}]}\ncustom: {x: 1}\n"
    )

    config = load_config(project, environ={})

    assert config.get("service.auth.enabled") is True
    assert config.get("service.auth.api_keys.0.name") == "a"
    assert config.get("service.missing.key", "fallback") == "fallback"
    assert config["custom"]["x"] == 1
    with pytest.raises(KeyError):
        config["absent"]
