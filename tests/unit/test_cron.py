"""The five-field cron parser the fresh-per-day benchmark runs `cron.job` with."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devtools.bench.cron import CronError, Schedule

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday, 00:00


def minutes(text: str, hours: int = 24) -> list[str]:
    start = MONDAY
    return [
        f"{t:%d %H:%M}" for t in Schedule.parse(text).firings(start, start + timedelta(hours=hours))
    ]


def test_numbers_stars_steps_lists_and_ranges() -> None:
    assert minutes("7 * * * *", 3) == ["07 00:07", "07 01:07", "07 02:07"]
    assert minutes("41 5 * * *") == ["07 05:41"]
    assert len(minutes("* * * * *", 2)) == 120
    assert minutes("*/20 1 * * *") == ["07 01:00", "07 01:20", "07 01:40"]
    assert minutes("0,30 2-3 * * *") == ["07 02:00", "07 02:30", "07 03:00", "07 03:30"]
    assert minutes("5-15/5 0 * * *") == ["07 00:05", "07 00:10", "07 00:15"]
    assert minutes("10/25 0 * * *") == ["07 00:10", "07 00:35"]


def test_days_months_and_weekdays() -> None:
    assert minutes("23 4 1 * *", 24 * 31) == ["01 04:23"]  # the first of January
    assert minutes("0 0 * * 1", 24 * 8) == ["07 00:00", "14 00:00"]
    assert minutes("0 0 * * 0", 24 * 8) == minutes("0 0 * * 7", 24 * 8) == ["13 00:00"]
    # both restricted: either matches
    assert minutes("0 0 8 * 3", 24 * 10) == ["08 00:00", "09 00:00", "16 00:00"]
    assert minutes("0 0 * 11 *", 24 * 30) == []


def test_matches_and_frequency() -> None:
    schedule = Schedule.parse("17 * * * *")
    assert schedule.matches(MONDAY.replace(minute=17))
    assert not schedule.matches(MONDAY.replace(minute=18))
    assert schedule.per_hour == 1 and Schedule.parse("*/5 * * * *").per_hour == 12


@pytest.mark.parametrize(
    "text", ["* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *"]
)
def test_bad_schedules_are_refused(text: str) -> None:
    with pytest.raises(CronError):
        Schedule.parse(text)
