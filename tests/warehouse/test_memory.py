"""Generators are staged batch by batch: memory is bounded by one batch."""

from __future__ import annotations

import pyarrow as pa

BATCHES = 50
ROWS = 20_000


def test_generator_memory_stays_near_one_batch(define, write, fetch):
    observed: list[int] = []
    baseline = pa.total_allocated_bytes()

    def batches():
        for n in range(BATCHES):
            start = n * ROWS
            batch = pa.record_batch(
                {
                    "id": pa.array(range(start, start + ROWS), pa.int64()),
                    "value": pa.array([float(n)] * ROWS, pa.float64()),
                }
            )
            observed.append(pa.total_allocated_bytes() - baseline)
            yield batch

    progress: list[int] = []
    write(define(), batches(), on_progress=lambda done, total: progress.append(done))

    batch_bytes = ROWS * 16
    assert fetch("SELECT count(*), count(DISTINCT id) FROM s.orders") == [
        (BATCHES * ROWS, BATCHES * ROWS)
    ]
    # Holding every batch would reach 50 x batch_bytes; allow a few in flight.
    assert max(observed) < 4 * batch_bytes
    assert progress[:BATCHES] == [ROWS * (n + 1) for n in range(BATCHES)]
