from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from interlace.errors import StateStoreError
from interlace.state.records import ModelStateRecord, RunRecord, TaskRecord
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import (
    AppendEvent,
    AppendTaskLogs,
    InsertRun,
    SaveModelState,
    UpdateRun,
    UpdateTask,
)
from tests.state.factories import T0, at, make_log_line, make_run, make_task

CEST = dt.timezone(dt.timedelta(hours=2))


def full_run() -> RunRecord:
    return RunRecord(
        run_id="run_5e1c0a9b7d22",
        status="failed",
        trigger_type="api",
        trigger_id="production",
        created_by="production",
        created_at=T0,
        started_at=dt.datetime(2026, 3, 1, 12, 5, 0, 200001, tzinfo=CEST),
        completed_at=at(3.3),
        error={"code": "EXECUTION_ERROR", "message": "1 task(s) failed: orders"},
        metadata={"models": ["raw_orders", "orders"], "force": False, "since": None},
        model_selection="orders",
        retry_of="run_000000000000",
        owner="host:12:345",
    )


def full_task() -> TaskRecord:
    return TaskRecord(
        task_id="task_0c9e2f71a4b3",
        run_id="run_5e1c0a9b7d22",
        model_name="orders",
        schema_name="staging",
        position=1,
        status="failed",
        attempt=2,
        max_attempts=3,
        enqueued_at=T0,
        started_at=at(0.02),
        completed_at=at(0.41),
        materialise="table",
        strategy="merge_by_key",
        dependencies=["raw_orders"],
        parent_task_ids=["task_9a8b7c6d5e4f"],
        run_reason="upstream_changed",
        rows_processed=1200,
        rows_ingested=1200,
        rows_inserted=10,
        rows_updated=35,
        rows_deleted=0,
        schema_changes=1,
        skipped_reason=None,
        error_type="WriteError",
        error_message="boom",
        error_stacktrace="Traceback ...",
        metadata={"tags": ["a"], "nested": {"x": 1.5}},
    )


def test_inserted_run_and_tasks_read_back_field_for_field(
    store: SQLiteStateStore,
) -> None:
    run, task = full_run(), full_task()

    store.apply([InsertRun(run=run, tasks=[task])])

    assert store.get_run(run.run_id) == run
    assert store.get_task(task.task_id) == task
    assert store.get_tasks(run.run_id) == [task]


def test_timestamps_read_back_in_utc(store: SQLiteStateStore) -> None:
    run = full_run()

    store.apply([InsertRun(run=run, tasks=[])])

    stored = store.get_run(run.run_id)
    assert stored is not None and stored.started_at is not None
    assert stored.started_at.tzinfo == dt.UTC
    assert stored.started_at == dt.datetime(2026, 3, 1, 10, 5, 0, 200001, tzinfo=dt.UTC)


def test_timestamps_are_stored_as_sortable_utc_text(
    store: SQLiteStateStore, state_path: Path
) -> None:
    store.apply(
        [InsertRun(run=make_run(created_at=T0.replace(microsecond=0)), tasks=[])]
    )

    with sqlite3.connect(state_path) as conn:
        (text,) = conn.execute("SELECT created_at FROM runs").fetchone()
    assert text == "2026-03-01T10:05:00.000000Z"


def test_tasks_come_back_in_topological_position_order(
    store: SQLiteStateStore,
) -> None:
    tasks = [
        make_task(f"task_00000000000{i}", position=p, model_name=f"m{p}")
        for i, p in enumerate([2, 0, 1])
    ]

    store.apply([InsertRun(run=make_run(), tasks=tasks)])

    assert [t.position for t in store.get_tasks("run_000000000001")] == [0, 1, 2]


def test_update_run_sets_only_the_listed_fields(store: SQLiteStateStore) -> None:
    store.apply([InsertRun(run=make_run(model_selection="orders"), tasks=[])])
    error = {"code": "cancelled", "message": "by user"}

    store.apply(
        [
            UpdateRun(
                run_id="run_000000000001",
                changes={"status": "cancelled", "completed_at": at(5), "error": error},
            )
        ]
    )

    run = store.get_run("run_000000000001")
    assert run == make_run(
        model_selection="orders", status="cancelled", completed_at=at(5), error=error
    )


