from __future__ import annotations

import datetime as dt
import re

import pytest

from interlace.state.ids import iso_utc, new_run_id, new_task_id, utc_now


def test_run_ids_are_run_and_twelve_lowercase_hex_digits() -> None:
    ids = {new_run_id() for _ in range(100)}

    assert all(re.fullmatch(r"run_[0-9a-f]{12}", run_id) for run_id in ids)
    assert len(ids) == 100


def test_task_ids_are_task_and_twelve_lowercase_hex_digits() -> None:
    assert re.fullmatch(r"task_[0-9a-f]{12}", new_task_id())


def test_utc_now_is_timezone_aware_utc() -> None:
    assert utc_now().utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            dt.datetime(2026, 3, 1, 10, 5, 0, 113999, tzinfo=dt.UTC),
            "2026-03-01T10:05:00.113Z",
        ),
        (dt.datetime(2026, 3, 1, 10, 5, tzinfo=dt.UTC), "2026-03-01T10:05:00.000Z"),
        (
            dt.datetime(2026, 3, 1, 10, 5, 0, 7, tzinfo=dt.UTC),
            "2026-03-01T10:05:00.000Z",
        ),
        (
            dt.datetime(
                2026, 3, 1, 0, 30, 0, 5000, tzinfo=dt.timezone(dt.timedelta(hours=2))
            ),
            "2026-02-28T22:30:00.005Z",
        ),
    ],
)
def test_iso_utc_renders_utc_with_truncated_milliseconds(
    value: dt.datetime, expected: str
) -> None:
    assert iso_utc(value) == expected


def test_iso_utc_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        iso_utc(dt.datetime(2026, 3, 1))  # noqa: DTZ001 - the point of the test
