"""Small scenarios and stream readers shared by the simulator's unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import orjson

from simulator.config import Patterns, ScenarioConfig
from simulator.engine import Simulation
from simulator.labels import LabelFile

NO_PATTERNS = Patterns(
    disengaging_share=0,
    new_hire_share=0,
    abandoned_deal_share=0,
    happy_ears_share=0,
    goal_behind_share=0,
    goal_ahead_share=0,
    team_dips=0,
    pto_share=0,
    holiday_week=False,
    heads_down_share=0,
    quarter_end_push=False,
)

SMALL = ScenarioConfig(name="small", seed=11, reps=16, weeks=8, start=date(2026, 1, 5))
# Every rep at exactly the configured effort, no patterns: what the rates alone produce.
PLAIN = ScenarioConfig(
    name="plain", seed=5, reps=40, weeks=26, effort_spread=0.0, patterns=NO_PATTERNS
)
# Patterns everywhere, so each kind of label occurs.
RICH = ScenarioConfig(
    name="rich",
    seed=3,
    reps=40,
    weeks=20,
    patterns=Patterns(
        disengaging_share=0.1,
        new_hire_share=0.2,
        slow_ramper_share=0.5,
        fast_ramper_share=0.5,
        pto_share=0.1,
        heads_down_share=0.1,
    ),
)


_RUNS: dict[str, tuple[tuple[dict[str, Any], ...], LabelFile]] = {}


def run(config: ScenarioConfig) -> tuple[tuple[dict[str, Any], ...], LabelFile]:
    """Every event (parsed) and the labels of one scenario; cached across tests."""
    key = repr(config)
    if key not in _RUNS:
        simulation = Simulation(config)
        events = tuple(orjson.loads(line) for _, line in simulation.events())
        _RUNS[key] = (events, simulation.labels())
    return _RUNS[key]


def of_type(events: tuple[dict[str, Any], ...], *types: str) -> Iterator[dict[str, Any]]:
    return (e for e in events if e["type"] in types)


def on_day(event: dict[str, Any]) -> date:
    return date.fromisoformat(event["occurred_at"][:10])
