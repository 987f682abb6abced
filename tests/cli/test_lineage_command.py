from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from interlace.state import open_state_store
from tests.cli.conftest import Invoke
from tests.conftest import ProjectFactory

PIPELINE = {
    "orders.sql": (
        "SELECT range AS id, range * 10 AS amount, 'new' AS status FROM range(4)"
    ),
    "revenue.sql": (
        "SELECT o.id, SUM(o.amount) AS revenue, CAST(o.status AS VARCHAR) AS state "
        "FROM orders AS o GROUP BY ALL"
    ),
    "report.sql": "SELECT id, revenue * 2 AS doubled FROM revenue",
}


@pytest.fixture
def root(make_project: ProjectFactory) -> Path:
    return make_project(PIPELINE)


@pytest.fixture
def ran(root: Path, cli: Invoke) -> Path:
    assert cli("run", "-d", root).exit_code == 0
    return root


def json_of(cli: Invoke, *args: Any) -> dict[str, Any]:
    result = cli("lineage", "show", *args, "--format", "json")
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_show_json_has_model_lineage_and_columns_with_sources(
    root: Path, cli: Invoke
) -> None:
    body = json_of(cli, "revenue", "-d", root)

    assert (body["model"], body["root"], body["direction"], body["depth"]) == (
        "revenue",
        "revenue",
        "both",
        3,
    )
    assert [node["id"] for node in body["nodes"]] == ["revenue", "orders", "report"]
    assert body["nodes"][0]["strategy"] == "replace"
    assert body["edges"] == [
        {"source": "orders", "target": "revenue"},
        {"source": "revenue", "target": "report"},
    ]
    assert [(c["name"], c["sources"]) for c in body["columns"]] == [
        ("id", [{"model": "orders", "column": "id", "transformation": "direct"}]),
        (
            "revenue",
            [{"model": "orders", "column": "amount", "transformation": "aggregated"}],
        ),
        ("state", [{"model": "orders", "column": "status", "transformation": "cast"}]),
    ]
    assert "lineage_error" not in body


def test_show_without_a_state_store_creates_none(root: Path, cli: Invoke) -> None:
    result = cli("lineage", "show", "revenue", "-d", root)

    assert result.exit_code == 0, result.output
    assert not (root / ".interlace" / "state.db").exists()
    assert not (root / "warehouse.duckdb").exists()


def test_show_with_a_state_store_stores_current_lineage(ran: Path, cli: Invoke) -> None:
    result = cli("lineage", "show", "report", "-d", ran)

    store = open_state_store("sqlite", ran / ".interlace" / "state.db")
    try:
        hashes = store.lineage_hashes()
    finally:
        store.close()
    assert result.exit_code == 0, result.output
    assert set(hashes) == {"orders", "revenue", "report"}


def test_show_tree_draws_both_directions_and_the_columns(
    ran: Path, cli: Invoke
) -> None:
    result = cli("lineage", "show", "revenue", "-d", ran)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:5] == [
        "revenue (sql, table)",
        "├── upstream",
        "│   └── orders (sql)",
        "└── downstream",
        "    └── report (sql)",
    ]
    assert "orders.amount (aggregated)" in result.stdout


def test_show_upstream_only_leaves_out_dependants(ran: Path, cli: Invoke) -> None:
    body = json_of(cli, "revenue", "--upstream", "--depth", "1", "-d", ran)

    assert body["direction"] == "upstream"
    assert [node["id"] for node in body["nodes"]] == ["revenue", "orders"]


def test_show_table_lists_each_model_with_its_relation(ran: Path, cli: Invoke) -> None:
    result = cli("lineage", "show", "revenue", "--format", "table", "-d", ran)

    rows = [line.split("│") for line in result.stdout.splitlines() if "│" in line]
    relations = {row[0].strip(): row[1].strip() for row in rows if len(row) == 5}
    assert relations == {
        "revenue": "root",
        "orders": "upstream",
        "report": "downstream",
    }


def test_show_dot_is_a_graphviz_digraph(ran: Path, cli: Invoke) -> None:
    result = cli("lineage", "show", "revenue", "--format", "dot", "-d", ran)

    assert result.stdout.splitlines() == [
        "digraph lineage {",
        "  rankdir=LR;",
        '  "revenue" [shape=box, style=bold];',
        '  "orders" [shape=box];',
        '  "report" [shape=box];',
        '  "orders" -> "revenue";',
        '  "revenue" -> "report";',
        "}",
    ]


