"""The scheduler actor against a real runtime, driven by a manual clock.

`tick_s=None` starts no ticker: each test moves the clock and ticks by hand,
so fires happen exactly when the test says. An ask to the actor (`status`)
is answered after every message sent before it, so it doubles as a barrier.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from interlace.engine.project import Project
from interlace.runtime.runtime import Runtime
from interlace.runtime.scheduler import SchedulerHandle, start_scheduler
from interlace.state.records import EventRecord, RunRecord, SchedulerStateRecord
from interlace.state.store import RunFilter
from interlace.state.writes import SaveSchedulerState
from tests.conftest import ProjectFactory

T0 = dt.datetime(2026, 3, 1, 10, 0, 0, tzinfo=dt.UTC)
WAIT_S = 20.0

EVERY_MINUTE = """
    from interlace import model

    @model(schedule={"every_s": 60})
    def NAME():
        return [{"n": 1}]
    """

SLOW = """
    import pathlib
    import time

    from interlace import model

    GATE = pathlib.Path(__file__).parent.parent / "release"

    @model(schedule={"every_s": 1})
    def slow():
        deadline = time.monotonic() + 20
        while not GATE.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return [{"n": 1}]
    """


class EventLog:
    """A listener keeping every delivered event (list appends are atomic)."""

    def __init__(self) -> None:
        self.events: list[EventRecord] = []

    def deliver(self, events: list[EventRecord]) -> None:
        self.events.extend(events)


class ManualClock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class Harness:
    """A started runtime and a scheduler on a manual clock."""

    def __init__(self, root: Path, clock: ManualClock) -> None:
        self.root = root
        self.clock = clock
        self.runtime = Runtime(Project.load(root)).start()
        self.scheduler: SchedulerHandle | None = None

    def start_scheduler(self, *, firing: bool = True) -> SchedulerHandle:
        runtime = self.runtime
        self.scheduler = start_scheduler(
            project=runtime.project,
            store=runtime.store,
            submit=runtime.submit,
            write=runtime.write,
            clock=self.clock,
            firing=firing,
            tick_s=None,
        )
        return self.scheduler

    @property
    def handle(self) -> SchedulerHandle:
        assert self.scheduler is not None
        return self.scheduler

    def tick_at(self, advance_s: float) -> None:
        self.clock.advance(advance_s)
        self.handle.tick()
        self.handle.status()

    def model(self, name: str) -> Any:
        models = {item.model: item for item in self.handle.status().models}
        return models[name]

    def scheduled_runs(self) -> list[RunRecord]:
        self.runtime.flush()
        runs, _ = self.runtime.store.list_runs(
            RunFilter(trigger_type="schedule"), limit=100
        )
        return runs

    def wait_for_end(self, name: str, run_count: int = 1) -> Any:
        """Wait until `name` has no active run and `run_count` scheduled runs."""

        def ended() -> bool:
            model = self.model(name)
            return model.active_run_id is None and model.last_run_id is not None

        wait_until(ended)
        self.runtime.flush()
        assert len(self.scheduled_runs()) == run_count
        return self.model(name)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        self.runtime.stop()


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(0.02)


@pytest.fixture
def harnesses() -> Iterator[list[Harness]]:
    started: list[Harness] = []
    yield started
    for harness in started:
        harness.stop()


@pytest.fixture
def open_harness(
    harnesses: list[Harness],
) -> Callable[[Path, ManualClock], Harness]:
    def open_(root: Path, clock: ManualClock) -> Harness:
        harness = Harness(root, clock)
        harnesses.append(harness)
        return harness

    return open_


def every_minute(name: str) -> str:
    return EVERY_MINUTE.replace("NAME", name)


def test_models_due_in_the_same_second_share_one_forced_run(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project(
        {
            "source.sql": "SELECT 1 AS id",
            "alpha.py": every_minute("alpha").replace(
                "def alpha()", "def alpha(source)"
            ),
            "beta.py": every_minute("beta"),
        }
    )
    harness = open_harness(root, ManualClock(T0))
    harness.start_scheduler()
    harness.wait_for_end("alpha")

    harness.tick_at(60)
    harness.wait_for_end("beta", run_count=2)

    second, first = harness.scheduled_runs()
    assert harness.model("alpha").last_run_id == second.run_id
    assert harness.model("beta").last_run_id == second.run_id
    assert (second.trigger_type, second.trigger_id) == ("schedule", "alpha,beta")
    tasks = {t.model_name: t for t in harness.runtime.store.get_tasks(second.run_id)}
    assert tasks["alpha"].status == "completed"
    assert tasks["beta"].status == "completed"
    # The upstream of a scheduled model keeps change detection.
    assert (tasks["source"].status, tasks["source"].skipped_reason) == (
        "skipped",
        "no_changes",
    )
    assert first.trigger_id == "alpha,beta"


def test_a_finished_run_records_last_run_and_the_next_fire(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project({"hourly.py": every_minute("hourly")})
    harness = open_harness(root, ManualClock(T0))
    harness.start_scheduler()

    model = harness.wait_for_end("hourly")

    (run,) = harness.scheduled_runs()
    assert model.last_run_id == run.run_id
    assert model.last_status == "completed"
    assert model.last_run_at == run.completed_at
    assert model.next_fire_at == T0 + dt.timedelta(seconds=60)
    stored = harness.runtime.store.scheduler_states()["hourly"]
    assert stored.last_run_at == run.completed_at


def test_a_failed_run_is_recorded_as_the_last_run_too(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    failing = every_minute("broken").replace(
        'return [{"n": 1}]', 'raise ValueError("boom")'
    )
    root = make_project({"broken.py": failing})
    harness = open_harness(root, ManualClock(T0))
    harness.start_scheduler()

    model = harness.wait_for_end("broken")

    assert model.last_status == "failed"
    assert harness.runtime.store.scheduler_states()["broken"].last_run_at is not None


def test_a_recent_last_run_waits_for_the_next_occurrence_at_start_up(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project({"hourly.py": every_minute("hourly")})
    harness = open_harness(root, ManualClock(T0))
    remember_last_run(harness, "hourly", T0 - dt.timedelta(seconds=20))

    harness.start_scheduler()
    harness.tick_at(1)

    assert harness.model("hourly").next_fire_at == T0 + dt.timedelta(seconds=40)
    assert harness.scheduled_runs() == []


def test_a_misfire_fires_once_at_start_up_without_replaying(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project({"hourly.py": every_minute("hourly")})
    harness = open_harness(root, ManualClock(T0))
    remember_last_run(harness, "hourly", T0 - dt.timedelta(hours=5))

    harness.start_scheduler()
    harness.wait_for_end("hourly")
    harness.tick_at(1)
    harness.tick_at(1)

    assert len(harness.scheduled_runs()) == 1
    assert harness.model("hourly").next_fire_at == T0 + dt.timedelta(seconds=60)


def test_a_tick_is_skipped_while_the_previous_scheduled_run_is_active(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project({"slow.py": SLOW})
    harness = open_harness(root, ManualClock(T0))
    collector = EventLog()
    harness.runtime.subscribe(collector)
    harness.start_scheduler()
    wait_until(lambda: harness.model("slow").active_run_id is not None)
    active = harness.model("slow").active_run_id

    harness.tick_at(1)
    harness.runtime.flush()
    wait_until(lambda: any(e.type == "schedule.skipped" for e in collector.events))

    (skipped,) = [e for e in collector.events if e.type == "schedule.skipped"]
    assert skipped.flow_id is None
    assert skipped.payload["model"] == "slow"
    assert skipped.payload["reason"] == "previous_run_active"
    assert skipped.payload["active_run_id"] == active
    assert len(harness.scheduled_runs()) == 1
    (root / "release").touch()
    harness.wait_for_end("slow")
    harness.tick_at(1)
    assert len(harness.scheduled_runs()) == 2


def test_pause_and_resume_persist_across_a_restart(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project({"hourly.py": every_minute("hourly")})
    first = open_harness(root, ManualClock(T0))
    first.start_scheduler()
    first.wait_for_end("hourly")
    paused = first.handle.pause("hourly")
    first.stop()

    later = ManualClock(T0 + dt.timedelta(minutes=10))
    second = open_harness(root, later)
    second.start_scheduler()
    second.tick_at(1)
    still_paused = second.model("hourly")
    resumed = second.handle.resume("hourly")
    second.tick_at(1)

    assert paused is not None
    assert (paused.paused, paused.next_fire_at) == (True, None)
    assert (still_paused.paused, still_paused.next_fire_at) == (True, None)
    assert resumed is not None
    assert resumed.paused is False
    # From now on, without catching up the ten missed minutes.
    assert resumed.next_fire_at == T0 + dt.timedelta(minutes=11, seconds=1)
    assert len(second.scheduled_runs()) == 1
    second.runtime.flush()
    assert second.runtime.store.scheduler_states()["hourly"].paused is False


def test_pause_and_resume_are_idempotent(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project({"hourly.py": every_minute("hourly")})
    harness = open_harness(root, ManualClock(T0))
    remember_last_run(harness, "hourly", T0)
    harness.start_scheduler()

    harness.handle.pause("hourly")
    again = harness.handle.pause("hourly")
    harness.handle.resume("hourly")
    harness.clock.advance(30)
    resumed_again = harness.handle.resume("hourly")

    assert again is not None and again.paused is True
    assert resumed_again is not None
    assert resumed_again.next_fire_at == T0 + dt.timedelta(seconds=60)


def test_models_without_a_schedule_are_not_the_schedulers(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project(
        {"plain.sql": "SELECT 1 AS id", "hourly.py": every_minute("hourly")}
    )
    harness = open_harness(root, ManualClock(T0))
    harness.start_scheduler(firing=False)

    status = harness.handle.status()

    assert [model.model for model in status.models] == ["hourly"]
    assert harness.handle.pause("plain") is None
    assert harness.handle.pause("missing") is None


def test_a_scheduler_that_does_not_fire_still_persists_a_pause(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project({"hourly.py": every_minute("hourly")})
    harness = open_harness(root, ManualClock(T0))
    harness.start_scheduler(firing=False)

    harness.tick_at(1)
    paused = harness.handle.pause("hourly")
    status = harness.handle.status()
    harness.runtime.flush()

    assert status.running is False
    assert paused is not None and paused.next_fire_at is None
    assert harness.scheduled_runs() == []
    assert harness.runtime.store.scheduler_states()["hourly"].paused is True


def test_a_halted_scheduler_stops_firing_but_answers(
    make_project: ProjectFactory, open_harness: Callable[..., Harness]
) -> None:
    root = make_project({"hourly.py": every_minute("hourly")})
    harness = open_harness(root, ManualClock(T0))
    harness.start_scheduler()
    harness.wait_for_end("hourly")

    harness.handle.halt()
    harness.tick_at(120)

    assert harness.handle.status().running is False
    assert len(harness.scheduled_runs()) == 1


def test_a_one_second_interval_fires_through_the_runtimes_own_timer(
    make_project: ProjectFactory,
) -> None:
    schedule = '{"every_s": 1}'
    root = make_project(
        {
            "tick.py": EVERY_MINUTE.replace("NAME", "tick").replace(
                '{"every_s": 60}', schedule
            )
        }
    )
    runtime = Runtime(Project.load(root)).start()
    try:
        handle = runtime.start_scheduler()

        def ended_runs() -> int:
            runs, _ = runtime.store.list_runs(
                RunFilter(trigger_type="schedule", status="completed"), limit=10
            )
            return len(runs)

        started = time.monotonic()
        wait_until(lambda: ended_runs() >= 2, timeout=5.0)
        elapsed = time.monotonic() - started

        assert runtime.scheduler is handle
        assert handle.status().running is True
        assert elapsed < 5.0
    finally:
        runtime.stop()
    assert runtime.scheduler is None


def remember_last_run(harness: Harness, model: str, at: dt.datetime) -> None:
    record = SchedulerStateRecord(model_name=model, last_run_at=at, updated_at=at)
    harness.runtime.write([SaveSchedulerState(state=record)])
    harness.runtime.flush()
