"""Parsing SQL model files: header forms, conversions and errors."""

from __future__ import annotations

import logging
import re
import textwrap
from pathlib import Path

import pytest

from interlace.engine.sql_models import SqlModelSpec, parse_sql_file
from interlace.errors import DiscoveryError


def _parse(tmp_path: Path, text: str, name: str = "models.sql") -> list[SqlModelSpec]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip())
    return parse_sql_file(path)


def test_spec_example_yields_two_models_with_both_header_forms(
    tmp_path: Path,
) -> None:
    specs = _parse(
        tmp_path,
        """
        -- @model(name="daily_revenue", schema="analytics", materialize="table", dependencies=["orders"])
        SELECT day, SUM(amount) AS revenue FROM orders GROUP BY day;
        -- Revenue net of refunds (free comments are allowed)
        -- @name: net_revenue
        -- @strategy: merge_by_key
        -- @primary_key: day, region
        -- @schedule: {"cron": "0 2 * * *", "timezone": "UTC"}
        SELECT o.day, o.region, SUM(o.amount) - COALESCE(SUM(r.amount), 0) AS revenue
        FROM orders o LEFT JOIN refunds r USING (day, region) GROUP BY ALL
        """,
    )

    first, second = specs
    assert first.options == {
        "name": "daily_revenue",
        "schema": "analytics",
        "materialize": "table",
        "dependencies": ["orders"],
    }
    assert first.sql == "SELECT day, SUM(amount) AS revenue FROM orders GROUP BY day"
    assert (first.line, first.sql_line) == (1, 2)
    assert second.options == {
        "name": "net_revenue",
        "strategy": "merge_by_key",
        "primary_key": ["day", "region"],
        "schedule": {"cron": "0 2 * * *", "timezone": "UTC"},
    }
    assert second.sql.startswith("SELECT o.day, o.region")
    assert second.sql.endswith("GROUP BY ALL")
    assert (second.line, second.sql_line) == (4, 8)


def test_file_without_header_is_one_model_with_its_whole_query(
    tmp_path: Path,
) -> None:
    specs = _parse(
        tmp_path,
        """
        -- Just a note, no directives.
        SELECT *
        FROM orders;;
        """,
    )

    assert specs == [
        SqlModelSpec(
            options={},
            sql="-- Just a note, no directives.\nSELECT *\nFROM orders",
            line=1,
            sql_line=1,
        )
    ]


def test_model_call_accepts_literals_of_python_and_json_spelling(
    tmp_path: Path,
) -> None:
    specs = _parse(
        tmp_path,
        """
        -- @model(name="m", strict=true, tags=("a", "b"), owner=null,
        --        fields={"id": "int64", "n": -1}, checks=None,
        --        incremental=False, column_mapping={"a": "b"})
        SELECT 1
        """,
    )

    assert specs[0].options == {
        "name": "m",
        "strict": True,
        "tags": ["a", "b"],
        "owner": None,
        "fields": {"id": "int64", "n": -1},
        "checks": None,
        "incremental": False,
        "column_mapping": {"a": "b"},
    }
    assert specs[0].sql_line == 4


def test_key_value_lines_convert_by_key(tmp_path: Path) -> None:
    specs = _parse(
        tmp_path,
        """
        -- @name: m
        -- @tags: a, b ,, c
        -- @dependencies: orders
        -- @strict: True
        -- @owner: data-team
        -- @retry: {"max_attempts": 2}
        -- @fields: id: int64, amount: decimal(10,2), info: struct<a: int, b: text>
        -- @scd2_config: {"delete_mode": "soft"}
        SELECT 1
        """,
    )

    assert specs[0].options == {
        "name": "m",
        "tags": ["a", "b", "c"],
        "dependencies": ["orders"],
        "strict": True,
        "owner": "data-team",
        "retry": {"max_attempts": 2},
        "fields": {
            "id": "int64",
            "amount": "decimal(10,2)",
            "info": "struct<a: int, b: text>",
        },
        "scd2_config": {"delete_mode": "soft"},
    }


def test_fields_accept_json_too(tmp_path: Path) -> None:
    specs = _parse(tmp_path, '-- @name: m\n-- @fields: {"id": "int64"}\nSELECT 1\n')

    assert specs[0].options["fields"] == {"id": "int64"}


def test_free_comments_around_directives_stay_out_of_the_query(
    tmp_path: Path,
) -> None:
    specs = _parse(
        tmp_path,
        """
        -- Orders, cleaned.
        -- @name: a
        -- (reviewed by finance)
        SELECT 1 -- trailing note
        /* block comment */

        -- notes about the next model

        -- @name: b
        SELECT 2
        """,
    )

    assert [spec.options["name"] for spec in specs] == ["a", "b"]
    assert specs[0].sql == "SELECT 1 -- trailing note\n/* block comment */"
    assert specs[1].sql == "SELECT 2"


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("-- @name: a\n\n-- @name: b\nSELECT 1\n", 1, "empty query"),
        ("-- @name: a\n-- only a comment\n", 1, "empty query"),
        (
            "-- @name: a\n-- @materialisation: view\nSELECT 1\n",
            2,
            "unknown SQL header key",
        ),
        (
            "-- @model(name='a', flavour=1)\nSELECT 1\n",
            1,
            "unknown SQL header key `flavour`",
        ),
        (
            "-- @name: a\n-- @schedule: {cron: x}\nSELECT 1\n",
            2,
            "`schedule`: expected JSON",
        ),
        ("-- @name: a\n-- @fields: id int64\nSELECT 1\n", 2, "expected `column: type`"),
        (
            "-- @model(name=__import__('os').getcwd())\nSELECT 1\n",
            1,
            "expected a literal",
        ),
        ("-- @model('a')\nSELECT 1\n", 1, "keyword arguments only"),
        ("-- @model(**opts)\nSELECT 1\n", 1, "`**` is not allowed"),
        ("-- @model(name='a'\nSELECT 1\n", 1, "invalid `@model(...)` header"),
        ("-- @model(name='a')\n-- @name: b\nSELECT 1\n", 2, "`name` is given twice"),
        ("SELECT 0;\n-- @name: a\nSELECT 1\n", 1, "SQL before the first model header"),
    ],
)
def test_header_problems_are_errors_at_their_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = tmp_path / "bad.sql"
    path.write_text(text)

    with pytest.raises(DiscoveryError, match=re.escape(message)) as caught:
        parse_sql_file(path)

    assert (caught.value.path, caught.value.line) == (path, line)


def test_model_call_is_never_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    path = tmp_path / "evil.sql"
    path.write_text(f"-- @model(name=open({str(marker)!r}, 'w'))\nSELECT 1\n")

    with pytest.raises(DiscoveryError):
        parse_sql_file(path)

    assert not marker.exists()


def test_directive_outside_a_header_is_ignored_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="interlace.engine.sql_models"):
        specs = _parse(tmp_path, "-- @strategy: append\nSELECT 1\n", name="events.sql")

    assert specs[0].options == {}
    assert "events.sql:1: `@strategy` is outside a model header" in caplog.text
