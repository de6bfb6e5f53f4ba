"""When a manager's digest is due, in their own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.digest.timing import digest_date, due_digest_date

NY = "America/New_York"


@pytest.mark.parametrize(
    ("now", "zone", "hour", "due"),
    [
        (datetime(2026, 11, 2, 11, 59, tzinfo=UTC), NY, 7, None),  # 06:59 in New York
        (datetime(2026, 11, 2, 12, 0, tzinfo=UTC), NY, 7, date(2026, 11, 2)),  # 07:00
        (datetime(2026, 11, 3, 3, 0, tzinfo=UTC), NY, 7, date(2026, 11, 2)),  # 22:00 the day before
        (datetime(2026, 11, 2, 22, 0, tzinfo=UTC), "Asia/Tokyo", 7, date(2026, 11, 3)),
        (datetime(2026, 11, 2, 7, 0, tzinfo=UTC), "Not/AZone", 7, date(2026, 11, 2)),  # UTC
        (datetime(2026, 11, 2, 6, 0, tzinfo=UTC), "Not/AZone", 7, None),
    ],
)
def test_due_digest_date(now: datetime, zone: str, hour: int, due: date | None) -> None:
    assert due_digest_date(now, zone, hour) == due


def test_digest_date_is_the_local_calendar_date() -> None:
    assert digest_date(datetime(2026, 11, 3, 3, 0, tzinfo=UTC), NY) == date(2026, 11, 2)
