"""When a model's schedule fires: cron and interval evaluation (SPEC §9).

Cron expressions are matched against local wall-clock time in the schedule's
time zone, then converted to UTC here rather than by croniter, so that the
daylight-saving rules are explicit: a local time skipped by a spring-forward
gap does not exist and never fires; a local time repeated by a fall-back
overlap fires once, at its first occurrence.

Instants are timezone-aware UTC datetimes. The scheduler ticks on whole
seconds, so "now" at start-up and on resume is truncated to its second:
interval schedules then fall on ticks, and models due in the same second
share a run.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import zoneinfo
from collections.abc import Mapping
from typing import Any

import msgspec
from croniter import CroniterBadDateError, croniter

from interlace.engine.option_values import VALIDATORS, OptionError

__all__ = ["Schedule", "first_fire", "next_fire_after", "parse_schedule", "second"]

# Candidates skipped in a row before a cron expression is declared unable to
# fire: a DST gap or overlap skips at most a few hundred minutes, and
# impossible dates (`0 0 30 2 *`) make croniter give up on its own.
_MAX_SKIPPED_CANDIDATES = 5000


class Schedule(msgspec.Struct, frozen=True, kw_only=True):
    """A validated schedule: exactly one of `cron` or `every_s` is set."""

    cron: str | None = None
    timezone: str = "UTC"
    """The zone `cron` is read in; ignored by interval schedules."""
    every_s: float | None = None
    """Seconds between fires (an int when whole, as written)."""
    max_concurrency: int = 1
    """Scheduled runs of the model that may be active at once."""

    def next_after(self, moment: dt.datetime) -> dt.datetime | None:
        """The first fire strictly after `moment` (UTC), or None if never."""
        if moment.tzinfo is None:
            raise ValueError(f"expected a timezone-aware datetime, got {moment!r}")
        if self.every_s is not None:
            return moment + dt.timedelta(seconds=self.every_s)
        if self.cron is None:
            raise ValueError("a `Schedule` needs `cron` or `every_s`")
        return _next_cron(self.cron, _zone(self.timezone), moment)

    def describe(self) -> dict[str, Any]:
        """The schedule as the API shows it (`max_concurrency` only if not 1)."""
        shown: dict[str, Any] = (
            {"every_s": self.every_s}
            if self.every_s is not None
            else {"cron": self.cron, "timezone": self.timezone}
        )
        if self.max_concurrency != 1:
            shown["max_concurrency"] = self.max_concurrency
        return shown


def parse_schedule(value: Mapping[str, Any], default_timezone: str) -> Schedule:
    """A `Schedule` from a model's `schedule` option.

    Uses the discovery validator, so definitions (already validated) pass
    unchanged and raw values are held to exactly the same rules; raises
    `OptionError` naming the option.
    """
    checked = VALIDATORS["schedule"](value)
    return Schedule(
        cron=checked.get("cron"),
        timezone=checked.get("timezone", default_timezone),
        every_s=checked.get("every_s"),
        max_concurrency=checked["max_concurrency"],
    )


def first_fire(
    schedule: Schedule, last_run_at: dt.datetime | None, now: dt.datetime
) -> dt.datetime | None:
    """The next fire at start-up, by the misfire policy "run once".

    The next occurrence after the last run; when that is already past, or the
    model never ran, one fire now. Missed occurrences are not replayed.
    """
    now = second(now)
    if last_run_at is None:
        return now
    upcoming = schedule.next_after(last_run_at)
    if upcoming is None:
        return None
    return max(upcoming, now)


def next_fire_after(
    schedule: Schedule, fired: dt.datetime, now: dt.datetime
) -> dt.datetime | None:
    """The fire after the one due at `fired`, handled at `now`.

    Cron: the first occurrence after `now`. Interval: the first multiple of
    `every_s` after `fired` that lies after `now`, which keeps the cadence
    and drops the occurrences a late tick missed.
    """
    if schedule.every_s is None:
        return schedule.next_after(now)
    elapsed = (now - fired).total_seconds()
    steps = max(1, math.floor(elapsed / schedule.every_s) + 1)
    return fired + dt.timedelta(seconds=steps * schedule.every_s)


def second(moment: dt.datetime) -> dt.datetime:
    """`moment` in UTC, truncated to its whole second."""
    if moment.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got naive {moment!r}")
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _next_cron(
    expression: str, zone: zoneinfo.ZoneInfo, after: dt.datetime
) -> dt.datetime | None:
    wall = after.astimezone(zone).replace(tzinfo=None)
    candidates = croniter(expression, wall)
    for _ in range(_MAX_SKIPPED_CANDIDATES):
        try:
            local: dt.datetime = candidates.get_next(dt.datetime)
        except CroniterBadDateError:
            return None
        fire = _wall_to_utc(local, zone)
        # A repeated wall time resolves to its first occurrence, which lies
        # before `after` when `after` is in the second pass of an overlap.
        if fire is not None and fire > after:
            return fire
    return None


def _wall_to_utc(local: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """The UTC instant of a naive local time; None if DST skipped it.

    `fold=0` picks the first of two occurrences. A skipped time does not
    survive the round trip (02:30 in a 02:00 -> 03:00 gap comes back 03:30).
    """
    instant = local.replace(tzinfo=zone, fold=0).astimezone(dt.UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != local:
        return None
    return instant


@functools.lru_cache(maxsize=64)
def _zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise OptionError(f"`schedule.timezone`: unknown time zone {name!r}") from exc
