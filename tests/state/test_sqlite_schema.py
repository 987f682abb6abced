from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from interlace.errors import StateStoreError
from interlace.state.records import (
    EventRecord,
    ModelStateRecord,
    RunRecord,
    TaskLogRecord,
    TaskRecord,
)
from interlace.state.sqlite import MIGRATIONS, Migration, SQLiteStateStore
from interlace.state.writes import AppendTaskLogs, InsertRun
from tests.state.factories import make_log_line, make_run

NEWEST = len(MIGRATIONS)
LEDGER = [(step.version, step.name) for step in MIGRATIONS]
NEXT = Migration(
    version=NEWEST + 1,
    name="runs_note",
    statements=("ALTER TABLE runs ADD COLUMN note TEXT",),
)


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def ledger(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT version, name FROM schema_versions ORDER BY version"
        ).fetchall()


def test_opening_creates_parent_directories_and_a_wal_database(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a" / "b" / "state.db"

    SQLiteStateStore(path).close()

    with sqlite3.connect(path) as conn:
        (mode,) = conn.execute("PRAGMA journal_mode").fetchone()
    assert mode == "wal"


def test_every_table_of_the_state_schema_exists(
    store: SQLiteStateStore, state_path: Path
) -> None:
    with sqlite3.connect(state_path) as conn:
        tables = {
            row[0]
            for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }

    assert tables >= {
        "runs",
        "tasks",
        "task_logs",
        "model_state",
        "events",
        "schema_versions",
        "cursors",
        "schema_history",
        "column_lineage",
        "lineage_models",
        "scheduler_state",
        "idempotency_keys",
    }


@pytest.mark.parametrize(
    ("table", "record"),
    [
        ("runs", RunRecord),
        ("tasks", TaskRecord),
        ("task_logs", TaskLogRecord),
        ("model_state", ModelStateRecord),
        ("events", EventRecord),
    ],
)
def test_every_record_field_has_a_column(
    store: SQLiteStateStore, state_path: Path, table: str, record: type
) -> None:
    assert columns(state_path, table) == list(record.__struct_fields__)


def test_foreign_keys_are_enforced(store: SQLiteStateStore) -> None:
    with pytest.raises(StateStoreError, match="FOREIGN KEY"):
        store.apply([AppendTaskLogs(lines=[make_log_line("task_unknown", 1)])])


def test_a_new_database_records_every_migration(
    store: SQLiteStateStore, state_path: Path
) -> None:
    assert ledger(state_path) == [(1, "initial"), (2, "lineage_models")]


def test_a_database_is_upgraded_when_a_new_step_is_added(
    state_path: Path,
) -> None:
    with SQLiteStateStore(state_path) as current:
        current.apply([InsertRun(run=make_run(), tasks=[])])

    with SQLiteStateStore(state_path, migrations=(*MIGRATIONS, NEXT)) as upgraded:
        run = upgraded.get_run("run_000000000001")

    assert ledger(state_path) == [*LEDGER, (NEWEST + 1, "runs_note")]
    assert "note" in columns(state_path, "runs")
    assert run == make_run()


def test_a_v1_database_gains_the_lineage_tables_of_v2(state_path: Path) -> None:
    with SQLiteStateStore(state_path, migrations=MIGRATIONS[:1]) as v1:
        v1.apply([InsertRun(run=make_run(), tasks=[])])

    SQLiteStateStore(state_path).close()

    assert ledger(state_path)[:2] == [(1, "initial"), (2, "lineage_models")]
    assert "position" in columns(state_path, "column_lineage")
    assert columns(state_path, "lineage_models") == [
        "model_name",
        "definition_hash",
        "columns",
        "complete",
        "error",
        "computed_at",
    ]


def test_reopening_an_up_to_date_database_applies_nothing(
    state_path: Path,
) -> None:
    SQLiteStateStore(state_path).close()

    SQLiteStateStore(state_path).close()

    assert ledger(state_path) == LEDGER


def test_a_failing_step_leaves_the_previous_version_intact(
    state_path: Path,
) -> None:
    SQLiteStateStore(state_path).close()
    broken = Migration(
        version=NEWEST + 1,
        name="broken",
        statements=("CREATE TABLE extra (x INTEGER)", "NOT SQL"),
    )

    with pytest.raises(StateStoreError, match="syntax error"):
        SQLiteStateStore(state_path, migrations=(*MIGRATIONS, broken))

    assert ledger(state_path) == LEDGER
    assert columns(state_path, "extra") == []


def test_a_database_from_a_newer_version_is_refused(state_path: Path) -> None:
    SQLiteStateStore(state_path, migrations=(*MIGRATIONS, NEXT)).close()

    expected = f"schema version {NEWEST + 1}, newer than version {NEWEST}"
    with pytest.raises(StateStoreError, match=expected):
        SQLiteStateStore(state_path)


def test_migrations_must_be_numbered_without_gaps(state_path: Path) -> None:
    gap = Migration(version=NEWEST + 2, name="gap", statements=())
    found = [*range(1, NEWEST + 1), NEWEST + 2]

    with pytest.raises(ValueError, match=re.escape(f"found {found}")):
        SQLiteStateStore(state_path, migrations=(*MIGRATIONS, gap))
