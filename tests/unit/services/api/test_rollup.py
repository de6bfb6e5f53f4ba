"""The metrics view's pure parts: day ranges, gap-filling, totals and rates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.api.errors import InvalidParam
from services.api.reps.rollup import (
    days_before,
    gap_fill,
    rates,
    ratio,
    resolve_range,
    sum_counts,
)
from services.api.reps.schemas import ActivityCounts, DayBucket

ANCHOR = date(2026, 1, 31)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (None, None, (date(2026, 1, 4), ANCHOR)),
        (None, date(2026, 1, 10), (date(2025, 12, 14), date(2026, 1, 10))),
        (date(2026, 1, 20), None, (date(2026, 1, 20), ANCHOR)),
        (date(2026, 2, 1), date(2026, 2, 1), (date(2026, 2, 1), date(2026, 2, 1))),
        (date(2025, 1, 1), date(2026, 1, 1), (date(2025, 1, 1), date(2026, 1, 1))),  # 366 days
        (None, date(1, 1, 3), (date.min, date(1, 1, 3))),
    ],
)
def test_resolve_range(start: date | None, end: date | None, expected: tuple[date, date]) -> None:
    assert resolve_range(start=start, end=end, anchor=ANCHOR) == expected


@pytest.mark.parametrize(
    ("start", "end", "param"),
    [
        (date(2026, 2, 2), date(2026, 2, 1), "start"),
        (date(2026, 2, 1), None, "start"),  # after the default end
        (date(2024, 12, 31), date(2026, 1, 1), "end"),  # 367 days
    ],
)
def test_resolve_range_refuses(start: date, end: date | None, param: str) -> None:
    with pytest.raises(InvalidParam) as caught:
        resolve_range(start=start, end=end, anchor=ANCHOR)
    assert caught.value.param == param


def test_days_before_stops_at_the_first_date() -> None:
    assert days_before(date(2026, 1, 28), 27) == date(2026, 1, 1)
    assert days_before(date(1, 1, 2), 27) == date.min


def test_gap_fill_keeps_stored_days_and_zero_fills_the_rest() -> None:
    stored = DayBucket(
        rep_id="r",
        day=date(2026, 1, 2),
        emails_sent=5,
        updated_at=datetime(2026, 1, 2, 23, tzinfo=UTC),
    )
    days = gap_fill(rep_id="r", start=date(2026, 1, 1), end=date(2026, 1, 4), buckets=[stored])
    assert [day.day for day in days] == [date(2026, 1, 1) + timedelta(days=n) for n in range(4)]
    assert days[1] is stored
    assert [day.emails_sent for day in days] == [0, 5, 0, 0]
    assert all(day.updated_at is None and day.rep_id == "r" for day in days if day is not stored)
    assert days[0].bookings_amount == Decimal(0)


def test_gap_fill_ignores_buckets_outside_the_range() -> None:
    outside = DayBucket(rep_id="r", day=date(2026, 2, 1), calls_made=9)
    days = gap_fill(rep_id="r", start=date(2026, 1, 1), end=date(2026, 1, 1), buckets=[outside])
    assert [day.calls_made for day in days] == [0]


def test_sum_counts_adds_every_field_exactly() -> None:
    a = ActivityCounts(emails_sent=3, calls_made=2, bookings_amount=Decimal("0.10"))
    b = ActivityCounts(emails_sent=4, accounts_touched=1, bookings_amount=Decimal("0.20"))
    totals = sum_counts([a, b])
    assert totals.emails_sent == 7
    assert totals.calls_made == 2
    assert totals.accounts_touched == 1
    assert totals.bookings_amount == Decimal("0.30")
    assert sum_counts([]) == ActivityCounts()


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(0, 0, None), (5, 0, None), (0, 4, 0.0), (1, 3, 0.3333), (2, 3, 0.6667), (4, 4, 1.0)],
)
def test_ratio(numerator: int, denominator: int, expected: float | None) -> None:
    assert ratio(numerator, denominator) == expected


def test_rates_use_the_catalog_definitions() -> None:
    totals = ActivityCounts(
        calls_made=10,
        calls_connected=3,
        emails_sent=20,
        emails_replied=5,
        meetings_held_initial=4,
        meetings_held_follow_up=6,
    )
    result = rates(totals)
    assert result.call_connect_rate == 0.3
    assert result.email_engagement_rate == 0.25
    assert result.follow_up_ratio == 1.5


def test_rates_are_null_without_a_denominator() -> None:
    result = rates(ActivityCounts(calls_connected=1, emails_replied=1, meetings_held_follow_up=1))
    assert result.model_dump() == {
        "call_connect_rate": None,
        "email_engagement_rate": None,
        "follow_up_ratio": None,
    }
