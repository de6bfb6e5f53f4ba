"""Median-of-N timing; these machines are noisy, so report medians and ratios."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(work: Callable[[], object], *, repeat: int = 7) -> float:
    """The median wall time of `repeat` runs of `work`."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
