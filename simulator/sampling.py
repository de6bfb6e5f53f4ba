"""Small random draws the standard library lacks, on an explicit `random.Random`."""

from __future__ import annotations

import math
import random


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: Knuth's product method for small means, a rounded normal for large."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def noise(rng: random.Random, spread: float) -> float:
    """A multiplicative log-normal factor with median 1 (mean slightly above)."""
    return math.exp(rng.gauss(0.0, spread)) if spread > 0 else 1.0


def chance(rng: random.Random, probability: float) -> bool:
    return rng.random() < probability
