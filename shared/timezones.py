"""IANA time zones by name, the same everywhere: validation at the edge, UTC fallback inside."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_ZONE = ZoneInfo("UTC")


def is_known_zone(name: str) -> bool:
    """True for a loadable IANA zone ("America" is a tz directory, not a zone: False)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


@lru_cache(maxsize=1024)
def zone(name: str) -> ZoneInfo:
    """The zone called `name`, or UTC when it is unknown (stored data never crashes a job)."""
    return ZoneInfo(name) if is_known_zone(name) else UTC_ZONE


def local_day(moment: datetime, time_zone: str) -> date:
    """The calendar day of `moment` in `time_zone`."""
    return moment.astimezone(zone(time_zone)).date()
