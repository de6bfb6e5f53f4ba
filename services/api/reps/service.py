"""Reading reps and their daily buckets."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func
from sqlmodel import Session, col, select

from services.api.reps import rollup
from services.api.reps.schemas import DayBucket, RepMetrics, RepProfile
from shared.db.models import Rep, RepDayBucket
from shared.timezones import local_day


def get_rep(session: Session, *, rep_id: str) -> RepProfile | None:
    """The rep's directory profile; None if the directory does not know the rep."""
    rep = session.get(Rep, rep_id)
    return RepProfile.model_validate(rep) if rep is not None else None


def latest_bucket_day(session: Session, *, rep_id: str) -> date | None:
    """The last day the rep has a stored bucket for, if any."""
    statement = select(func.max(col(RepDayBucket.day))).where(col(RepDayBucket.rep_id) == rep_id)
    return session.exec(statement).one()


def stored_buckets(session: Session, *, rep_id: str, start: date, end: date) -> list[DayBucket]:
    """The rep's stored buckets from start to end inclusive, by day."""
    statement = (
        select(RepDayBucket)
        .where(col(RepDayBucket.rep_id) == rep_id)
        .where(col(RepDayBucket.day) >= start, col(RepDayBucket.day) <= end)
        .order_by(col(RepDayBucket.day))
    )
    return [DayBucket.model_validate(row) for row in session.exec(statement)]


def rep_metrics(
    session: Session, *, rep_id: str, start: date | None, end: date | None
) -> RepMetrics | None:
    """Gap-filled days, totals and rates; None if neither profile nor buckets exist.

    Raises InvalidParam for a range that is backwards or longer than 366 days. Without
    `end`, the range ends on the rep's latest bucket day (or, with no buckets at all, the
    day of the profile's latest change): event time, never the wall clock.
    """
    profile = get_rep(session, rep_id=rep_id)
    latest = latest_bucket_day(session, rep_id=rep_id)
    if latest is not None:
        anchor = latest
    elif profile is not None:
        anchor = local_day(profile.updated_at, profile.time_zone)
    else:
        return None
    first, last = rollup.resolve_range(start=start, end=end, anchor=anchor)
    stored = stored_buckets(session, rep_id=rep_id, start=first, end=last)
    days = rollup.gap_fill(rep_id=rep_id, start=first, end=last, buckets=stored)
    totals = rollup.sum_counts(days)
    return RepMetrics(
        rep_id=rep_id,
        rep=profile,
        start=first,
        end=last,
        days=days,
        totals=totals,
        rates=rollup.rates(totals),
    )
