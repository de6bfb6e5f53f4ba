"""When a manager's morning is: pure functions of (now, time zone, digest hour)."""

from __future__ import annotations

from datetime import date, datetime

from shared.timezones import zone


def local_time(now: datetime, time_zone: str) -> datetime:
    """`now` in the given IANA zone; UTC when the zone is unknown."""
    return now.astimezone(zone(time_zone))


def digest_date(now: datetime, time_zone: str) -> date:
    """The date a digest sent at `now` is for: the manager's local calendar date."""
    return local_time(now, time_zone).date()


def due_digest_date(now: datetime, time_zone: str, digest_hour: int) -> date | None:
    """The local date whose digest is due at `now`, or None before `digest_hour` locally."""
    local = local_time(now, time_zone)
    return local.date() if local.hour >= digest_hour else None
