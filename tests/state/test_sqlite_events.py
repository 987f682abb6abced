from __future__ import annotations

from pathlib import Path

from interlace.state.records import EventRecord
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import AppendEvent
from tests.state.factories import at


def append(
    store: SQLiteStateStore, count: int, *, second: float = 0
) -> list[EventRecord]:
    stamp = at(second).isoformat().replace("+00:00", "Z")
    return store.apply(
        [
            AppendEvent(
                type="task.ready", flow_id="run_1", payload={"timestamp": stamp}
            )
            for _ in range(count)
        ]
    )


def test_an_empty_log_has_no_bounds(store: SQLiteStateStore) -> None:
    assert store.event_bounds() == (None, None)
    assert store.read_events(0, limit=10) == []


def test_event_ids_increase_across_batches(store: SQLiteStateStore) -> None:
    first = append(store, 3)
    second = append(store, 2)

    ids = [e.id for e in first + second]

    assert ids == sorted(ids) and len(set(ids)) == 5
    assert store.event_bounds() == (ids[0], ids[-1])


def test_read_events_returns_those_after_an_id_up_to_a_limit(
    store: SQLiteStateStore,
) -> None:
    events = append(store, 6)

    page = store.read_events(events[1].id, limit=3)

    assert page == events[2:5]


def test_prune_by_age_deletes_older_events(store: SQLiteStateStore) -> None:
    append(store, 2, second=0)
    kept = append(store, 3, second=86_400 * 8)

    deleted = store.prune_events(7, None, now=at(86_400 * 8))

    assert deleted == 2
    assert store.read_events(0, limit=10) == kept


def test_prune_by_row_count_keeps_the_newest(store: SQLiteStateStore) -> None:
    events = append(store, 5)

    deleted = store.prune_events(None, 2)

    assert deleted == 3
    assert store.read_events(0, limit=10) == events[3:]


def test_ids_are_never_reused_after_pruning_everything(
    store: SQLiteStateStore,
) -> None:
    before = append(store, 3)
    store.prune_events(None, 0)

    after = append(store, 1)

    assert store.event_bounds() == (after[0].id, after[0].id)
    assert after[0].id > before[-1].id


def test_ids_are_never_reused_after_reopening(
    store: SQLiteStateStore, state_path: Path
) -> None:
    before = append(store, 3)
    store.prune_events(None, 0)
    store.close()

    with SQLiteStateStore(state_path) as reopened:
        after = append(reopened, 1)

    assert after[0].id == before[-1].id + 1