def test_column_upstream_json_walks_to_the_sources_with_depths(
    ran: Path, cli: Invoke
) -> None:
    body = json_of(cli, "report", "-c", "doubled", "--upstream", "-d", ran)

    assert (body["model"], body["column"]) == ("report", "doubled")
    assert body["sources"] == [
        {
            "source_model": "revenue",
            "source_column": "revenue",
            "output_model": "report",
            "output_column": "doubled",
            "transformation": "derived",
            "depth": 1,
        },
        {
            "source_model": "orders",
            "source_column": "amount",
            "output_model": "revenue",
            "output_column": "revenue",
            "transformation": "aggregated",
            "depth": 2,
        },
    ]
    assert body["dependents"] == []


def test_column_downstream_json_lists_dependents_only(ran: Path, cli: Invoke) -> None:
    body = json_of(cli, "orders", "--column", "amount", "--downstream", "-d", ran)

    assert body["sources"] == []
    assert [
        (d["output_model"], d["output_column"], d["depth"]) for d in body["dependents"]
    ] == [("revenue", "revenue", 1), ("report", "doubled", 2)]


def test_column_tree_table_and_dot_show_the_same_steps(ran: Path, cli: Invoke) -> None:
    args = ("lineage", "show", "revenue", "-c", "revenue", "-d", ran)

    tree = cli(*args).stdout
    table = cli(*args, "--format", "table").stdout
    dot = cli(*args, "--format", "dot").stdout

    assert tree.splitlines() == [
        "revenue.revenue (decimal(38,0))",
        "├── sources",
        "│   └── orders.amount aggregated",
        "└── dependents",
        "    └── report.doubled derived",
    ]
    assert "upstream   │ 1     │ orders.amount   │ revenue.revenue" in table
    assert "downstream │ 1     │ revenue.revenue │ report.doubled" in table
    assert '"orders.amount" -> "revenue.revenue" [label="aggregated"];' in dot
    assert '"revenue.revenue" -> "report.doubled" [label="derived"];' in dot


def test_an_unknown_column_is_an_error(ran: Path, cli: Invoke) -> None:
    result = cli("lineage", "show", "report", "-c", "nope", "-d", ran)

    assert result.exit_code == 1
    assert "Column 'nope' not found in model 'report'" in result.stderr


def test_refresh_prints_the_report(ran: Path, cli: Invoke) -> None:
    result = cli("lineage", "refresh", "revenue", "report", "-d", ran)

    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "Lineage refreshed for 2 model(s): 2 ok, 0 error(s)"
    )


def test_refresh_with_a_failing_model_lists_it_and_exits_1(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project({"fine.sql": "SELECT 1 AS a", "bad.sql": "SELECT 1; SELECT 2"})

    result = cli("lineage", "refresh", "-d", root)

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == "Lineage refreshed for 2 model(s): 1 ok, 1 error(s)"
    assert lines[1].startswith("  bad: `bad`: expected one query")


def test_refresh_of_an_unknown_model_names_it(ran: Path, cli: Invoke) -> None:
    result = cli("lineage", "refresh", "nope", "-d", ran)

    assert result.exit_code == 1
    assert "Unknown models: ['nope']" in result.stderr


def test_show_works_when_the_warehouse_cannot_be_opened(ran: Path, cli: Invoke) -> None:
    # A read-write connection (here in this process; a running service in
    # real life) keeps the CLI from opening the file read-only.
    with duckdb.connect(str(ran / "warehouse.duckdb")):
        body = json_of(cli, "report", "-c", "doubled", "--upstream", "-d", ran)

    assert [step["depth"] for step in body["sources"]] == [1, 2]


def test_plan_json_reports_a_removed_column_read_downstream(
    ran: Path, cli: Invoke
) -> None:
    (ran / "models" / "orders.sql").write_text(
        "SELECT range AS id, 'new' AS status FROM range(4)"
    )

    result = cli("plan", "-d", ran, "--format", "json")

    body = json.loads(result.stdout)
    assert [
        (c["model_name"], c["change_type"], c["column_name"], c["severity"])
        for c in body["breaking_changes"]
    ] == [("orders", "column_removed", "amount", "error")]
    assert body["summary"]["errors"] == 1
