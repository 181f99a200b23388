"""Five-field cron schedules (pg_cron 1.4's: minute hour day-of-month month day-of-week), so a
benchmark can run `cron.job`'s commands on a compressed clock when they come due.

Fields take numbers, `*`, `*/n`, `a-b`, `a-b/n` and comma lists of those; day of week 0-7
(0 and 7 are Sunday). As in cron, when both day of month and day of week are restricted, a
day matches if either does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12), ("dow", 0, 7))


class CronError(ValueError):
    """A schedule this parser cannot read; the message names the field."""


def _field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base == "*":
                start, end = low, high
            elif "-" in base:
                first, last = base.split("-", 1)
                start, end = int(first), int(last)
            else:
                start = int(base)
                end = high if step_text else start
        except ValueError as exc:
            raise CronError(f"{name}: cannot read {part!r}") from exc
        if step < 1 or not low <= start <= end <= high:
            raise CronError(f"{name}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True)
class Schedule:
    minute: frozenset[int]
    hour: frozenset[int]
    day: frozenset[int]
    month: frozenset[int]
    dow: frozenset[int]  # 0 = Sunday (7 folded into 0)
    any_day: bool  # day-of-month field was `*`
    any_dow: bool  # day-of-week field was `*`

    @classmethod
    def parse(cls, text: str) -> Schedule:
        parts = text.split()
        if len(parts) != 5:
            raise CronError(f"{text!r}: want 5 fields (minute hour day month weekday)")
        minute, hour, day, month, dow = (
            _field(p, *spec) for p, spec in zip(parts, _FIELDS, strict=True)
        )
        sunday_is_0 = frozenset(d % 7 for d in dow)
        return cls(minute, hour, day, month, sunday_is_0, parts[2] == "*", parts[4] == "*")

    def matches(self, at: datetime) -> bool:
        """True when the schedule fires in `at`'s minute."""
        if at.minute not in self.minute or at.hour not in self.hour:
            return False
        if at.month not in self.month:
            return False
        in_month, in_week = at.day in self.day, (at.isoweekday() % 7) in self.dow
        if self.any_day or self.any_dow:
            return in_month and in_week
        return in_month or in_week

    def firings(self, start: datetime, end: datetime) -> Iterator[datetime]:
        """The minutes in [start, end) when the schedule fires."""
        at = start.replace(second=0, microsecond=0)
        if at < start:
            at += timedelta(minutes=1)
        while at < end:
            if self.matches(at):
                yield at
            at += timedelta(minutes=1)

    @property
    def per_hour(self) -> int:
        """Firings within an hour in which it fires (60 for `* * * * *`)."""
        return len(self.minute)
