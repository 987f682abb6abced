from __future__ import annotations

import datetime as dt
import socket

from interlace.engine.project import Project
from interlace.runtime.messages import RunRequest
from interlace.runtime.runtime import Runtime
from interlace.state import open_state_store
from interlace.state.records import RunRecord, TaskRecord
from interlace.state.writes import InsertRun
from tests.conftest import ProjectFactory
from tests.runtime.helpers import RUN_TIMEOUT_S, Collector

FLAKY = """
    from pathlib import Path
    from interlace import model

    COUNTER = Path(__file__).with_name("attempts.txt")

    @model(retry={"max_attempts": 2, "initial_delay": 0.01, "jitter": False})
    def flaky():
        attempts = int(COUNTER.read_text()) if COUNTER.exists() else 0
        COUNTER.write_text(str(attempts + 1))
        if attempts < 2:
            raise ConnectionError(f"attempt {attempts + 1} failed")
        return {"ok": [True]}
    """


def test_a_run_left_running_by_a_dead_process_is_failed_at_start_up(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"a.sql": "SELECT 1 AS x"})
    project = Project.load(root)
    now = dt.datetime.now(dt.UTC)
    store = open_state_store("sqlite", project.config.state_path)
    store.apply(
        [
            InsertRun(
                run=RunRecord(
                    run_id="run_0123456789ab",
                    status="running",
                    trigger_type="cli",
                    created_at=now,
                    started_at=now,
                    owner=f"{socket.gethostname()}:999999999:1",
                ),
                tasks=[
                    TaskRecord(
                        task_id="task_0123456789ab",
                        run_id="run_0123456789ab",
                        model_name="a",
                        schema_name="public",
                        position=0,
                        status="running",
                        enqueued_at=now,
                    )
                ],
            )
        ]
    )
    store.close()

    with Runtime(project) as runtime:
        run = runtime.store.get_run("run_0123456789ab")
        tasks = runtime.store.get_tasks("run_0123456789ab")

    assert run is not None
    assert run.status == "failed"
    assert run.error is not None and run.error["code"] == "process_crashed"
    assert tasks[0].status == "failed"


def test_a_failing_model_is_retried_until_it_succeeds(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"flaky.py": FLAKY})
    collector = Collector()

    with Runtime(Project.load(root)) as runtime:
        runtime.subscribe(collector)
        outcome = runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)
        runtime.flush()
        stored = runtime.store.get_task(outcome.tasks[0].task_id)

    task = outcome.tasks[0]
    assert task.status == "completed"
    assert task.attempt == 3
    assert stored is not None and stored.attempt == 3
    retrying = [e for e in collector.drain() if e.type == "task.retrying"]
    assert [e.payload["attempt"] for e in retrying] == [2, 3]
    assert retrying[0].payload["max_attempts"] == 3
