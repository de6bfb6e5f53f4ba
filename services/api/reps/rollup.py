"""Pure helpers for the metrics view: the day range, gap-filling, totals and rates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from services.api.errors import InvalidParam
from services.api.reps.schemas import ActivityCounts, DayBucket, Rates

DEFAULT_RANGE_DAYS = 28
MAX_RANGE_DAYS = 366
RATE_DIGITS = 4


def days_before(day: date, count: int) -> date:
    """`day` minus `count` days, stopping at the first representable date."""
    try:
        return day - timedelta(days=count)
    except OverflowError:
        return date.min


def resolve_range(*, start: date | None, end: date | None, anchor: date) -> tuple[date, date]:
    """The inclusive day range asked for; `end` defaults to `anchor`, `start` to 28 days."""
    last = end if end is not None else anchor
    first = start if start is not None else days_before(last, DEFAULT_RANGE_DAYS - 1)
    if first > last:
        raise InvalidParam("start", f"start ({first}) is after end ({last})")
    span = (last - first).days + 1
    if span > MAX_RANGE_DAYS:
        raise InvalidParam(
            "end", f"start to end spans {span} days; at most {MAX_RANGE_DAYS} are allowed"
        )
    return first, last


def gap_fill(
    *, rep_id: str, start: date, end: date, buckets: Iterable[DayBucket]
) -> list[DayBucket]:
    """One bucket per day from start to end; days without a stored bucket are all zeros."""
    by_day = {bucket.day: bucket for bucket in buckets}
    span = (end - start).days + 1
    days = (start + timedelta(days=offset) for offset in range(span))
    return [by_day.get(day) or DayBucket(rep_id=rep_id, day=day) for day in days]


def sum_counts(buckets: Sequence[ActivityCounts]) -> ActivityCounts:
    """Field-by-field sums of `buckets`."""
    sums: dict[str, int | Decimal] = {}
    for name in ActivityCounts.model_fields:
        sums[name] = sum((getattr(bucket, name) for bucket in buckets), start=0)
    return ActivityCounts.model_validate(sums)


def ratio(numerator: int, denominator: int) -> float | None:
    """numerator / denominator rounded to 4 places; None when the denominator is 0."""
    if denominator == 0:
        return None
    return round(numerator / denominator, RATE_DIGITS)


def rates(totals: ActivityCounts) -> Rates:
    """The derived rates of a range's totals."""
    return Rates(
        call_connect_rate=ratio(totals.calls_connected, totals.calls_made),
        email_engagement_rate=ratio(totals.emails_replied, totals.emails_sent),
        follow_up_ratio=ratio(totals.meetings_held_follow_up, totals.meetings_held_initial),
    )
