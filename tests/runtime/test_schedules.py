"""Cron and interval evaluation, DST rules and the misfire policy (SPEC §9)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import msgspec
import pytest

from interlace.engine.option_values import OptionError
from interlace.runtime.schedules import (
    Schedule,
    first_fire,
    next_fire_after,
    parse_schedule,
    second,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def berlin(*parts: int, fold: int = 0) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=BERLIN, fold=fold)


def fires(schedule: Schedule, after: dt.datetime, count: int) -> list[dt.datetime]:
    result = []
    for _ in range(count):
        upcoming = schedule.next_after(after)
        assert upcoming is not None
        result.append(upcoming)
        after = upcoming
    return result


def cron(expression: str, timezone: str = "UTC") -> Schedule:
    return parse_schedule({"cron": expression, "timezone": timezone}, "UTC")


def test_cron_fires_strictly_after_the_given_moment() -> None:
    schedule = cron("15 * * * *")

    upcoming = fires(schedule, utc(2026, 3, 1, 10, 15), 2)

    assert upcoming == [utc(2026, 3, 1, 11, 15), utc(2026, 3, 1, 12, 15)]


def test_day_of_week_seven_is_sunday() -> None:
    as_seven = cron("0 12 * * 7")
    as_zero = cron("0 12 * * 0")

    upcoming = fires(as_seven, utc(2026, 3, 2), 2)

    assert upcoming == fires(as_zero, utc(2026, 3, 2), 2)
    assert [moment.weekday() for moment in upcoming] == [6, 6]


def test_when_both_day_fields_are_restricted_either_may_match() -> None:
    schedule = cron("0 0 13 * 5")

    upcoming = fires(schedule, utc(2026, 3, 1), 3)

    # Friday the 6th, Friday the 13th, then Friday the 20th.
    assert upcoming == [utc(2026, 3, 6), utc(2026, 3, 13), utc(2026, 3, 20)]


def test_lists_ranges_and_stepped_ranges_are_understood() -> None:
    schedule = cron("0,30 1-5/2 * * *")

    upcoming = fires(schedule, utc(2026, 3, 1), 7)

    assert [(m.hour, m.minute) for m in upcoming] == [
        (1, 0), (1, 30), (3, 0), (3, 30), (5, 0), (5, 30), (1, 0),
    ]  # fmt: skip


def test_cron_is_read_in_the_schedules_time_zone() -> None:
    schedule = cron("0 9 * * *", "Europe/Berlin")

    upcoming = schedule.next_after(utc(2026, 1, 15, 12))

    assert upcoming == berlin(2026, 1, 16, 9).astimezone(dt.UTC)
    assert upcoming == utc(2026, 1, 16, 8)


def test_a_cron_without_time_zone_uses_the_scheduler_default() -> None:
    schedule = parse_schedule({"cron": "0 9 * * *"}, "Europe/Berlin")

    upcoming = schedule.next_after(utc(2026, 7, 1, 12))

    assert schedule.timezone == "Europe/Berlin"
    assert upcoming == utc(2026, 7, 2, 7)


def test_a_local_time_skipped_by_the_spring_forward_gap_does_not_fire() -> None:
    schedule = cron("30 2 * * *", "Europe/Berlin")

    upcoming = fires(schedule, utc(2026, 3, 27, 12), 2)

    # 2026-03-29 02:30 does not exist in Berlin: the 28th, then the 30th.
    assert upcoming == [
        berlin(2026, 3, 28, 2, 30).astimezone(dt.UTC),
        berlin(2026, 3, 30, 2, 30).astimezone(dt.UTC),
    ]


def test_a_local_time_repeated_by_the_fall_back_overlap_fires_once() -> None:
    schedule = cron("30 2 * * *", "Europe/Berlin")

    upcoming = fires(schedule, utc(2026, 10, 24, 12), 2)

    # 02:30 happens twice on 2026-10-25 (CEST, then CET): only the first fires.
    assert upcoming == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]


def test_every_wall_time_of_the_repeated_hour_fires_exactly_once() -> None:
    schedule = cron("*/30 * * * *", "Europe/Berlin")

    upcoming = fires(schedule, berlin(2026, 10, 25, 1, 45), 4)

    assert upcoming == [
        berlin(2026, 10, 25, 2, 0, fold=0).astimezone(dt.UTC),
        berlin(2026, 10, 25, 2, 30, fold=0).astimezone(dt.UTC),
        berlin(2026, 10, 25, 3, 0).astimezone(dt.UTC),
        berlin(2026, 10, 25, 3, 30).astimezone(dt.UTC),
    ]


def test_a_moment_in_the_second_pass_of_the_overlap_does_not_refire() -> None:
    schedule = cron("*/30 * * * *", "Europe/Berlin")
    second_pass = berlin(2026, 10, 25, 2, 10, fold=1)

    upcoming = schedule.next_after(second_pass)

    assert upcoming == berlin(2026, 10, 25, 3, 0).astimezone(dt.UTC)


def test_a_cron_that_can_never_match_never_fires() -> None:
    schedule = cron("0 0 30 2 *")

    assert schedule.next_after(utc(2026, 1, 1)) is None


def test_an_interval_accepts_numeric_strings() -> None:
    schedule = parse_schedule({"every_s": "90"}, "UTC")

    upcoming = schedule.next_after(utc(2026, 3, 1, 10))

    assert schedule.every_s == 90
    assert upcoming == utc(2026, 3, 1, 10, 1, 30)


@pytest.mark.parametrize(
    "value",
    [{"every_s": 0.5}, {"every_s": "soon"}, {"cron": "* * *"}, {"cron": "61 * * * *"}],
)
def test_invalid_schedules_are_refused_like_at_discovery(value: object) -> None:
    with pytest.raises(OptionError, match="`schedule"):
        parse_schedule(value, "UTC")  # type: ignore[arg-type]


def test_an_unknown_time_zone_is_refused() -> None:
    with pytest.raises(OptionError, match="unknown time zone 'Mars/Olympus'"):
        parse_schedule({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "UTC")


def test_the_api_shape_omits_the_default_concurrency() -> None:
    by_cron = cron("5 * * * *")
    by_interval = parse_schedule({"every_s": 300, "max_concurrency": 2}, "UTC")

    assert by_cron.describe() == {"cron": "5 * * * *", "timezone": "UTC"}
    assert msgspec.json.encode(by_interval.describe()) == (
        b'{"every_s":300,"max_concurrency":2}'
    )


def test_a_model_that_never_ran_fires_once_at_start_up() -> None:
    now = utc(2026, 3, 1, 10, 0, 7, 250_000)

    fire = first_fire(cron("0 3 * * *"), None, now)

    assert fire == utc(2026, 3, 1, 10, 0, 7)


def test_a_recent_last_run_waits_for_the_next_occurrence() -> None:
    last_run = utc(2026, 3, 1, 9, 5, 3)

    fire = first_fire(cron("5 * * * *"), last_run, utc(2026, 3, 1, 9, 30))

    assert fire == utc(2026, 3, 1, 10, 5)


def test_missed_occurrences_fire_once_now_and_are_not_replayed() -> None:
    schedule = cron("5 * * * *")
    now = utc(2026, 3, 1, 15, 30)

    fire = first_fire(schedule, utc(2026, 3, 1, 9, 5, 3), now)
    following = next_fire_after(schedule, fire, now)

    assert fire == now
    assert following == utc(2026, 3, 1, 16, 5)


def test_an_interval_keeps_its_cadence_when_ticks_are_slightly_late() -> None:
    schedule = parse_schedule({"every_s": 10}, "UTC")
    fired = utc(2026, 3, 1, 10, 0, 0)

    following = next_fire_after(schedule, fired, utc(2026, 3, 1, 10, 0, 0, 900_000))

    assert following == utc(2026, 3, 1, 10, 0, 10)


def test_an_interval_drops_the_occurrences_a_late_tick_missed() -> None:
    schedule = parse_schedule({"every_s": 10}, "UTC")
    fired = utc(2026, 3, 1, 10, 0, 0)

    following = next_fire_after(schedule, fired, utc(2026, 3, 1, 10, 0, 35))

    assert following == utc(2026, 3, 1, 10, 0, 40)


def test_naive_datetimes_are_refused_rather_than_read_as_local_time() -> None:
    naive = dt.datetime(2026, 3, 1)  # noqa: DTZ001 - the point of the test

    with pytest.raises(ValueError, match="timezone-aware"):
        second(naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        cron("* * * * *").next_after(naive)
