"""The runner's replay clock: each deal at its partition's progress, sweeps on any progress."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.alerts.engine import AlertEngine
from services.alerts.rules.config import load_rules
from services.alerts.runner import AlertsRunner
from services.alerts.settings import AlertsSettings
from shared.clock import ReplayClock
from shared.settings import ClockMode
from tests.unit.services.alerts.factories import NOW


@pytest.fixture
def runner() -> AlertsRunner:
    settings = AlertsSettings(clock_mode=ClockMode.REPLAY, alerts_partition_idle_seconds=10)
    engine = AlertEngine(load_rules())
    return AlertsRunner(settings, engine=engine, db=None, clock=ReplayClock())  # type: ignore[arg-type]


def test_a_rep_is_judged_at_its_own_partitions_progress(runner: AlertsRunner) -> None:
    runner.watermarks.observe(0, NOW, arrived=0)
    runner.watermarks.observe(1, NOW + timedelta(days=20), arrived=0)
    runner._rep_partition.update({"rep-slow": 0, "rep-fast": 1})
    runner._advance_clock(0)
    assert runner._now_for_rep("rep-slow") == NOW
    assert runner._now_for_rep("rep-fast") == NOW + timedelta(days=20)
    assert runner._now_for_rep("rep-unknown") == runner.clock.now() == NOW


def test_sweeps_follow_every_partitions_progress_and_the_end_of_input(runner: AlertsRunner) -> None:
    runner.watermarks.observe(0, NOW, arrived=0)
    runner.watermarks.observe(1, NOW, arrived=0)
    assert runner._replay_sweep_due(0)
    runner.watermarks.observe(1, NOW + timedelta(hours=2), arrived=1)
    assert not runner._replay_sweep_due(1)  # less than a step anywhere
    runner.watermarks.observe(1, NOW + timedelta(hours=7), arrived=2)
    assert runner._replay_sweep_due(2)  # one partition moved a step; the other did not
    runner.watermarks.observe(0, NOW + timedelta(hours=3), arrived=3)
    assert not runner._replay_sweep_due(3)
    assert runner._replay_sweep_due(20)  # input quiet with progress not yet swept
    assert not runner._replay_sweep_due(30)
