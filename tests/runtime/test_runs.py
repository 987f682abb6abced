from __future__ import annotations

import duckdb

from interlace.engine.project import Project
from interlace.runtime.messages import RunRequest
from interlace.runtime.runtime import Runtime
from interlace.state.store import RunFilter
from tests.conftest import ProjectFactory
from tests.runtime.helpers import (
    RUN_TIMEOUT_S,
    Collector,
    query,
    run_project,
    statuses,
)

BRANCHES = {
    "source.sql": "SELECT range AS id FROM range(5)",
    "doubled.sql": "SELECT id * 2 AS id FROM source",
    "broken.py": """
        from interlace import model

        @model
        def broken(source):
            raise ValueError("boom in broken")
        """,
    "after_broken.sql": "SELECT * FROM broken",
    "after_after.sql": "SELECT * FROM after_broken",
}


def test_a_chain_of_sql_and_python_models_materialises_every_table(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "raw.sql": "SELECT range AS id, range * 10 AS amount FROM range(4)",
            "enriched.py": """
                from interlace import model

                @model
                def enriched(raw):
                    return [
                        {"id": row["id"], "gross": row["amount"] * 2}
                        for row in raw.arrow().to_pylist()
                    ]
                """,
            "total.sql": "SELECT sum(gross) AS total FROM enriched",
        }
    )

    outcome = run_project(root)

    assert outcome.run.status == "completed"
    assert statuses(outcome) == {
        "raw": "completed",
        "enriched": "completed",
        "total": "completed",
    }
    assert query(root, "SELECT total FROM public.total") == [(120,)]


def test_a_failing_model_skips_its_dependants_while_other_branches_finish(
    make_project: ProjectFactory,
) -> None:
    root = make_project(BRANCHES)

    outcome = run_project(root)

    assert outcome.run.status == "failed"
    assert statuses(outcome) == {
        "source": "completed",
        "doubled": "completed",
        "broken": "failed",
        "after_broken": "skipped",
        "after_after": "skipped",
    }
    tasks = {task.model_name: task for task in outcome.tasks}
    assert tasks["broken"].error_type == "ValueError"
    assert "boom in broken" in (tasks["broken"].error_stacktrace or "")
    assert "broken.py" in (tasks["broken"].error_stacktrace or "")
    assert tasks["after_broken"].skipped_reason == "upstream_failed"
    assert tasks["after_broken"].error_message == (
        "Dependency 'broken' failed: boom in broken"
    )
    assert tasks["after_after"].skipped_reason == "upstream_failed"


def test_unchanged_models_are_skipped_with_a_reason_on_the_second_run(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "a.sql": "SELECT 1 AS x",
            "b.sql": "SELECT x + 1 AS y FROM a",
        }
    )
    run_project(root)

    outcome = run_project(root)

    assert outcome.run.status == "completed"
    assert {t.model_name: t.skipped_reason for t in outcome.tasks} == {
        "a": "no_changes",
        "b": "no_changes",
    }


def test_editing_a_sql_model_reruns_it_and_its_dependants_only(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "a.sql": "SELECT 1 AS x",
            "b.sql": "SELECT x + 1 AS y FROM a",
            "c.sql": "SELECT y * 2 AS z FROM b",
            "other.sql": "SELECT 42 AS answer",
        }
    )
    run_project(root)
    (root / "models" / "b.sql").write_text("SELECT x + 100 AS y FROM a\n")

    outcome = run_project(root)

    reasons = {t.model_name: t.run_reason or t.skipped_reason for t in outcome.tasks}
    assert reasons == {
        "a": "no_changes",
        "other": "no_changes",
        "b": "file_changed",
        "c": "upstream_changed",
    }
    assert query(root, "SELECT z FROM public.c") == [(202,)]


def test_editing_a_python_model_reruns_it_and_its_dependants(
    make_project: ProjectFactory,
) -> None:
    source = """
        from interlace import model

        @model
        def numbers():
            return {"n": [1, 2, 3]}
        """
    root = make_project(
        {"numbers.py": source, "total.sql": "SELECT sum(n) AS s FROM numbers"}
    )
    run_project(root)
    (root / "models" / "numbers.py").write_text(
        source.replace("[1, 2, 3]", "[1, 2, 3, 4]").replace("\n        ", "\n").lstrip()
    )

    outcome = run_project(root)

    reasons = {t.model_name: t.run_reason for t in outcome.tasks}
    assert reasons == {"numbers": "file_changed", "total": "upstream_changed"}
    assert query(root, "SELECT s FROM public.total") == [(10,)]


def test_a_dropped_target_is_rebuilt(make_project: ProjectFactory) -> None:
    root = make_project({"a.sql": "SELECT 1 AS x"})
    run_project(root)
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("DROP TABLE public.a")

    outcome = run_project(root)

    assert outcome.tasks[0].run_reason == "target_missing"


def test_force_runs_selected_models_even_when_unchanged(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"a.sql": "SELECT 1 AS x", "b.sql": "SELECT * FROM a"})
    run_project(root)

    outcome = run_project(root, selectors=("b",), force=True)

    assert {t.model_name: t.run_reason for t in outcome.tasks} == {
        "a": "force",
        "b": "force",
    }


def test_no_upstream_runs_only_the_selected_model(make_project: ProjectFactory) -> None:
    root = make_project({"a.sql": "SELECT 1 AS x", "b.sql": "SELECT * FROM a"})
    run_project(root)

    outcome = run_project(root, selectors=("b",), no_upstream=True, force=True)

    assert [t.model_name for t in outcome.tasks] == ["b"]


def test_an_ephemeral_model_feeds_its_dependant_and_leaves_no_table(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "base.sql": """
                -- @name: base
                -- @materialise: ephemeral
                SELECT range AS id FROM range(3)
                """,
            "final.sql": "SELECT count(*) AS n FROM base",
        }
    )

    outcome = run_project(root)

    assert statuses(outcome) == {"base": "completed", "final": "completed"}
    assert query(root, "SELECT n FROM public.final") == [(3,)]
    leftovers = query(
        root,
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = '_interlace_scratch'",
    )
    assert leftovers == [(0,)]


def test_a_schema_error_fails_the_task_before_it_starts_materialising(
    make_project: ProjectFactory,
) -> None:
    header = "-- @name: strict_model\n-- @schema_mode: strict\n"
    root = make_project({"strict_model.sql": header + "SELECT 1 AS x"})
    run_project(root)
    (root / "models" / "strict_model.sql").write_text(header + "SELECT 1 AS x, 2 AS y")
    collector = Collector()

    with Runtime(Project.load(root)) as runtime:
        runtime.subscribe(collector)
        outcome = runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)
        runtime.flush()

    types = [
        event.type for event in collector.drain() if event.type.startswith("task.")
    ]
    assert outcome.tasks[0].status == "failed"
    assert outcome.tasks[0].error_type == "SchemaEvolutionError"
    assert "task.running" in types
    assert "task.materialising" not in types


def test_a_materialising_task_reports_the_rows_it_ingested(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"five.sql": "SELECT range AS x FROM range(5)"})
    collector = Collector()

    with Runtime(Project.load(root)) as runtime:
        runtime.subscribe(collector)
        runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)
        runtime.flush()
        task_id = runtime.store.list_runs(RunFilter(), limit=1)[0][0].run_id
        tasks = runtime.store.get_tasks(task_id)

    types = [event.type for event in collector.drain()]
    assert types.index("task.materialising") < types.index("task.completed")
    assert tasks[0].rows_ingested == 5
