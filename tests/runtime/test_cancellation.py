from __future__ import annotations

import time

from interlace.engine.project import Project
from interlace.runtime.messages import RunRequest
from interlace.runtime.runtime import Runtime
from tests.conftest import ProjectFactory
from tests.runtime.helpers import RUN_TIMEOUT_S, Collector, query

SLOW_QUERY = "SELECT count(*) AS n FROM range(100000000000) a"


def _wait_for(collector: Collector, event_type: str, model: str) -> None:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        event = collector.queue.get(timeout=RUN_TIMEOUT_S)
        if event.type == event_type and event.payload.get("model_name") == model:
            return
    raise AssertionError(f"no {event_type} for {model}")


def test_cancel_interrupts_a_long_duckdb_query_and_skips_pending_tasks(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {
            "slow.sql": SLOW_QUERY,
            "after_slow.sql": "SELECT * FROM slow",
        }
    )
    collector = Collector()
    with Runtime(Project.load(root)) as runtime:
        runtime.subscribe(collector)
        submitted = runtime.submit(RunRequest())
        _wait_for(collector, "task.running", "slow")
        started = time.monotonic()

        assert runtime.cancel(submitted.run_id, "test cancel")
        outcome = submitted.outcome.result(timeout=RUN_TIMEOUT_S)
        elapsed = time.monotonic() - started

    assert elapsed < 10
    assert outcome.run.status == "cancelled"
    tasks = {task.model_name: task for task in outcome.tasks}
    assert tasks["slow"].status == "cancelled"
    assert tasks["after_slow"].status == "skipped"
    assert tasks["after_slow"].skipped_reason == "run_cancelled"
    types = [event.type for event in collector.drain()]
    assert "flow.cancelling" in types
    assert types[-1] == "flow.cancelled"


def test_a_cancelled_task_leaves_its_previous_table_unchanged(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"slow.sql": "SELECT 1 AS n"})
    with Runtime(Project.load(root)) as runtime:
        runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)
    (root / "models" / "slow.sql").write_text(SLOW_QUERY + "\n")
    collector = Collector()

    with Runtime(Project.load(root)) as runtime:
        runtime.subscribe(collector)
        submitted = runtime.submit(RunRequest())
        _wait_for(collector, "task.running", "slow")
        runtime.cancel(submitted.run_id)
        submitted.outcome.result(timeout=RUN_TIMEOUT_S)

    assert query(root, "SELECT n FROM public.slow") == [(1,)]


def test_a_task_over_its_timeout_fails_with_task_timeout(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {"slow.sql": SLOW_QUERY},
        config="""
            connections:
              default: {type: duckdb, path: warehouse.duckdb}
            executor: {task_timeout_s: 0.5}
            """,
    )
    with Runtime(Project.load(root)) as runtime:
        outcome = runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)

    task = outcome.tasks[0]
    assert outcome.run.status == "failed"
    assert task.status == "failed"
    assert task.error_type == "TaskTimeout"
