"""The low watermark: the slowest active partition's progress, monotone, idle-tolerant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.watermark import LowWatermark

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def test_nothing_observed_means_no_watermark() -> None:
    assert LowWatermark().low(now=0) is None


@pytest.mark.parametrize(
    ("observations", "expected"),
    [
        ([(0, 5)], 5),  # one partition: its latest event time
        ([(0, 5), (1, 2)], 2),  # two: the slower one
        ([(0, 5), (1, 2), (1, 9)], 5),  # the slow one caught up past the other
        ([(0, 5), (0, 3)], 5),  # an older event on a partition does not move it back
    ],
)
def test_low_is_the_slowest_partitions_latest(
    observations: list[tuple[int, float]], expected: float
) -> None:
    marks = LowWatermark()
    for partition, hours in observations:
        marks.observe(partition, at(hours), arrived=0)
    assert marks.low(now=0) == at(expected)


def test_it_never_goes_back_when_a_late_partition_appears() -> None:
    marks = LowWatermark()
    marks.observe(0, at(10), arrived=0)
    assert marks.low(now=0) == at(10)
    marks.observe(1, at(1), arrived=1)
    assert marks.low(now=1) == at(10)


def test_a_partition_waiting_its_turn_still_holds_time_back() -> None:
    """Under a backlog one partition can go unserved for a while; it is not idle."""
    marks = LowWatermark(idle_after=30)
    marks.observe(0, at(1), arrived=0)
    marks.observe(1, at(8), arrived=0)
    marks.observe(1, at(9), arrived=40)  # partition 0 silent for 40 s, partition 1 not
    assert marks.low(now=40) == at(1)


def test_once_the_whole_input_is_quiet_the_latest_event_time_is_now() -> None:
    marks = LowWatermark(idle_after=30)
    marks.observe(0, at(1), arrived=0)
    marks.observe(1, at(9), arrived=5)
    assert marks.low(now=20) == at(1)
    assert marks.low(now=36) == at(9)
    assert marks.high == at(9)


def test_each_partition_knows_its_own_progress() -> None:
    marks = LowWatermark()
    marks.observe(0, at(3), arrived=0)
    marks.observe(1, at(7), arrived=0)
    marks.observe(0, at(2), arrived=1)
    assert (marks.mark(0), marks.mark(1), marks.mark(2)) == (at(3), at(7), None)
