from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from interlace.engine.project import Project
from tests.cli.conftest import Invoke, last_run_tasks, outcomes


def test_init_writes_a_project_mixing_sql_python_merge_and_stream_models(
    tmp_path: Path, cli: Invoke
) -> None:
    root = tmp_path / "demo"

    result = cli("init", root)

    assert result.exit_code == 0, result.output
    for relative in (
        "config.yaml",
        "models/example.py",
        "models/example.sql",
        "tests/test_example.py",
        ".gitignore",
    ):
        assert (root / relative).is_file(), relative
    assert ".interlace/" in (root / ".gitignore").read_text()
    project = Project.load(root)
    kinds = {name: model.type.value for name, model in project.models.items()}
    assert kinds == {
        "raw_orders": "sql",
        "orders_enriched": "python",
        "daily_revenue": "sql",
        "region_totals": "python",
        "page_views": "stream",
    }
    assert project.graph.upstream("orders_enriched") == ["raw_orders"]
    assert project.graph.upstream("daily_revenue") == ["orders_enriched"]
    assert project.models["region_totals"].strategy == "merge_by_key"
    assert project.models["page_views"].fields is not None


def test_init_refuses_a_directory_that_already_holds_a_project(
    tmp_path: Path, cli: Invoke
) -> None:
    (tmp_path / "config.yaml").write_text("name: mine\n")

    result = cli("init", tmp_path)

    assert result.exit_code == 1
    assert "config.yaml" in result.stderr
    assert "will not overwrite" in result.stderr
    assert (tmp_path / "config.yaml").read_text() == "name: mine\n"
    assert not (tmp_path / "models").exists()


def test_a_new_project_run_succeeds_and_the_second_run_skips_every_model(
    tmp_path: Path, cli: Invoke
) -> None:
    root = tmp_path / "demo"
    cli("init", root)

    first = cli("run", "-d", root)
    second = cli("run", "-d", root)

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert set(outcomes(last_run_tasks(root)).values()) == {"skipped:no_changes"}
    assert "0 completed, 5 skipped, 0 failed" in second.stdout


@pytest.fixture
def _forget_user_models() -> Iterator[None]:
    """The scaffolded test imports `models.example`; do not leak it."""
    yield
    for name in [n for n in sys.modules if n == "models" or n.startswith("models.")]:
        del sys.modules[name]


@pytest.mark.usefixtures("_forget_user_models")
def test_the_scaffolded_unit_test_passes(
    tmp_path: Path, cli: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "demo"
    cli("init", root)
    # What the scaffolded root conftest.py does for pytest.
    monkeypatch.syspath_prepend(str(root))
    path = root / "tests" / "test_example.py"
    spec = importlib.util.spec_from_file_location("scaffolded_test_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    module.test_orders_enriched_applies_tax_and_buckets_sizes()
