from __future__ import annotations

from pathlib import Path

import duckdb

from interlace.engine.project import Project
from interlace.state import open_state_store
from tests.conftest import ProjectFactory
from tests.runtime.helpers import query, run_project

MODELS = {
    "orders_inc.sql": """
        -- @name: orders_inc
        -- @strategy: merge_by_key
        -- @primary_key: id
        -- @cursor: id
        SELECT id, amount FROM landing
        """,
    "audit.sql": """
        -- @name: audit
        -- @strategy: append
        SELECT count(*) AS seen FROM landing
        """,
}


def _land(root: Path, ids: range) -> None:
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("CREATE TABLE IF NOT EXISTS main.landing (id INTEGER, amount INT)")
        con.executemany(
            "INSERT INTO main.landing VALUES (?, ?)", [(i, i * 10) for i in ids]
        )


def _watermark(root: Path) -> str | None:
    store = open_state_store("sqlite", Project.load(root).config.state_path)
    try:
        return store.watermarks().get("orders_inc")
    finally:
        store.close()


def test_a_cursor_model_reads_only_rows_past_its_watermark(
    make_project: ProjectFactory,
) -> None:
    root = make_project(MODELS)
    _land(root, range(1, 6))
    run_project(root, force=True)
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("UPDATE main.landing SET amount = -1 WHERE id <= 5")
    _land(root, range(6, 8))

    outcome = run_project(root, selectors=("orders_inc",), force=True)

    assert outcome.tasks[0].rows_ingested == 2
    assert query(root, "SELECT min(amount) FROM public.orders_inc") == [(10,)]
    assert query(root, "SELECT count(*) FROM public.orders_inc") == [(7,)]
    assert _watermark(root) == "7"


def test_a_backfill_window_rewrites_only_its_rows_and_keeps_the_watermark(
    make_project: ProjectFactory,
) -> None:
    root = make_project(MODELS)
    _land(root, range(1, 6))
    run_project(root, force=True)
    assert _watermark(root) == "5"
    _land(root, range(6, 8))
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("UPDATE main.landing SET amount = amount + 1")

    outcome = run_project(root, since="2", until="4")

    tasks = {task.model_name: task for task in outcome.tasks}
    assert tasks["orders_inc"].run_reason == "force"
    assert tasks["orders_inc"].rows_ingested == 2
    assert tasks["audit"].status == "skipped"
    assert query(root, "SELECT id, amount FROM public.orders_inc ORDER BY id") == [
        (1, 10),
        (2, 20),
        (3, 31),
        (4, 41),
        (5, 50),
    ]
    assert query(root, "SELECT count(*) FROM public.audit") == [(1,)]
    assert _watermark(root) == "5"

    run_project(root, selectors=("orders_inc",), force=True)

    assert query(root, "SELECT count(*) FROM public.orders_inc") == [(7,)]
    assert _watermark(root) == "7"


def test_the_watermark_is_visible_to_a_python_model(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "numbers.sql": "SELECT range AS n FROM range(1, 4)",
            "seen.py": """
                from interlace import model

                @model(cursor="n", strategy="append")
                def seen(numbers, context):
                    rows = numbers.arrow().to_pylist()
                    return [{"n": r["n"], "mark": context.watermark} for r in rows]
                """,
        }
    )
    run_project(root)

    run_project(root, selectors=("seen",), force=True, no_upstream=True)

    assert query(root, "SELECT n, mark FROM public.seen ORDER BY n") == [
        (1, None),
        (2, None),
        (3, None),
    ]
