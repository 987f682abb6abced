from __future__ import annotations

import threading

import pytest

from interlace.errors import StateStoreError
from interlace.state.records import RunRecord
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.store import RunFilter
from interlace.state.writes import InsertRun, UpdateRun
from tests.state.factories import at, make_run, make_task


def insert_runs(store: SQLiteStateStore) -> None:
    """Five runs: ids end in their creation second; `r4` has not started."""
    specs = [
        ("run_00000000000a", 1, 2, "completed", "cli", "orders"),
        ("run_00000000000b", 2, 3, "failed", "api", "customers"),
        ("run_00000000000c", 3, 9, "completed", "schedule", "orders"),
        ("run_00000000000d", 4, None, "pending", "api", "orders"),
        ("run_00000000000e", 4, 5, "running", "cli", "customers"),
    ]
    store.apply(
        [
            InsertRun(
                run=make_run(
                    run_id,
                    created_at=at(created),
                    started_at=None if started is None else at(started),
                    status=status,
                    trigger_type=trigger,
                ),
                tasks=[make_task(f"task_{run_id[4:]}", run_id, model_name=model)],
            )
            for run_id, created, started, status, trigger, model in specs
        ]
    )


def ids(page: tuple[list[RunRecord], int]) -> tuple[list[str], int]:
    runs, total = page
    return [run.run_id[-1] for run in runs], total


def test_list_runs_is_newest_first_then_by_id_descending(
    store: SQLiteStateStore,
) -> None:
    insert_runs(store)

    page = store.list_runs(RunFilter(), limit=10)

    assert ids(page) == (["e", "d", "c", "b", "a"], 5)


def test_list_runs_pages_with_limit_and_offset_and_counts_all(
    store: SQLiteStateStore,
) -> None:
    insert_runs(store)

    first = store.list_runs(RunFilter(), limit=2)
    second = store.list_runs(RunFilter(), limit=2, offset=2)
    last = store.list_runs(RunFilter(), limit=2, offset=4)

    assert ids(first) == (["e", "d"], 5)
    assert ids(second) == (["c", "b"], 5)
    assert ids(last) == (["a"], 5)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (RunFilter(status="completed"), ["c", "a"]),
        (RunFilter(trigger_type="api"), ["d", "b"]),
        (RunFilter(model="customers"), ["e", "b"]),
        (RunFilter(status="completed", model="orders"), ["c", "a"]),
        (RunFilter(since=at(3)), ["e", "d", "c", "b"]),
        (RunFilter(until=at(3)), ["b", "a"]),
        # `d` never started: it is placed at its creation time (4 s).
        (RunFilter(since=at(4), until=at(4)), ["d"]),
        (RunFilter(model="nothing"), []),
    ],
)
def test_list_runs_filters(
    store: SQLiteStateStore, filters: RunFilter, expected: list[str]
) -> None:
    insert_runs(store)

    page = store.list_runs(filters, limit=10)

    assert ids(page) == (expected, len(expected))


def test_open_runs_are_pending_running_and_cancelling_ones(
    store: SQLiteStateStore,
) -> None:
    insert_runs(store)
    store.apply(
        [UpdateRun(run_id="run_00000000000a", changes={"status": "cancelling"})]
    )

    open_ids = [run.run_id[-1] for run in store.open_runs()]

    assert open_ids == ["a", "d", "e"]


def test_model_tasks_are_newest_first_with_a_total(store: SQLiteStateStore) -> None:
    store.apply(
        [
            InsertRun(
                run=make_run(f"run_00000000000{i}"),
                tasks=[
                    make_task(
                        f"task_00000000000{i}",
                        f"run_00000000000{i}",
                        enqueued_at=at(i),
                        model_name="orders" if i != 2 else "other",
                    )
                ],
            )
            for i in range(1, 5)
        ]
    )

    tasks, total = store.model_tasks("orders", limit=2)
    rest, _ = store.model_tasks("orders", limit=2, offset=2)

    assert [t.task_id[-1] for t in tasks] == ["4", "3"]
    assert [t.task_id[-1] for t in rest] == ["1"]
    assert total == 3


def test_unknown_ids_read_as_none_or_empty(store: SQLiteStateStore) -> None:
    assert store.get_run("run_unknown") is None
    assert store.get_task("task_unknown") is None
    assert store.get_tasks("run_unknown") == []
    assert store.task_logs("task_unknown", after=0, limit=10) == []


def test_threads_read_while_a_batch_is_written(store: SQLiteStateStore) -> None:
    insert_runs(store)
    errors: list[BaseException] = []
    totals: list[int] = []

    def read() -> None:
        try:
            for _ in range(20):
                totals.append(store.list_runs(RunFilter(), limit=1)[1])
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for reader in readers:
        reader.start()
    store.apply(
        [InsertRun(run=make_run(f"run_1000000000{i:02d}"), tasks=[]) for i in range(50)]
    )
    for reader in readers:
        reader.join()

    assert errors == []
    assert set(totals) <= {5, 55}


def test_a_closed_store_refuses_reads_and_writes(store: SQLiteStateStore) -> None:
    store.close()

    with pytest.raises(StateStoreError, match="is closed"):
        store.get_run("run_000000000001")
    with pytest.raises(StateStoreError, match="is closed"):
        store.apply([InsertRun(run=make_run(), tasks=[])])
