"""The injectable clock. Domain logic takes `now` from here, never from the wall.

Live mode: now = wall time. Replay mode: now = the event-time watermark, the latest event
time observed, so 26 weeks of history replay in seconds and rules fire in the right week.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Protocol

from shared.settings import ClockMode


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, tz-aware UTC."""
        ...

    def observe(self, event_time: datetime) -> None:
        """Called for every event seen; replay clocks advance their watermark."""
        ...


class WallClock:
    """Wall time; observing events changes nothing."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def observe(self, event_time: datetime) -> None:  # noqa: ARG002 - Clock protocol
        return None


class ReplayClock:
    """Event-time watermark: the maximum event time observed so far (never goes back)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._watermark = start

    def now(self) -> datetime:
        if self._watermark is None:
            return datetime.fromtimestamp(0, UTC)
        return self._watermark

    def observe(self, event_time: datetime) -> None:
        if self._watermark is None or event_time > self._watermark:
            self._watermark = event_time.astimezone(UTC)

    @property
    def started(self) -> bool:
        """True once any event time has been observed."""
        return self._watermark is not None


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def now(self) -> datetime:
        return self.at

    def observe(self, event_time: datetime) -> None:  # noqa: ARG002 - Clock protocol
        return None


def make_clock(mode: ClockMode) -> Clock:
    """The clock a service runs on, from its settings."""
    return WallClock() if mode is ClockMode.LIVE else ReplayClock()


def monotonic() -> float:
    """Monotonic seconds, for measuring durations (never for domain time)."""
    return time.monotonic()
