"""days_since_touch counts whole days of event time between last touch and the snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.api.opportunities.service import days_since_touch

AS_OF = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("last_touch_at", "expected"),
    [
        (None, None),
        (AS_OF, 0),
        (datetime(2026, 1, 4, 9, 1, tzinfo=UTC), 0),
        (datetime(2026, 1, 4, 9, 0, tzinfo=UTC), 1),
        (datetime(2026, 1, 2, 10, 0, tzinfo=UTC), 2),
        (datetime(2025, 12, 6, 9, 0, tzinfo=UTC), 30),
        (datetime(2026, 1, 6, 9, 0, tzinfo=UTC), 0),  # touched after the snapshot: not negative
    ],
)
def test_days_since_touch(last_touch_at: datetime | None, expected: int | None) -> None:
    assert days_since_touch(last_touch_at=last_touch_at, as_of=AS_OF) == expected
