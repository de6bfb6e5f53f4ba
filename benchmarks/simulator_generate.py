"""The simulator's generation speed against a baseline that only serialises the same events.

The baseline re-dumps the events the simulation produced (parsed back into dicts beforehand),
so the ratio is what the org model, patterns and time ordering cost on top of writing JSON.
"""

from __future__ import annotations

import orjson

from benchmarks.timing import median_seconds
from simulator.config import SCENARIOS
from simulator.engine import Simulation

CONFIG = SCENARIOS["standard"].with_(reps=50, weeks=8)


def generate() -> int:
    return sum(1 for _ in Simulation(CONFIG).events())


def report() -> str:
    events = [orjson.loads(line) for _, line in Simulation(CONFIG).events()]
    base = median_seconds(lambda: [orjson.dumps(e) for e in events], repeat=5)
    full = median_seconds(generate, repeat=3)
    count = len(events)
    return (
        f"simulator generate, {CONFIG.reps} reps x {CONFIG.weeks} weeks, {count:,} events "
        "(median of runs):\n"
        f"  baseline (orjson.dumps only)   {count / base:>12,.0f} events/s\n"
        f"  Simulation.events()            {count / full:>12,.0f} events/s\n"
        f"  ratio simulation/baseline      {base / full:>12.3f}"
    )
