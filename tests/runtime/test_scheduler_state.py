"""The scheduler's rows in the state store (`scheduler_state`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from interlace.state.records import SchedulerStateRecord
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import SaveSchedulerState

T0 = dt.datetime(2026, 3, 1, 10, 5, 3, 113_000, tzinfo=dt.UTC)


def state(**changes: object) -> SchedulerStateRecord:
    fields: dict[str, object] = {
        "model_name": "hourly",
        "last_run_at": T0,
        "next_fire_at": T0 + dt.timedelta(hours=1),
        "paused": False,
        "updated_at": T0,
        **changes,
    }
    return SchedulerStateRecord(**fields)  # type: ignore[arg-type]


def test_a_saved_scheduler_state_reads_back_equal(tmp_path: Path) -> None:
    with SQLiteStateStore(tmp_path / "state.db") as store:
        store.apply([SaveSchedulerState(state=state())])

        states = store.scheduler_states()

    assert states == {"hourly": state()}


def test_saving_again_replaces_every_field_including_nones(tmp_path: Path) -> None:
    paused = state(next_fire_at=None, paused=True, updated_at=T0 + dt.timedelta(1))

    with SQLiteStateStore(tmp_path / "state.db") as store:
        store.apply([SaveSchedulerState(state=state())])
        store.apply([SaveSchedulerState(state=paused)])

        states = store.scheduler_states()

    assert states == {"hourly": paused}
    assert states["hourly"].paused is True


def test_scheduler_state_survives_reopening_the_store(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with SQLiteStateStore(path) as store:
        store.apply(
            [
                SaveSchedulerState(state=state()),
                SaveSchedulerState(state=state(model_name="daily", last_run_at=None)),
            ]
        )

    with SQLiteStateStore(path) as reopened:
        states = reopened.scheduler_states()

    assert sorted(states) == ["daily", "hourly"]
    assert states["daily"].last_run_at is None
