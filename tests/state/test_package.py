from __future__ import annotations

from pathlib import Path

import pytest

import interlace.state
from interlace.errors import StateStoreError
from interlace.state import open_state_store
from interlace.state.sqlite import SQLiteStateStore
from interlace.state.writes import InsertRun
from tests.state.factories import make_run


def test_public_names_are_sorted_and_all_exist() -> None:
    names = interlace.state.__all__

    assert names == sorted(names)
    assert all(hasattr(interlace.state, name) for name in names)


def test_open_state_store_opens_a_working_sqlite_store(tmp_path: Path) -> None:
    store = open_state_store("sqlite", tmp_path / "state.db")

    store.apply([InsertRun(run=make_run(), tasks=[])])

    assert isinstance(store, SQLiteStateStore)
    assert store.get_run("run_000000000001") == make_run()
    store.close()


def test_the_postgres_backend_is_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(
        StateStoreError, match="PostgreSQL state backend .* not available yet"
    ):
        open_state_store("postgres", tmp_path / "state.db")


def test_an_unknown_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StateStoreError, match="unknown state backend `mysql`"):
        open_state_store("mysql", tmp_path / "state.db")
