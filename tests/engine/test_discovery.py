"""Discovery of Python and SQL models from a project's models directory."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from interlace.config import load_config
from interlace.engine.definition import Materialise, ModelDefinition, ModelType
from interlace.engine.discovery import discover
from interlace.errors import ConfigError, DiscoveryError
from tests.conftest import ProjectFactory

_TWO_CONNECTIONS = """
    connections:
      default: {type: duckdb, path: warehouse.duckdb}
      lake: {type: duckdb, path: lake.duckdb, access: read}
"""


def _discover(root: Path) -> dict[str, ModelDefinition]:
    return discover(load_config(root, environ={}))


def _rewrite(path: Path, source: str) -> None:
    path.write_text(textwrap.dedent(source).lstrip())


def test_python_and_sql_models_are_discovered_sorted_by_name(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "orders.py": '''
                from interlace import model

                @model(tags=["raw"])
                def raw_orders():
                    """Orders as delivered."""
                    return [{"id": 1}]

                @model(schema="staging")
                def orders(raw_orders, context, customers=None):
                    return raw_orders
            ''',
            "reports/daily.sql": "SELECT * FROM orders JOIN staging.refunds USING (id)",
        }
    )

    models = _discover(root)

    assert list(models) == ["daily", "orders", "raw_orders"]
    daily, orders, raw = models["daily"], models["orders"], models["raw_orders"]
    assert daily.type is ModelType.SQL
    assert daily.dependencies == ("orders", "refunds")
    assert daily.path == root.resolve() / "models/reports/daily.sql"
    assert orders.type is ModelType.PYTHON
    assert (orders.schema, orders.dependencies) == (
        "staging",
        ("raw_orders", "customers"),
    )
    assert orders.optional_parameters == frozenset({"customers"})
    assert orders.injects_context and not orders.injects_connection
    assert (orders.path.name, orders.line) == ("orders.py", 8)
    assert raw.description == "Orders as delivered."
    assert raw.function is not None and raw.function() == [{"id": 1}]


def test_test_files_are_not_imported(make_project: ProjectFactory) -> None:
    root = make_project(
        {
            "test_orders.py": "raise RuntimeError('test files must not be imported')\n",
            "a.sql": "SELECT 1",
        }
    )

    assert list(_discover(root)) == ["a"]


def test_discovery_never_runs_model_bodies(make_project: ProjectFactory) -> None:
    root = make_project(
        {
            "side_effects.py": """
                from pathlib import Path
                from interlace import model, stream

                @model
                def touches():
                    Path(__file__).with_name("ran").write_text("yes")

                @stream
                def events():
                    Path(__file__).with_name("ran").write_text("yes")
            """
        }
    )

    models = _discover(root)

    assert set(models) == {"events", "touches"}
    assert not (root / "models" / "ran").exists()


def test_model_files_can_import_their_siblings(make_project: ProjectFactory) -> None:
    root = make_project(
        {
            "helpers.py": "FACTOR = 3\n",
            "pkg/__init__.py": "",
            "pkg/tools.py": "SUFFIX = '!'\n",
            "pkg/models.py": """
                import helpers
                from . import tools
                from interlace import model

                @model
                def shout():
                    return helpers.FACTOR, tools.SUFFIX
            """,
        }
    )

    models = _discover(root)

    assert list(models) == ["shout"]
    assert models["shout"].function() == (3, "!")  # type: ignore[misc]


def test_rediscovery_sees_an_edit_even_of_the_same_size(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "helpers.py": "VALUE = 1\n",
            "m.py": """
                import helpers
                from interlace import model

                @model
                def m():
                    return helpers.VALUE, 1
            """,
        }
    )
    first = _discover(root)["m"].function

    (root / "models/helpers.py").write_text("VALUE = 2\n")
    model_file = root / "models/m.py"
    model_file.write_text(model_file.read_text().replace("VALUE, 1", "VALUE, 3"))
    second = _discover(root)["m"].function

    assert first is not None and first() == (1, 1)
    assert second is not None and second() == (2, 3)


def test_model_files_may_read_the_configuration_at_import(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "m.py": """
                import interlace
                from interlace import model

                SCHEMA = interlace.config.get("custom.schema")

                @model(schema=SCHEMA)
                def m():
                    pass
            """
        },
        config="custom: {schema: from_config}\n",
    )

    assert _discover(root)["m"].schema == "from_config"


def test_config_defaults_apply_to_every_model(make_project: ProjectFactory) -> None:
    root = make_project(
        {
            "a.sql": "SELECT 1",
            "events.py": """
                from interlace import stream

                @stream
                def clicks():
                    pass
            """,
        },
        config="""
            models: {default_schema: analytics, default_materialise: view}
            streams: {default_schema: inbox}
        """,
    )

    models = _discover(root)

    assert (models["a"].schema, models["a"].materialise) == ("analytics", "view")
    assert (models["clicks"].schema, models["clicks"].materialise) == (
        "inbox",
        Materialise.TABLE,
    )


def test_sql_model_may_read_its_own_table_without_a_cycle(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {"events.sql": "SELECT * FROM raw WHERE id > (SELECT max(id) FROM events)"}
    )

    assert _discover(root)["events"].dependencies == ("raw",)


def test_name_matching_no_model_is_an_external_table_not_an_error(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"a.sql": "-- @name: a\n-- @dependencies: nowhere\nSELECT 1"})

    assert _discover(root)["a"].dependencies == ("nowhere",)


def test_duplicate_names_name_both_files_and_lines(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "a.py": """
                from interlace import model

                @model
                def orders():
                    pass
            """,
            "b.sql": "-- a comment\n-- @name: orders\nSELECT 1",
        }
    )
    models_dir = root.resolve() / "models"

    with pytest.raises(DiscoveryError) as caught:
        _discover(root)

    assert caught.value.reason == (
        f"model `orders` is defined twice: at {models_dir / 'a.py'}:3 "
        f"and at {models_dir / 'b.sql'}:2"
    )
    assert caught.value.path == models_dir / "b.sql"


def test_import_error_points_at_the_failing_line(make_project: ProjectFactory) -> None:
    root = make_project(
        {
            "helpers.py": "def load():\n    return {}['missing']\n",
            "m.py": "import helpers\n\nVALUE = helpers.load()\n",
        }
    )

    with pytest.raises(DiscoveryError) as caught:
        _discover(root)

    error = caught.value
    assert error.path == root.resolve() / "models/helpers.py"
    assert error.line == 2
    assert "cannot import `m.py`: KeyError: 'missing'" in error.reason


def test_syntax_error_points_at_its_line(make_project: ProjectFactory) -> None:
    root = make_project({"m.py": "x = 1\ndef broken(:\n    pass\n"})

    with pytest.raises(DiscoveryError) as caught:
        _discover(root)

    assert (caught.value.path, caught.value.line) == (
        root.resolve() / "models/m.py",
        2,
    )
    assert "SyntaxError" in caught.value.reason


def test_invalid_decorator_option_points_at_the_model_file(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "m.py": """
                from interlace import model

                @model(strategy="merge_by_key")
                def m():
                    pass
            """
        }
    )

    with pytest.raises(DiscoveryError) as caught:
        _discover(root)

    assert (caught.value.path, caught.value.line) == (
        root.resolve() / "models/m.py",
        3,
    )
    assert caught.value.reason == "strategy `merge_by_key` requires `primary_key`"


def test_sql_parse_error_points_at_the_query_line(make_project: ProjectFactory) -> None:
    root = make_project({"m.sql": "-- @name: m\n\nSELECT *\nFROM WHERE x\n"})

    with pytest.raises(DiscoveryError) as caught:
        _discover(root)

    assert (caught.value.path.name, caught.value.line) == ("m.sql", 3)
    assert caught.value.reason.startswith("cannot parse the query: ")


def test_unknown_connection_is_a_discovery_error(make_project: ProjectFactory) -> None:
    root = make_project({"m.sql": "-- @name: m\n-- @connection: nope\nSELECT 1"})

    with pytest.raises(DiscoveryError, match="unknown connection `nope`; declared"):
        _discover(root)


def test_materialising_into_a_read_only_connection_is_an_error(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {"m.sql": "-- @name: m\n-- @connection: lake\nSELECT 1"},
        config=_TWO_CONNECTIONS,
    )

    with pytest.raises(DiscoveryError, match="connection `lake` has `access: read`"):
        _discover(root)


def test_ephemeral_models_may_use_a_read_only_connection(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "m.sql": "-- @name: m\n-- @connection: lake\n-- @materialise: ephemeral\nSELECT 1"
        },
        config=_TWO_CONNECTIONS,
    )

    assert _discover(root)["m"].connection == "lake"


def test_missing_models_directory_is_a_configuration_error(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("name: empty\n")

    with pytest.raises(ConfigError, match="models directory not found"):
        _discover(tmp_path)


def test_stream_auth_secrets_are_interpolated_from_the_environment(
    make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PV_TOKEN", "s3cret")
    root = make_project(
        {
            "streams.py": """
                from interlace import stream

                @stream(auth={"type": "bearer", "token": "${PV_TOKEN}"})
                def page_views():
                    pass

                @stream(auth={"type": "api_key", "key": "${UNSET_PV_KEY}"})
                def clicks():
                    pass
            """
        }
    )

    models = _discover(root)

    assert models["page_views"].stream_options["auth"]["token"] == "s3cret"  # type: ignore[index]
    assert models["clicks"].stream_options["auth"]["key"] == "${UNSET_PV_KEY}"  # type: ignore[index]


def test_model_file_calling_exit_is_a_discovery_error(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"m.py": "import sys\n\nsys.exit(3)\n"})

    with pytest.raises(DiscoveryError) as caught:
        _discover(root)

    assert caught.value.line == 3
    assert "SystemExit: 3" in caught.value.reason
