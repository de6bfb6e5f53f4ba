"""Lifecycle transitions, table-driven in the manner of Alertmanager's needsUpdate tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from services.alerts.lifecycle import advance
from services.alerts.rules import stale_opp
from services.alerts.rules.base import Evaluation
from services.alerts.rules.config import StaleOppConfig
from shared.alerting import AlertMessage, AlertState
from tests.unit.services.alerts.factories import NOW, opportunity, rep

CONFIG = StaleOppConfig()


def holding(**changes: object) -> Evaluation:
    verdict = stale_opp.evaluate(opportunity(idle_days=20), rep(), CONFIG, NOW)
    assert verdict is not None
    return replace(verdict, **changes)  # type: ignore[arg-type]


def clear() -> Evaluation:
    return replace(holding(), holds=False)


def existing(state: AlertState, *, started_days_ago: int = 1) -> AlertMessage:
    first = advance(None, holding(), rep(), NOW - timedelta(days=started_days_ago))
    assert first is not None
    return first.model_copy(update={"state": state})


@pytest.mark.parametrize(
    ("case", "current", "evaluation", "expected_state"),
    [
        ("new condition fires at once", None, holding(), AlertState.FIRING),
        (
            "new condition with a for-duration waits",
            None,
            holding(pending_for=timedelta(hours=6)),
            AlertState.PENDING,
        ),
        (
            "pending long enough fires",
            existing(AlertState.PENDING),
            holding(pending_for=timedelta(hours=6)),
            AlertState.FIRING,
        ),
        ("firing resolves when clear", existing(AlertState.FIRING), clear(), AlertState.RESOLVED),
        ("pending resolves when clear", existing(AlertState.PENDING), clear(), AlertState.RESOLVED),
        ("resolved fires again", existing(AlertState.RESOLVED), holding(), AlertState.FIRING),
    ],
)
def test_transitions(
    case: str, current: AlertMessage | None, evaluation: Evaluation, expected_state: AlertState
) -> None:
    result = advance(current, evaluation, rep(), NOW)
    assert result is not None, case
    assert result.state is expected_state, case
    assert result.previous_state == (current.state if current else None), case


@pytest.mark.parametrize(
    ("case", "current", "evaluation"),
    [
        (
            "still pending, not long enough",
            existing(AlertState.PENDING, started_days_ago=0),
            holding(pending_for=timedelta(days=3)),
        ),
        ("nothing active and clear", None, clear()),
        ("already resolved and clear", existing(AlertState.RESOLVED), clear()),
    ],
)
def test_no_change(case: str, current: AlertMessage | None, evaluation: Evaluation) -> None:
    assert advance(current, evaluation, rep(), NOW) is None, case


def test_same_condition_same_content_is_not_a_change() -> None:
    first = advance(None, holding(), rep(), NOW)
    assert first is not None
    assert advance(first, holding(), rep(), NOW + timedelta(minutes=5)) is None


def test_content_change_keeps_identity_and_start() -> None:
    first = advance(None, holding(), rep(), NOW)
    assert first is not None
    later = advance(
        first, holding(why="new words"), rep(manager_id="mgr-2"), NOW + timedelta(days=1)
    )
    assert later is not None
    assert later.fingerprint == first.fingerprint
    assert later.started_at == first.started_at and later.updated_at > first.updated_at
    assert later.manager_id == "mgr-2" and later.state is AlertState.FIRING


def test_resolution_is_stamped_with_now() -> None:
    resolved = advance(existing(AlertState.FIRING), clear(), rep(), NOW)
    assert resolved is not None and resolved.resolved_at == NOW


def test_every_change_gets_a_higher_version_even_at_the_same_instant() -> None:
    fired = advance(None, holding(), rep(), NOW)
    assert fired is not None and fired.version == 1
    changed = advance(fired, holding(why="new words"), rep(), NOW)
    assert changed is not None and changed.version == 2
    resolved = advance(changed, clear(), rep(), NOW)
    assert resolved is not None and resolved.version == 3
    assert resolved.updated_at == fired.updated_at  # same event time; the version orders them
