"""Reading event time back in a rep's terms (shared by tests, scoring and reports)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any


def local_week(event: Mapping[str, Any], start: date) -> int:
    """Weeks since `start` of the event's UTC date (good enough for weekly counts)."""
    day = datetime.fromisoformat(str(event["occurred_at"])).date()
    return (day - start).days // 7
