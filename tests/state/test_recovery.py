from __future__ import annotations

import socket

from interlace.state.owner import current_owner
from interlace.state.recovery import recover_abandoned_runs
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import InsertRun
from tests.state.factories import at, make_run, make_task

DEAD_OWNER = f"{socket.gethostname()}:999999999:1"
RUN = "run_00000000dead"


def insert_abandoned_run(store: SQLiteStateStore, owner: str = DEAD_OWNER) -> None:
    """A run left `running` with one task in every state."""
    statuses = [
        "completed",
        "running",
        "materialising",
        "ready",
        "waiting",
        "pending",
        "skipped",
    ]
    tasks = [
        make_task(
            f"task_00000000000{i}",
            RUN,
            position=i,
            model_name=status,
            status=status,
            started_at=at(1) if status in {"completed", "running"} else None,
        )
        for i, status in enumerate(statuses)
    ]
    run = make_run(RUN, owner=owner, started_at=at(1))
    store.apply([InsertRun(run=run, tasks=tasks)])


def test_a_run_of_a_dead_owner_is_failed_as_process_crashed(
    store: SQLiteStateStore,
) -> None:
    insert_abandoned_run(store)

    recovered = recover_abandoned_runs(store, now=at(10))

    run = store.get_run(RUN)
    assert recovered == [RUN]
    assert run is not None
    assert run.status == "failed"
    assert run.completed_at == at(10)
    assert run.error is not None
    assert run.error["code"] == "process_crashed"
    assert DEAD_OWNER in run.error["message"]


def test_running_tasks_fail_and_unstarted_tasks_are_skipped(
    store: SQLiteStateStore,
) -> None:
    insert_abandoned_run(store)

    recover_abandoned_runs(store, now=at(10))

    tasks = {task.model_name: task for task in store.get_tasks(RUN)}
    assert {name: task.status for name, task in tasks.items()} == {
        "completed": "completed",
        "running": "failed",
        "materialising": "failed",
        "ready": "skipped",
        "waiting": "skipped",
        "pending": "skipped",
        "skipped": "skipped",
    }
    assert tasks["running"].error_type == "process_crashed"
    assert tasks["materialising"].completed_at == at(10)
    assert tasks["pending"].skipped_reason == "run_cancelled"
    assert tasks["completed"].completed_at is None


def test_recovery_emits_task_events_then_flow_failed(
    store: SQLiteStateStore,
) -> None:
    insert_abandoned_run(store)

    recover_abandoned_runs(store, now=at(10))

    events = store.read_events(0, limit=100)
    assert [(e.type, e.payload.get("model_name")) for e in events] == [
        ("task.failed", "running"),
        ("task.failed", "materialising"),
        ("task.skipped", "ready"),
        ("task.skipped", "waiting"),
        ("task.skipped", "pending"),
        ("flow.failed", None),
    ]
    assert all(e.flow_id == RUN for e in events)
    failed_task = events[0].payload
    assert failed_task["status"] == "failed"
    assert failed_task["duration"] == 9.0
    assert failed_task["error"].startswith("the process")
    assert events[2].payload["skipped_reason"] == "run_cancelled"


def test_flow_failed_carries_the_section_6_payload(store: SQLiteStateStore) -> None:
    insert_abandoned_run(store)

    recover_abandoned_runs(store, now=at(10))

    flow = store.read_events(0, limit=100)[-1]
    error = flow.payload.pop("error")
    assert flow.payload == {
        "flow_id": RUN,
        "timestamp": "2026-03-01T10:05:10.113Z",
        "status": "failed",
        "trigger_type": "cli",
        "total_tasks": 7,
        "completed": 1,
        "failed": 2,
        "skipped": 4,
        "running": 0,
        "pending": 0,
        "duration": 9.0,
    }
    assert error["code"] == "process_crashed"
    assert flow.timestamp == at(10)


def test_runs_of_a_live_owner_are_left_alone(store: SQLiteStateStore) -> None:
    insert_abandoned_run(store, owner=current_owner())

    recovered = recover_abandoned_runs(store)

    run = store.get_run(RUN)
    assert recovered == []
    assert run is not None and run.status == "running"
    assert store.event_bounds() == (None, None)


def test_terminal_runs_are_never_touched(store: SQLiteStateStore) -> None:
    store.apply(
        [InsertRun(run=make_run(RUN, owner=DEAD_OWNER, status="completed"), tasks=[])]
    )

    recovered = recover_abandoned_runs(store)

    assert recovered == []
    assert store.get_run(RUN) == make_run(RUN, owner=DEAD_OWNER, status="completed")


def test_pending_and_cancelling_runs_of_dead_owners_are_recovered_too(
    store: SQLiteStateStore,
) -> None:
    store.apply(
        [
            InsertRun(
                run=make_run(f"run_00000000000{i}", owner=DEAD_OWNER, status=status),
                tasks=[],
            )
            for i, status in enumerate(["pending", "cancelling"])
        ]
    )

    recovered = recover_abandoned_runs(store)

    assert sorted(recovered) == ["run_000000000000", "run_000000000001"]
    assert store.open_runs() == []


def test_a_run_without_an_owner_is_recovered(store: SQLiteStateStore) -> None:
    store.apply([InsertRun(run=make_run(RUN), tasks=[])])

    assert recover_abandoned_runs(store) == [RUN]
