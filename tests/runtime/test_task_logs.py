from __future__ import annotations

from interlace.engine.project import Project
from interlace.runtime.messages import RunRequest
from interlace.runtime.runtime import Runtime
from tests.conftest import ProjectFactory
from tests.runtime.helpers import RUN_TIMEOUT_S

CHATTY = """
    import logging
    from interlace import model

    @model
    def chatty(context):
        context.logger.info("fetching page %d", 1)
        logging.getLogger("models.vendor").warning("slow vendor")
        print("printed line")
        return {"x": [1]}
    """


def test_a_tasks_log_records_and_prints_are_stored_in_order(
    make_project: ProjectFactory,
) -> None:
    root = make_project({"chatty.py": CHATTY})

    with Runtime(Project.load(root)) as runtime:
        outcome = runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)
        runtime.flush()
        task_id = outcome.tasks[0].task_id
        lines = runtime.store.task_logs(task_id, after=0, limit=100)
        task = runtime.store.get_task(task_id)

    assert [(line.line, line.stream, line.message) for line in lines] == [
        (1, "log", "fetching page 1"),
        (2, "log", "slow vendor"),
        (3, "stdout", "printed line"),
    ]
    assert lines[0].logger == "interlace.models.chatty"
    assert lines[1].level == "WARNING"
    assert task is not None and task.metadata["log_lines"] == 3


def test_task_log_lines_beyond_the_limit_are_dropped_and_flagged(
    make_project: ProjectFactory,
) -> None:
    root = make_project(
        {"chatty.py": CHATTY},
        config="""
            connections:
              default: {type: duckdb, path: warehouse.duckdb}
            executor: {task_log_max_lines: 2}
            """,
    )

    with Runtime(Project.load(root)) as runtime:
        outcome = runtime.submit(RunRequest()).outcome.result(timeout=RUN_TIMEOUT_S)
        runtime.flush()
        task_id = outcome.tasks[0].task_id
        lines = runtime.store.task_logs(task_id, after=0, limit=100)
        task = runtime.store.get_task(task_id)

    assert len(lines) == 2
    assert task is not None and task.metadata["logs_truncated"] is True
