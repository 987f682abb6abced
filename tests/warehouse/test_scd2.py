"""The scd_type_2 strategy (SPEC §4.8)."""

from __future__ import annotations

import hashlib

import pytest

from interlace.engine.definition import Strategy
from interlace.errors import WriteError

ALL = "SELECT * FROM s.dim ORDER BY id, valid_from"


@pytest.fixture
def scd2(define):
    def make(**config):
        return define(
            "dim",
            strategy=Strategy.SCD_TYPE_2,
            primary_key=("id",),
            scd2_config=config or None,
        )

    return make


def current(fetch, extra=""):
    return fetch(
        f"SELECT id, v{extra} FROM s.dim WHERE is_current ORDER BY id NULLS FIRST"
    )


def assert_one_current_row_per_key(fetch):
    counts = fetch(
        "SELECT id, count(*) FILTER (WHERE is_current) FROM s.dim GROUP BY id"
        " HAVING count(*) FILTER (WHERE is_current) > 1"
    )
    assert counts == []


def test_first_run_inserts_current_rows_with_history_columns(scd2, write, fetch):
    result = write(scd2(), [{"id": 1, "v": "a"}, {"id": 2, "v": None}])

    rows = fetch("SELECT id, v, valid_to, is_current FROM s.dim ORDER BY id")
    assert rows == [(1, "a", None, True), (2, None, None, True)]
    columns = [row[0] for row in fetch("DESCRIBE s.dim")]
    assert columns == ["id", "v", "_scd2_hash", "valid_from", "valid_to", "is_current"]
    assert result.rows_inserted == 2


def test_hash_is_md5_of_tracked_columns_with_null_as_empty(scd2, write, fetch):
    write(scd2(), [{"id": 1, "v": None, "w": 3}])

    (digest,) = fetch("SELECT _scd2_hash FROM s.dim")[0]

    assert digest == hashlib.md5(b"|3").hexdigest()


def test_changed_key_closes_current_row_and_inserts_new_version(scd2, write, fetch):
    model = scd2()
    write(model, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])

    result = write(
        model, [{"id": 1, "v": "A"}, {"id": 2, "v": "b"}, {"id": 3, "v": "c"}]
    )

    history = fetch(
        "SELECT id, v, is_current, valid_to IS NULL FROM s.dim ORDER BY id, valid_from"
    )
    assert history == [
        (1, "a", False, False),
        (1, "A", True, True),
        (2, "b", True, True),
        (3, "c", True, True),
    ]
    closed, opened = fetch(
        "SELECT (SELECT valid_to FROM s.dim WHERE v = 'a'), "
        "(SELECT valid_from FROM s.dim WHERE v = 'A')"
    )[0]
    assert closed == opened
    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (1, 1, 0)
    assert_one_current_row_per_key(fetch)


def test_rerun_with_same_data_leaves_exactly_the_same_rows(scd2, write, fetch):
    model = scd2()
    batch = [{"id": 1, "v": "a"}, {"id": 2, "v": None}]
    write(model, batch)
    before = fetch(ALL)

    result = write(model, batch)

    assert fetch(ALL) == before
    assert (result.rows_inserted, result.rows_updated, result.rows_deleted) == (0, 0, 0)


def test_delete_mode_ignore_keeps_absent_keys_current(scd2, write, fetch):
    model = scd2()
    write(model, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])

    result = write(model, [{"id": 1, "v": "a"}])

    assert current(fetch) == [(1, "a"), (2, "b")]
    assert result.rows_deleted == 0


def test_delete_mode_soft_closes_absent_keys(scd2, write, fetch):
    model = scd2(delete_mode="soft")
    write(model, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])

    result = write(model, [{"id": 1, "v": "a"}])

    assert current(fetch) == [(1, "a")]
    assert fetch("SELECT valid_to IS NOT NULL FROM s.dim WHERE id = 2") == [(True,)]
    assert result.rows_deleted == 1
    assert_one_current_row_per_key(fetch)


def test_delete_mode_soft_mark_flags_closed_rows_and_revives_keys(scd2, write, fetch):
    model = scd2(delete_mode="soft_mark")
    write(model, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])
    write(model, [{"id": 1, "v": "a"}])

    write(model, [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}])

    history = fetch(
        "SELECT id, is_current, is_deleted FROM s.dim ORDER BY id, valid_from"
    )
    assert history == [(1, True, False), (2, False, True), (2, True, False)]
    assert_one_current_row_per_key(fetch)


def test_custom_column_names_and_tracked_columns(scd2, write, fetch):
    model = scd2(
        valid_from_col="since",
        valid_to_col="until",
        is_current_col="live",
        hash_col="h",
        tracked_columns=["v"],
    )
    write(model, [{"id": 1, "v": "a", "noise": 1}])

    result = write(model, [{"id": 1, "v": "a", "noise": 2}])

    assert result.rows_updated == 0
    assert fetch("SELECT count(*), bool_and(live) FROM s.dim") == [(1, True)]
    assert {"since", "until", "live", "h"} <= {r[0] for r in fetch("DESCRIBE s.dim")}


def test_null_keys_are_versioned_like_any_key(scd2, write, fetch):
    model = scd2()
    write(model, [{"id": None, "v": "a"}])

    write(model, [{"id": None, "v": "b"}])

    assert current(fetch) == [(None, "b")]
    assert fetch("SELECT count(*) FROM s.dim") == [(2,)]


def test_duplicate_batch_keys_fail_and_leave_history_unchanged(scd2, write, fetch):
    model = scd2()
    write(model, [{"id": 1, "v": "a"}])
    before = fetch(ALL)

    with pytest.raises(WriteError, match="duplicate primary key values: 1 key"):
        write(model, [{"id": 2, "v": "x"}, {"id": 2, "v": "y"}])

    assert fetch(ALL) == before


def test_result_column_named_like_a_history_column_is_rejected(scd2, write):
    with pytest.raises(WriteError, match="`is_current`"):
        write(scd2(), [{"id": 1, "is_current": True}])


def test_invalid_delete_mode_is_rejected(scd2, write):
    with pytest.raises(WriteError, match="expected ignore, soft or soft_mark"):
        write(scd2(delete_mode="hard"), [{"id": 1, "v": "a"}])
