"""Run service pieces that need no server: idempotency rows, retries, views."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from interlace.service.dto.flows import flow_body, parse_instant, task_body
from interlace.service.dto.runs import status_body
from interlace.service.problems import ApiError
from interlace.service.runs import Caller, RunView, retry_request
from interlace.state.ids import utc_now
from interlace.state.records import IdempotencyRecord
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import SaveIdempotencyKey
from tests.state.factories import T0, at, make_run, make_task


def _key(key: str, *, expires_in: float, body: str = "{}") -> SaveIdempotencyKey:
    now = utc_now()
    return SaveIdempotencyKey(
        record=IdempotencyRecord(
            scope="client:127.0.0.1",
            key=key,
            request_hash="h1",
            status_code=202,
            response_body=body,
            created_at=now,
            expires_at=now + dt.timedelta(seconds=expires_in),
        )
    )


def _stored_keys(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT key FROM idempotency_keys")]


def test_an_idempotency_key_is_read_back_with_its_answer(tmp_path: Path) -> None:
    store = SQLiteStateStore(tmp_path / "state.db")

    store.apply([_key("k1", expires_in=60, body='{"run_id": "run_1"}')])
    found = store.get_idempotency_key("client:127.0.0.1", "k1")
    other_scope = store.get_idempotency_key("key:ops", "k1")
    store.close()

    assert found is not None
    assert (found.status_code, found.response_body) == (202, '{"run_id": "run_1"}')
    assert other_scope is None


def test_an_expired_idempotency_key_is_not_returned_and_is_deleted_on_save(
    tmp_path: Path,
) -> None:
    store = SQLiteStateStore(tmp_path / "state.db")
    store.apply([_key("old", expires_in=-1)])

    expired = store.get_idempotency_key("client:127.0.0.1", "old")
    store.apply([_key("new", expires_in=60)])
    store.close()

    assert expired is None
    assert _stored_keys(tmp_path / "state.db") == ["new"]


def test_saving_a_key_again_replaces_its_answer(tmp_path: Path) -> None:
    store = SQLiteStateStore(tmp_path / "state.db")

    store.apply([_key("k1", expires_in=60, body="first")])
    store.apply([_key("k1", expires_in=60, body="second")])
    found = store.get_idempotency_key("client:127.0.0.1", "k1")
    store.close()

    assert found is not None and found.response_body == "second"


def _finished_run() -> RunView:
    run = make_run(
        status="failed",
        metadata={
            "since": "2024-01-01",
            "until": "2024-02-01",
            "trigger_metadata": {"ticket": "OPS-1"},
            "no_upstream": False,
        },
    )
    tasks = [
        make_task("task_a", model_name="a", position=0, status="completed"),
        make_task("task_b", model_name="b", position=1, status="failed"),
        make_task(
            "task_c",
            model_name="c",
            position=2,
            status="skipped",
            skipped_reason="upstream_failed",
        ),
        make_task("task_d", model_name="d", position=3, status="cancelled"),
        make_task(
            "task_e",
            model_name="e",
            position=4,
            status="skipped",
            skipped_reason="no_changes",
        ),
    ]
    return RunView(run=run, tasks=tasks)


@pytest.mark.parametrize(
    ("mode", "forced"),
    [
        ("failed", ("b", "d")),
        ("failed_and_downstream", ("b", "d", "c")),
        ("all", ("a", "b", "c", "d", "e")),
    ],
)
def test_a_retry_forces_the_models_its_mode_selects(
    mode: str, forced: tuple[str, ...]
) -> None:
    view = _finished_run()

    request = retry_request(view, mode, Caller(name="ops"))  # type: ignore[arg-type]

    assert request.selectors == forced
    assert request.force_models == frozenset(forced)
    assert request.retry_of == view.run.run_id
    assert (request.since, request.until) == ("2024-01-01", "2024-02-01")
    assert request.trigger_metadata == {"ticket": "OPS-1"}
    assert (request.trigger_type, request.created_by) == ("api", "ops")


def test_a_retry_of_a_run_without_failures_is_refused() -> None:
    view = RunView(
        run=make_run(status="completed"),
        tasks=[make_task("task_a", model_name="a", status="completed")],
    )

    with pytest.raises(ApiError) as raised:
        retry_request(view, "failed_and_downstream", Caller())

    assert raised.value.problem.status == 400


def test_status_progress_counts_waiting_as_pending_and_materialising_as_running() -> (
    None
):
    statuses = ["waiting", "ready", "materialising", "running", "skipped", "failed"]
    tasks = [
        make_task(f"task_{i}", model_name=f"m{i}", position=i, status=status)
        for i, status in enumerate(statuses)
    ]
    run = make_run(started_at=T0)

    body = status_body(run, tasks, at(12.5))

    assert body.elapsed_seconds == 12.5
    assert body.progress.total_tasks == 6
    assert (body.progress.pending, body.progress.running) == (2, 2)
    assert (body.progress.skipped, body.progress.failed) == (1, 1)
    assert body.completed_at is None


def test_a_flow_sums_rows_and_counts_tasks_by_outcome() -> None:
    run = make_run(status="completed", started_at=T0, completed_at=at(3.3))
    tasks = [
        make_task("task_a", model_name="a", status="completed", rows_processed=1200),
        make_task("task_b", model_name="b", status="completed", rows_processed=1200),
        make_task("task_c", model_name="c", status="skipped"),
    ]

    flow = flow_body(run, tasks)

    assert flow.duration_seconds == 3.3
    assert flow.total_rows == 2400
    assert (flow.models_total, flow.models_succeeded, flow.models_failed) == (3, 2, 0)
    assert flow.summary.skipped == 1
    assert flow.started_at == "2026-03-01T10:05:00.113Z"


def test_a_task_reports_its_wait_and_duration_in_seconds() -> None:
    task = make_task(started_at=at(0.02), completed_at=at(0.43))

    body = task_body(task)

    assert (body.wait_time_seconds, body.duration_seconds) == (0.02, 0.41)
    assert body.flow_id == task.run_id
    assert body.enqueued_at == "2026-03-01T10:05:00.113Z"


def test_a_naive_query_instant_is_taken_as_utc() -> None:
    assert parse_instant("since", "2026-03-01") == dt.datetime(
        2026, 3, 1, tzinfo=dt.UTC
    )
    assert parse_instant("since", "2026-03-01T12:00:00+02:00") == dt.datetime(
        2026, 3, 1, 10, tzinfo=dt.UTC
    )
    with pytest.raises(ApiError):
        parse_instant("since", "yesterday")
