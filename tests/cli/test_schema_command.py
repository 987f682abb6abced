from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.cli.conftest import Invoke
from tests.conftest import ProjectFactory

V1 = "-- @name: orders\n-- @strategy: append\nSELECT 1 AS id, 1.5::DOUBLE AS amount"
V2 = (
    "-- @name: orders\n-- @strategy: append\n"
    "SELECT 2 AS id, 2.5::DOUBLE AS amount, 'X' AS coupon"
)
DECLARED = """
    from interlace import model

    @model(fields={"sku": "string", "qty": "int32"}, primary_key="sku")
    def stock():
        return [{"sku": "a", "qty": 1}]
    """


def json_of(cli: Invoke, *args: Any) -> dict[str, Any]:
    result = cli(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


@pytest.fixture
def evolved(make_project: ProjectFactory, cli: Invoke) -> Path:
    """`orders` run twice: version 1, then version 2 with `coupon` added."""
    root = make_project({"orders.sql": V1, "stock.py": DECLARED})
    assert cli("run", "-d", root, "orders").exit_code == 0
    (root / "models" / "orders.sql").write_text(V2)
    assert cli("run", "-d", root, "orders").exit_code == 0
    return root


def test_history_json_lists_versions_newest_first_with_columns(
    evolved: Path, cli: Invoke
) -> None:
    body = json_of(cli, "schema", "history", "orders", "-d", evolved)

    assert body["model"] == "orders"
    assert body["total"] == 2
    assert [v["version"] for v in body["versions"]] == [2, 1]
    assert body["versions"][0]["columns"][2] == {
        "name": "coupon",
        "type": "string",
        "nullable": True,
        "is_primary_key": False,
    }
    assert body["versions"][1]["detected_at"].endswith("Z")


def test_history_table_shows_each_version_and_its_columns(
    evolved: Path, cli: Invoke
) -> None:
    result = cli("schema", "history", "orders", "-d", evolved)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.index("Version 2: detected") < out.index("Version 1: detected")
    assert "coupon" in out
    assert "float64" in out


def test_diff_defaults_to_the_previous_version_against_the_current_one(
    evolved: Path, cli: Invoke
) -> None:
    body = json_of(cli, "schema", "diff", "orders", "-d", evolved)

    assert (body["from_version"], body["to_version"]) == (1, 2)
    assert body["added"] == [{"name": "coupon", "type": "string"}]
    assert body["removed"] == []
    assert body["modified"] == []
    assert [(c["name"], c["change"]) for c in body["diff"]] == [
        ("id", "unchanged"),
        ("amount", "unchanged"),
        ("coupon", "added"),
    ]


def test_diff_between_explicit_versions_reports_removals(
    evolved: Path, cli: Invoke
) -> None:
    body = json_of(
        cli, "schema", "diff", "orders", "--from", "2", "--to", "1", "-d", evolved
    )

    assert body["removed"] == [{"name": "coupon", "type": "string"}]
    assert body["diff"][-1] == {
        "name": "coupon",
        "change": "removed",
        "old_type": "string",
        "new_type": None,
    }


def test_diff_table_marks_each_column_change(evolved: Path, cli: Invoke) -> None:
    result = cli("schema", "diff", "orders", "--from", "1", "-d", evolved)

    assert result.exit_code == 0, result.output
    assert "orders: version 1 -> 2" in result.stdout
    assert "added" in result.stdout


def test_diff_of_an_unknown_version_fails_with_a_clear_message(
    evolved: Path, cli: Invoke
) -> None:
    result = cli("schema", "diff", "orders", "--from", "7", "-d", evolved)

    assert result.exit_code == 1
    assert "Model 'orders' has no schema version 7" in result.stderr


def test_a_never_materialised_model_has_a_version_from_its_fields(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project({"stock.py": DECLARED})

    body = json_of(cli, "schema", "history", "stock", "-d", root)

    assert body["versions"] == [
        {
            "version": 1,
            "detected_at": None,
            "columns": [
                {
                    "name": "sku",
                    "type": "string",
                    "nullable": True,
                    "is_primary_key": True,
                },
                {
                    "name": "qty",
                    "type": "int32",
                    "nullable": True,
                    "is_primary_key": False,
                },
            ],
        }
    ]
    assert not (root / ".interlace" / "state.db").exists()


def test_history_of_an_unknown_model_fails(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project({"orders.sql": V1})

    result = cli("schema", "history", "nope", "-d", root)

    assert result.exit_code == 1
    assert "nope" in result.stderr


def test_plan_reports_schema_changes_against_the_latest_recorded_version(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project({"stock.py": DECLARED})
    assert cli("run", "-d", root).exit_code == 0
    # The live table now agrees with the new declaration; history does not.
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("ALTER TABLE public.stock ALTER COLUMN qty TYPE BIGINT")
    source = textwrap.dedent(DECLARED).replace('"qty": "int32"', '"qty": "int64"')
    (root / "models" / "stock.py").write_text(source)

    body = json_of(cli, "plan", "-d", root)

    (entry,) = body["models_to_run"]
    assert entry["schema_changes"] == [
        {
            "column_name": "qty",
            "change_type": "type_changed",
            "old_type": "int32",
            "new_type": "int64",
        }
    ]
