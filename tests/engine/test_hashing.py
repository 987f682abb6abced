"""Definition hashes: what changes them and what does not."""

from __future__ import annotations

from pathlib import Path

import pytest
from msgspec.structs import replace

from interlace.engine.definition import Materialise, ModelDefinition, ModelType
from interlace.engine.graph import ModelGraph
from interlace.engine.hashing import code_hash, config_hash, definition_hashes
from interlace.engine.project import Project
from tests.conftest import ProjectFactory

_PYTHON = """
    from interlace import model

    @model(tags=["raw"], description="first")
    def source():
        return [{"id": 1}]

    @model
    def other():
        return [{"id": 2}]
"""


def _hashes(root: Path) -> dict[str, tuple[str, str]]:
    return Project.load(root).hashes


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project(
        {
            "models.py": _PYTHON,
            "report.sql": (
                "-- @name: report\n-- @tags: daily\n"
                "SELECT id, count(*) AS n FROM source GROUP BY id\n"
            ),
        }
    )


def test_hashes_are_sha256_hex_and_stable_across_loads(project: Path) -> None:
    first = _hashes(project)
    second = _hashes(project)

    assert first == second
    assert all(len(part) == 64 for pair in first.values() for part in pair)


def test_editing_a_sql_query_changes_only_its_code_hash(project: Path) -> None:
    before = _hashes(project)

    _edit(project / "models/report.sql", "count(*)", "sum(id)")
    after = _hashes(project)

    assert after["report"][0] != before["report"][0]
    assert after["report"][1] == before["report"][1]
    assert after["source"] == before["source"]


def test_sql_comments_formatting_and_metadata_do_not_change_hashes(
    project: Path,
) -> None:
    before = _hashes(project)

    _edit(project / "models/report.sql", "-- @tags: daily", "-- @tags: weekly, x")
    _edit(project / "models/report.sql", "GROUP BY id", "-- note\n  group   by id")
    after = _hashes(project)

    assert after["report"] == before["report"]


def test_sql_option_that_changes_the_write_changes_the_config_hash(
    project: Path,
) -> None:
    before = _hashes(project)

    _edit(project / "models/report.sql", "-- @tags: daily", "-- @schema: marts")
    after = _hashes(project)

    assert after["report"][0] == before["report"][0]
    assert after["report"][1] != before["report"][1]


def test_editing_a_python_body_changes_only_that_models_code_hash(
    project: Path,
) -> None:
    before = _hashes(project)

    _edit(project / "models/models.py", '[{"id": 1}]', '[{"id": 9}]')
    after = _hashes(project)

    assert after["source"][0] != before["source"][0]
    assert after["source"][1] == before["source"][1]
    assert after["other"] == before["other"]
    assert after["report"] == before["report"]


def test_python_decorator_metadata_does_not_change_hashes(project: Path) -> None:
    before = _hashes(project)

    _edit(
        project / "models/models.py",
        '@model(tags=["raw"], description="first")',
        '@model(tags=["raw", "core"],\n        description="second", owner="me")',
    )
    after = _hashes(project)

    assert after == before


def _definition(
    name: str,
    dependencies: tuple[str, ...] = (),
    materialise: Materialise = Materialise.TABLE,
    sql: str = "SELECT 1",
) -> ModelDefinition:
    return ModelDefinition(
        name=name,
        type=ModelType.SQL,
        schema="public",
        connection=None,
        materialise=materialise,
        dependencies=dependencies,
        sql=sql,
    )


def _chain(first_sql: str) -> dict[str, ModelDefinition]:
    """`base` (table) -> `e1` (ephemeral) -> `e2` (ephemeral) -> `final`."""
    models = [
        _definition("base"),
        _definition("e1", ("base",), Materialise.EPHEMERAL, first_sql),
        _definition("e2", ("e1",), Materialise.EPHEMERAL, "SELECT * FROM e1"),
        _definition("final", ("e2",), sql="SELECT * FROM e2"),
    ]
    return {definition.name: definition for definition in models}


def test_ephemeral_changes_fold_into_dependants_through_the_whole_chain() -> None:
    one, two = _chain("SELECT * FROM base"), _chain("SELECT id FROM base")

    before = definition_hashes(one, ModelGraph(one))
    after = definition_hashes(two, ModelGraph(two))

    assert after["e1"][0] != before["e1"][0]
    assert after["e2"][0] == before["e2"][0]
    assert after["e2"][1] != before["e2"][1]
    assert after["final"][0] == before["final"][0]
    assert after["final"][1] != before["final"][1]
    assert after["base"] == before["base"]


def test_table_upstream_changes_do_not_fold_into_dependants() -> None:
    one = {"a": _definition("a"), "b": _definition("b", ("a",))}
    two = {"a": _definition("a", sql="SELECT 2"), "b": _definition("b", ("a",))}

    before = definition_hashes(one, ModelGraph(one))
    after = definition_hashes(two, ModelGraph(two))

    assert after["b"] == before["b"]


def test_config_hash_covers_listed_options_and_upstream_hashes_only() -> None:
    base = _definition("m")
    plain = config_hash(base, {})

    assert config_hash(replace(base, description="x", tags=("t",)), {}) == plain
    assert config_hash(replace(base, schedule={"every_s": 5}), {}) == plain
    assert config_hash(replace(base, strict=True), {}) != plain
    assert config_hash(replace(base, fields={"id": "int64"}), {}) != plain
    assert config_hash(base, {"e": "h1"}) != config_hash(base, {"e": "h2"})


def body() -> int:
    return 1


def _python(function: object) -> ModelDefinition:
    return ModelDefinition(
        name="m",
        type=ModelType.PYTHON,
        schema="public",
        connection=None,
        function=function,  # type: ignore[arg-type]
    )


def test_code_hash_of_python_is_taken_from_dedented_source() -> None:
    def body() -> int:
        return 1

    def other() -> int:
        return 1

    nested = code_hash(_python(body))

    assert nested == code_hash(_python(globals()["body"]))
    assert nested != code_hash(_python(other))
