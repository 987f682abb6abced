"""`Project.load`: configuration, models, graph and hashes in one step."""

from __future__ import annotations

import pytest

import interlace
from interlace.engine.project import Project
from interlace.errors import CycleError, SelectionError
from tests.conftest import ProjectFactory


def test_load_builds_models_graph_and_hashes(make_project: ProjectFactory) -> None:
    root = make_project(
        {
            "raw.py": """
                from interlace import model

                @model
                def raw():
                    return [{"id": 1}]
            """,
            "clean.sql": "SELECT * FROM raw WHERE id > 0",
        }
    )

    project = Project.load(root, env="prod")

    assert project.config.env == "prod"
    assert list(project.models) == ["clean", "raw"]
    assert project.graph.order() == ["raw", "clean"]
    assert set(project.hashes) == {"clean", "raw"}
    assert project.model("clean").dependencies == ("raw",)
    assert interlace.config["name"] == "test"


def test_load_touches_neither_warehouse_nor_state(make_project: ProjectFactory) -> None:
    root = make_project({"a.sql": "SELECT 1"}, config="name: bare\n")

    Project.load(root)

    assert not (root / ".interlace").exists()
    assert not (root / "warehouse.duckdb").exists()


def test_project_is_read_only(make_project: ProjectFactory) -> None:
    project = Project.load(make_project({"a.sql": "SELECT 1"}))

    with pytest.raises(AttributeError):
        project.models = {}  # type: ignore[misc]
    with pytest.raises(AttributeError):
        project.extra = 1  # type: ignore[attr-defined]


def test_unknown_model_lookup_lists_available_models(
    make_project: ProjectFactory,
) -> None:
    project = Project.load(make_project({"a.sql": "SELECT 1"}))

    with pytest.raises(SelectionError) as caught:
        project.model("b")

    assert (caught.value.invalid, caught.value.available) == (["b"], ["a"])


def test_cycle_between_models_fails_the_load(make_project: ProjectFactory) -> None:
    root = make_project(
        {"a.sql": "SELECT * FROM b", "b.sql": "-- some notes\nSELECT * FROM a"}
    )

    with pytest.raises(CycleError) as caught:
        Project.load(root)

    assert caught.value.cycle == ["a", "b", "a"]
    assert caught.value.path == root.resolve() / "models/a.sql"
