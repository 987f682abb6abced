"""Column lineage persisted in the state store, refreshed and kept current."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from interlace.config import set_current
from interlace.engine.project import Project
from interlace.errors import SelectionError
from interlace.lineage.store import (
    current_lineage,
    ensure_current,
    lineage_hash,
    refresh,
    stale_models,
    stored_lineage,
)
from interlace.lineage.warehouse_columns import read_catalog_columns
from interlace.runtime.runtime import open_warehouses
from interlace.state.records import SchemaColumn
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import RecordSchemaVersion
from tests.conftest import ProjectFactory

MODELS = {
    "raw.sql": "SELECT range AS id, range * 10 AS amount FROM range(4)",
    "clean.sql": "SELECT id, amount AS net FROM raw WHERE amount > 0",
    "report.sql": "SELECT sum(net) AS total FROM clean",
    "other.sql": "SELECT 1 AS one",
    "scored.py": """
        from interlace import model

        @model(
            fields={"id": "int64", "score": "float64"},
            column_lineage={"score": ["clean.net"]},
        )
        def scored(clean):
            return []
        """,
}


@pytest.fixture(autouse=True)
def _clear_current_config() -> Iterator[None]:
    yield
    set_current(None)


@pytest.fixture
def root(make_project: ProjectFactory) -> Path:
    return make_project(MODELS)


@pytest.fixture
def store(root: Path) -> Iterator[SQLiteStateStore]:
    opened = SQLiteStateStore(root / ".interlace" / "state.db")
    yield opened
    opened.close()


def edge_views(project: Project, store: SQLiteStateStore) -> set[tuple[str, ...]]:
    return {
        (e.source_model, e.source_column, e.output_model, e.output_column)
        for e in stored_lineage(project, store).edges()
    }


def test_refresh_persists_lineage_that_reads_back_as_computed(
    root: Path, store: SQLiteStateStore
) -> None:
    project = Project.load(root)

    report = refresh(project, store)

    assert (report.success, report.errors, report.ok) == (5, 0, True)
    assert report.models == ["other", "raw", "clean", "report", "scored"]
    assert edge_views(project, store) == {
        ("clean", "id", "scored", "id"),
        ("clean", "net", "scored", "score"),
        ("clean", "net", "report", "total"),
        ("raw", "amount", "clean", "net"),
        ("raw", "id", "clean", "id"),
    }
    view = stored_lineage(project, store)
    assert [(c.name, c.data_type) for c in view.model_columns("scored")] == [
        ("id", "int64"),
        ("score", "float64"),
    ]
    assert store.lineage_hashes()["clean"] == lineage_hash(project, "clean")


def test_nothing_is_stale_right_after_a_refresh(
    root: Path, store: SQLiteStateStore
) -> None:
    project = Project.load(root)
    refresh(project, store)

    report = ensure_current(project, store)

    assert report.models == []
    assert stale_models(project, store) == []


def test_editing_a_sql_model_recomputes_it_and_its_dependants_only(
    root: Path, store: SQLiteStateStore
) -> None:
    refresh(Project.load(root), store)
    (root / "models" / "clean.sql").write_text(
        "SELECT id, amount * 2 AS net, amount FROM raw"
    )
    project = Project.load(root)

    report = ensure_current(project, store)

    assert report.models == ["clean", "report", "scored"]
    assert ("raw", "amount", "clean", "amount") in edge_views(project, store)
    assert ensure_current(project, store).models == []


def test_a_newer_schema_version_makes_the_model_and_its_dependants_stale(
    root: Path, store: SQLiteStateStore
) -> None:
    project = Project.load(root)
    refresh(project, store)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    columns = [SchemaColumn(name="id", type="int64")]

    store.apply(
        [RecordSchemaVersion(model_name="raw", columns=columns, detected_at=later)]
    )

    assert stale_models(project, store) == ["raw", "clean", "report", "scored"]


def test_ensure_current_on_an_empty_store_computes_every_model(
    root: Path, store: SQLiteStateStore
) -> None:
    project = Project.load(root)

    report = ensure_current(project, store)

    assert report.success == 5
    assert set(store.lineage_hashes()) == set(project.models)


def test_refreshing_some_models_uses_the_stored_columns_of_the_others(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    root = make_project(
        {
            "base.sql": "SELECT 1 AS a, 'x' AS b",
            "star.sql": "SELECT * FROM base",
        }
    )
    project = Project.load(root)
    with SQLiteStateStore(tmp_path / "state.db") as store:
        refresh(project, store)

        report = refresh(project, store, ["star"])
        columns = stored_lineage(project, store).model_columns("star")

    assert report.models == ["star"]
    assert [(c.name, [s.column for s in c.sources]) for c in columns] == [
        ("a", ["a"]),
        ("b", ["b"]),
    ]


def test_a_model_whose_lineage_fails_is_reported_and_stored_with_its_error(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    root = make_project(
        {"fine.sql": "SELECT 1 AS a", "broken.sql": "SELECT a FROM fine; SELECT 2"}
    )
    project = Project.load(root)
    with SQLiteStateStore(tmp_path / "state.db") as store:
        report = refresh(project, store)
        view = stored_lineage(project, store)

    assert (report.success, report.errors, report.ok) == (1, 1, False)
    assert [detail.model for detail in report.error_details] == ["broken"]
    assert "`broken`" in report.error_details[0].error
    assert view.error("broken") == report.error_details[0].error
    assert view.error("fine") is None


def test_refreshing_an_unknown_model_names_it(
    root: Path, store: SQLiteStateStore
) -> None:
    with pytest.raises(SelectionError) as raised:
        refresh(Project.load(root), store, ["clean", "nope"])

    assert raised.value.invalid == ["nope"]


def test_current_lineage_without_a_store_computes_in_memory(root: Path) -> None:
    project = Project.load(root)

    view = current_lineage(project, None)

    assert list(view.models) == project.graph.order()
    sources = {c.name: c.sources for c in view.model_columns("clean")}
    assert [(s.model, s.column) for s in sources["net"]] == [("raw", "amount")]


def test_current_lineage_recomputes_stale_models_without_writing(
    root: Path, store: SQLiteStateStore
) -> None:
    refresh(Project.load(root), store)
    (root / "models" / "clean.sql").write_text(
        "SELECT id, amount AS net, 1 AS x FROM raw"
    )
    project = Project.load(root)
    before = store.lineage_hashes()

    view = current_lineage(project, store)

    assert [c.name for c in view.model_columns("clean")] == ["id", "net", "x"]
    assert store.lineage_hashes() == before


def test_live_catalog_columns_let_external_tables_be_traced(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    root = make_project({"events.sql": "SELECT * FROM landing.page_views"})
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("CREATE SCHEMA landing")
        con.execute("CREATE TABLE landing.page_views (url VARCHAR, hits BIGINT)")
    project = Project.load(root)
    warehouses = open_warehouses(project.config)
    try:
        catalog = read_catalog_columns(warehouses)
    finally:
        for warehouse in warehouses.values():
            warehouse.close()

    view = current_lineage(project, None, catalog_columns=catalog)

    columns = view.model_columns("events")
    assert [(c.name, c.data_type) for c in columns] == [
        ("url", "string"),
        ("hits", "int64"),
    ]
    assert [(s.model, s.column) for s in columns[1].sources] == [("page_views", "hits")]
