"""Cancellation and concurrency (SPEC §5.5): targets stay unchanged."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from interlace.engine.definition import ModelType, Strategy
from interlace.errors import TaskCancelled
from interlace.warehouse.invoke import sql_result
from interlace.warehouse.materialise import materialise

LONG_QUERY = (
    "SELECT sum(a.range * b.range) AS id FROM range(100000000) a, range(100000) b"
)


class Interrupter:
    """Interrupts a cursor repeatedly from another thread until stopped.

    Repeating avoids a race: an interrupt that lands before the query starts
    would otherwise be lost.
    """

    def __init__(self, cursor, delay: float) -> None:
        self.cursor = cursor
        self.delay = delay
        self.first_at: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def cancelled(self) -> bool:
        return self.first_at is not None

    def __enter__(self) -> Interrupter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        if self._stop.wait(self.delay):
            return
        self.first_at = time.monotonic()
        while not self._stop.is_set():
            self.cursor.interrupt()
            self._stop.wait(0.05)


def test_interrupted_query_raises_task_cancelled_quickly_and_keeps_target(
    define, write, fetch, warehouse, cursor, run_id
):
    model = define(type=ModelType.SQL, sql=LONG_QUERY, strategy=Strategy.REPLACE)
    write(model, [{"id": 1}])
    relation = sql_result(model, cursor)

    with Interrupter(cursor, delay=0.3) as interrupter:
        with pytest.raises(TaskCancelled):
            materialise(
                warehouse,
                cursor,
                model,
                relation,
                run_id=run_id,
                cancelled=interrupter.cancelled,
            )
        stopped_at = time.monotonic()

    assert interrupter.first_at is not None
    assert stopped_at - interrupter.first_at < 1.0
    assert fetch("SELECT id FROM s.orders") == [(1,)]


def test_cancel_between_generator_batches_keeps_target_and_scratch_clean(
    define, write, fetch
):
    model = define(strategy=Strategy.REPLACE)
    write(model, [{"id": 1}])
    produced = []

    def batches():
        for n in range(10):
            produced.append(n)
            yield [{"id": 100 + n}]

    with pytest.raises(TaskCancelled):
        write(model, batches(), cancelled=lambda: len(produced) >= 3)

    assert fetch("SELECT id FROM s.orders") == [(1,)]
    assert len(produced) == 3
    scratch = (
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = '_interlace_scratch'"
    )
    assert fetch(scratch) == [(0,)]


def test_cancelled_before_write_leaves_no_target(define, write, warehouse, cursor):
    with pytest.raises(TaskCancelled):
        write(define(), [{"id": 1}], cancelled=lambda: True)

    assert not warehouse.table_exists(cursor, "s", "orders")


def test_concurrent_tasks_write_their_targets_in_parallel(define, warehouse, run_id):
    def task(n: int) -> int:
        cursor = warehouse.cursor()
        try:
            rows = [{"id": i, "task": n} for i in range(1000)]
            result = materialise(
                warehouse,
                cursor,
                define(f"t{n}"),
                rows,
                run_id=run_id,
                cancelled=lambda: False,
            )
            return result.rows_inserted or 0
        finally:
            cursor.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = list(pool.map(task, range(8)))

    assert counts == [1000] * 8
