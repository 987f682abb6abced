from __future__ import annotations

import json
from typing import Any

from tests.cli.conftest import Invoke
from tests.conftest import ProjectFactory

PIPELINE = {
    "raw.sql": "SELECT range AS id FROM range(3)",
    "doubled.py": """
        from interlace import model

        @model
        def doubled(raw):
            return [{"id": row["id"] * 2} for row in raw.arrow().to_pylist()]
        """,
    "total.sql": "SELECT sum(id) AS total FROM doubled",
}


def planned(cli: Invoke, *args: Any) -> dict[str, Any]:
    result = cli("plan", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def reasons(body: dict[str, Any]) -> dict[str, str]:
    found = {item["model_name"]: item["run_reason"] for item in body["models_to_run"]}
    for item in body["models_skipped"]:
        found[item["model_name"]] = f"skip:{item['skip_reason']}"
    return found


def test_plan_json_has_the_api_shape_and_first_run_reasons(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)

    body = planned(cli, "-d", root)

    assert set(body) == {
        "models_to_run",
        "models_skipped",
        "breaking_changes",
        "total_affected",
        "has_breaking_changes",
        "summary",
    }
    assert reasons(body) == {
        "raw": "first_run",
        "doubled": "first_run",
        "total": "first_run",
    }
    assert body["models_to_run"][1]["upstream_changed"] == ["raw"]


def test_plan_writes_nothing_to_a_project_that_never_ran(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)

    planned(cli, "-d", root)

    assert not (root / ".interlace" / "state.db").exists()
    assert not (root / "warehouse.duckdb").exists()


def test_plan_after_a_run_skips_all_and_after_an_edit_predicts_the_rerun(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)
    cli("run", "-d", root)

    after_run = planned(cli, "-d", root)
    (root / "models" / "raw.sql").write_text("SELECT range AS id FROM range(5)")
    after_edit = planned(cli, "-d", root)
    forced = planned(cli, "total", "--force", "--no-upstream", "-d", root)

    assert set(reasons(after_run).values()) == {"skip:no_changes"}
    assert reasons(after_edit) == {
        "raw": "file_changed",
        "doubled": "upstream_changed",
        "total": "upstream_changed",
    }
    assert reasons(forced) == {"total": "force"}


def test_plan_table_and_summary_formats_name_models_and_counts(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)
    cli("run", "-d", root)
    (root / "models" / "total.sql").write_text("SELECT max(id) AS total FROM doubled")

    table = cli("plan", "-d", root)
    summary = cli("plan", "--format", "summary", "-d", root)

    assert table.exit_code == 0, table.output
    rows = {
        line.split()[0]: line.split()[1:] for line in table.stdout.splitlines()[2:-1]
    }
    assert rows["total"][:2] == ["│", "run"]
    assert "file_changed" in rows["total"]
    assert rows["raw"][:4] == ["│", "skip", "│", "no_changes"]
    assert summary.stdout.strip() == (
        "Plan: 1 model(s) to run, 2 skipped, 0 breaking change(s)"
    )


def test_plan_rejects_an_unknown_format_as_a_usage_error(
    make_project: ProjectFactory, cli: Invoke
) -> None:
    root = make_project(PIPELINE)

    result = cli("plan", "--format", "xml", "-d", root)

    assert result.exit_code == 2