def test_update_task_sets_only_the_listed_fields(store: SQLiteStateStore) -> None:
    store.apply([InsertRun(run=make_run(), tasks=[make_task()])])

    store.apply(
        [
            UpdateTask(
                task_id="task_000000000001",
                changes={"status": "running", "started_at": at(1), "attempt": 1},
            )
        ]
    )

    assert store.get_task("task_000000000001") == make_task(
        status="running", started_at=at(1), attempt=1
    )


def test_update_with_an_unknown_field_raises_value_error_and_writes_nothing(
    store: SQLiteStateStore,
) -> None:
    writes = [
        InsertRun(run=make_run(), tasks=[make_task()]),
        UpdateTask(task_id="task_000000000001", changes={"statis": "running"}),
    ]

    with pytest.raises(
        ValueError,
        match="`UpdateTask` names unknown `TaskRecord` fields \\['statis'\\]",
    ):
        store.apply(writes)

    assert store.get_run("run_000000000001") is None


def test_update_with_a_value_of_the_wrong_type_raises_value_error(
    store: SQLiteStateStore,
) -> None:
    store.apply([InsertRun(run=make_run(), tasks=[make_task()])])

    with pytest.raises(ValueError, match="field `rows_processed`.*found `str`"):
        store.apply(
            [UpdateTask(task_id="task_000000000001", changes={"rows_processed": "9"})]
        )


def test_update_cannot_change_the_key(store: SQLiteStateStore) -> None:
    store.apply([InsertRun(run=make_run(), tasks=[])])

    with pytest.raises(ValueError, match="key field `run_id`"):
        store.apply([UpdateRun(run_id="run_000000000001", changes={"run_id": "x"})])


def test_update_of_an_unknown_task_raises_and_rolls_back_the_batch(
    store: SQLiteStateStore,
) -> None:
    store.apply([InsertRun(run=make_run(), tasks=[make_task()])])

    with pytest.raises(StateStoreError, match="task_nope"):
        store.apply(
            [
                UpdateTask(task_id="task_000000000001", changes={"status": "ready"}),
                UpdateTask(task_id="task_nope", changes={"status": "ready"}),
            ]
        )

    task = store.get_task("task_000000000001")
    assert task is not None and task.status == "pending"


def test_naive_datetimes_are_rejected(store: SQLiteStateStore) -> None:
    naive = dt.datetime(2026, 3, 1, 10, 5)  # noqa: DTZ001 - the point of the test

    with pytest.raises(ValueError, match="timezone-aware"):
        store.apply([InsertRun(run=make_run(created_at=naive), tasks=[])])


def test_save_model_state_inserts_then_keeps_stored_values_for_none_fields(
    store: SQLiteStateStore,
) -> None:
    first = ModelStateRecord(
        model_name="orders",
        code_hash="c1",
        config_hash="k1",
        last_success_at=at(1),
        last_materialised_at=at(1),
        last_run_at=at(1),
        last_run_id="run_000000000001",
        last_status="completed",
    )
    store.apply([SaveModelState(state=first)])

    store.apply(
        [
            SaveModelState(
                state=ModelStateRecord(
                    model_name="orders",
                    last_run_at=at(9),
                    last_run_id="run_000000000002",
                    last_status="failed",
                )
            )
        ]
    )

    expected = ModelStateRecord(
        model_name="orders",
        code_hash="c1",
        config_hash="k1",
        last_success_at=at(1),
        last_materialised_at=at(1),
        last_run_at=at(9),
        last_run_id="run_000000000002",
        last_status="failed",
    )
    assert store.get_model_state("orders") == expected
    assert store.model_states() == {"orders": expected}
    assert store.get_model_state("customers") is None


