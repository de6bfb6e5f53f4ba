"""Time zones by name: one lookup for every service, UTC for what is unknown."""

from __future__ import annotations

from datetime import UTC, date, datetime

from shared.timezones import is_known_zone, local_day


def test_local_day_uses_the_rep_zone_and_falls_back_to_utc() -> None:
    instant = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    assert local_day(instant, "America/New_York") == date(2026, 1, 4)
    assert local_day(instant, "Asia/Tokyo") == date(2026, 1, 5)
    assert local_day(instant, "Not/AZone") == date(2026, 1, 5)
    assert local_day(instant, "../etc") == date(2026, 1, 5)
    assert local_day(instant, "America") == date(2026, 1, 5)  # a tz directory, not a zone


def test_known_zones() -> None:
    assert is_known_zone("Europe/Paris") and is_known_zone("UTC")
    assert not any(is_known_zone(z) for z in ("America", "Etc", "", "../x", "Not/AZone"))
