"""Working time: weekends, public holidays, a company-wide holiday week, PTO."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

# Relative busyness of each weekday (Mon..Fri), normalised so a week's mean is 1.
_WEEKDAY = (1.04, 1.1, 1.06, 1.0, 0.8)
WEEKDAY_FACTOR = tuple(f * len(_WEEKDAY) / sum(_WEEKDAY) for f in _WEEKDAY)


def _nth_weekday(year: int, month: int, weekday: int, nth: int) -> date:
    """The nth (1-based; -1 = last) given weekday of a month."""
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (nth - 1))
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def public_holidays(year: int) -> frozenset[date]:
    """One org-wide holiday calendar (US-style; the simulated org observes it everywhere)."""
    return frozenset(
        {
            date(year, 1, 1),
            _nth_weekday(year, 5, 0, -1),  # Memorial Day
            date(year, 7, 3) if date(year, 7, 4).weekday() == 5 else date(year, 7, 4),
            _nth_weekday(year, 9, 0, 1),  # Labor Day
            _nth_weekday(year, 11, 3, 4),  # Thanksgiving
            _nth_weekday(year, 11, 3, 4) + timedelta(days=1),
            date(year, 12, 25),
            date(year, 12, 26),
        }
    )


@dataclass(frozen=True)
class OrgCalendar:
    """Which days the whole org works."""

    start: date
    end: date  # exclusive
    holiday_week_start: date | None  # a Monday: the company shuts for that week

    def holidays(self) -> frozenset[date]:
        days: set[date] = set()
        for year in range(self.start.year, self.end.year + 1):
            days |= public_holidays(year)
        if self.holiday_week_start is not None:
            days |= {self.holiday_week_start + timedelta(days=n) for n in range(5)}
        return frozenset(d for d in days if self.start <= d < self.end)

    def days(self) -> Iterator[date]:
        day = self.start
        while day < self.end:
            yield day
            day += timedelta(days=1)


def is_weekday(day: date) -> bool:
    return day.weekday() < 5


def add_working_days(day: date, count: int, off: frozenset[date] | set[date]) -> date:
    """The working day `count` working days after `day` (weekends and `off` skipped)."""
    while count > 0:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in off:
            count -= 1
    return day


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def next_quarter_start(day: date) -> date:
    start = quarter_start(day)
    return date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)


def month_start(day: date) -> date:
    return day.replace(day=1)