def test_append_event_returns_records_with_increasing_ids_in_write_order(
    store: SQLiteStateStore,
) -> None:
    writes = [
        AppendEvent(type=f"task.t{i}", flow_id="run_000000000001", payload={"i": i})
        for i in range(5)
    ]

    events = store.apply(writes)

    assert [e.type for e in events] == [f"task.t{i}" for i in range(5)]
    assert [e.id for e in events] == list(range(events[0].id, events[0].id + 5))
    assert store.read_events(0, limit=10) == events


def test_append_event_completes_the_payload_with_flow_id_and_timestamp(
    store: SQLiteStateStore,
) -> None:
    [given, added, no_flow] = store.apply(
        [
            AppendEvent(
                type="flow.started",
                flow_id="run_000000000001",
                payload={"timestamp": "2026-03-01T10:05:00.113Z", "models": ["a"]},
            ),
            AppendEvent(type="flow.started", flow_id="run_000000000002", payload={}),
            AppendEvent(type="stream.published", flow_id=None, payload={"x": 1}),
        ]
    )

    assert given.timestamp == T0
    assert given.payload == {
        "flow_id": "run_000000000001",
        "timestamp": "2026-03-01T10:05:00.113Z",
        "models": ["a"],
    }
    assert list(added.payload) == ["flow_id", "timestamp"]
    assert added.payload["timestamp"].endswith("Z")
    assert "flow_id" not in no_flow.payload
    assert no_flow.flow_id is None


def test_append_event_with_an_unreadable_timestamp_raises_value_error(
    store: SQLiteStateStore,
) -> None:
    write = AppendEvent(type="x", flow_id=None, payload={"timestamp": "yesterday"})

    with pytest.raises(ValueError, match="`\\$.timestamp` 'yesterday'"):
        store.apply([write])


def test_interleaved_writes_apply_in_batch_order(store: SQLiteStateStore) -> None:
    writes = [
        InsertRun(run=make_run(), tasks=[make_task()]),
        AppendEvent(type="task.enqueued", flow_id="run_000000000001", payload={}),
        UpdateTask(task_id="task_000000000001", changes={"status": "running"}),
        AppendEvent(type="task.running", flow_id="run_000000000001", payload={}),
        UpdateTask(task_id="task_000000000001", changes={"status": "completed"}),
        AppendTaskLogs(lines=[make_log_line("task_000000000001", 1)]),
    ]

    events = store.apply(writes)

    assert [e.type for e in events] == ["task.enqueued", "task.running"]
    task = store.get_task("task_000000000001")
    assert task is not None and task.status == "completed"


def test_task_logs_read_back_and_page_by_line(store: SQLiteStateStore) -> None:
    store.apply([InsertRun(run=make_run(), tasks=[make_task()])])
    lines = [make_log_line("task_000000000001", n) for n in range(1, 8)]

    store.apply([AppendTaskLogs(lines=lines[:4]), AppendTaskLogs(lines=lines[4:])])

    first = store.task_logs("task_000000000001", after=0, limit=3)
    second = store.task_logs("task_000000000001", after=first[-1].line, limit=3)
    rest = store.task_logs("task_000000000001", after=6, limit=3)
    assert first == lines[:3]
    assert second == lines[3:6]
    assert rest == lines[6:]
    assert store.task_logs("task_000000000001", after=7, limit=3) == []


def test_a_failing_write_rolls_back_its_whole_batch(store: SQLiteStateStore) -> None:
    store.apply([InsertRun(run=make_run(), tasks=[])])

    with pytest.raises(StateStoreError) as raised:
        store.apply(
            [
                AppendEvent(type="x", flow_id=None, payload={}),
                InsertRun(run=make_run(), tasks=[]),
            ]
        )

    assert isinstance(raised.value.__cause__, sqlite3.IntegrityError)
    assert store.event_bounds() == (None, None)


def test_an_empty_batch_is_a_no_op(store: SQLiteStateStore) -> None:
    assert store.apply([]) == []
