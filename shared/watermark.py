"""Event-time progress across input partitions, as stream processors keep it.

A consumer reads its partitions unevenly: while a backlog drains, one partition can be weeks
of event time ahead of another. Each partition is in event-time order, so its own latest event
time (`mark`) is exactly how far its subjects are known. Two kinds of "now" follow:

- per-subject questions ("is this deal stale?") are answered at the subject's partition mark.
  The global maximum would judge deals whose touches still wait on a slow partition (false
  alarms); the global minimum would judge deals on a fast partition with their future already
  applied, such as the close of a deal that went quiet weeks before (missed alarms);
- questions across subjects use the low watermark (`low`): the slowest partition's mark.

Once the whole input has been quiet for `idle_after` seconds (the driver's monotonic clock),
the end of the stream has been seen and `low` becomes the latest event time on any partition.
A single quiet partition does not count as idle while others still deliver: under a backlog
the upstream stage serves its partitions in bursts, and dropping one that merely waits its
turn would let "now" jump ahead of it.
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

    def quiet(self, *, now: float) -> bool:
        """Whether the whole input has been silent for `idle_after` seconds."""
        return all(now - arrived > self.idle_after for _, arrived in self._marks.values())

    def marks(self) -> dict[int, datetime]:
        """Every partition's latest event time."""
        return {partition: mark[0] for partition, mark in self._marks.items()}

    def low(self, *, now: float) -> datetime | None:
        """The low watermark at monotonic time `now` (None before any record)."""
        if not self._marks:
            return None
        times = [t for t, _ in self._marks.values()]
        candidate = max(times) if self.quiet(now=now) else min(times)
        if self._low is None or candidate > self._low:
            self._low = candidate
        return self._low

    def mark(self, partition: int) -> datetime | None:
        """The latest event time seen on one partition: everything keyed to it up to this
        time has been seen (a partition is in event-time order), whatever the others do."""
        mark = self._marks.get(partition)
        return mark[0] if mark is not None else None

    @property
    def high(self) -> datetime | None:
        """The latest event time on any partition."""
        return max((t for t, _ in self._marks.values()), default=None)
