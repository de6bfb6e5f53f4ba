"""stale_opp is a pure function of (opportunity, rep, config, now)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.alerts.rules import stale_opp
from services.alerts.rules.base import Reason
from services.alerts.rules.config import StaleOppConfig, StaleOppOverride, load_rules
from shared.alerting import Severity
from tests.unit.services.alerts.factories import NOW, opportunity, rep

CONFIG = StaleOppConfig(default_days=14, stage_days={"Negotiation": 7}, critical_multiple=2.0)


@pytest.mark.parametrize(
    ("case", "opp_overrides", "holds", "reason"),
    [
        ("untouched 20 days", {"idle_days": 20}, True, Reason.NO_RECENT_TOUCH),
        ("exactly at threshold", {"idle_days": 14}, True, Reason.NO_RECENT_TOUCH),
        ("a day short", {"idle_days": 13.9}, False, Reason.TOUCHED_RECENTLY),
        (
            "late stage, shorter threshold",
            {"idle_days": 8, "stage": "Negotiation"},
            True,
            Reason.NO_RECENT_TOUCH,
        ),
        ("closed won", {"idle_days": 40, "is_closed": True, "is_won": True}, False, Reason.CLOSED),
        (
            "meeting booked ahead",
            {"idle_days": 30, "upcoming_meetings": {"m": NOW + timedelta(days=2)}},
            False,
            Reason.MEETING_BOOKED,
        ),
        (
            "meeting date already past",
            {"idle_days": 30, "upcoming_meetings": {"m": NOW - timedelta(days=2)}},
            True,
            Reason.NO_RECENT_TOUCH,
        ),
        ("never touched, created 60 days ago", {"idle_days": None}, True, Reason.NO_RECENT_TOUCH),
    ],
)
def test_condition(case: str, opp_overrides: dict, holds: bool, reason: Reason) -> None:
    verdict = stale_opp.evaluate(opportunity(**opp_overrides), rep(), CONFIG, NOW)
    assert verdict is not None, case
    assert (verdict.holds, verdict.reason) == (holds, reason), case


def test_nothing_known_means_no_verdict() -> None:
    assert (
        stale_opp.evaluate(opportunity(idle_days=None, created_at=None), rep(), CONFIG, NOW) is None
    )


def test_the_alert_explains_itself_with_numbers_and_a_next_step() -> None:
    verdict = stale_opp.evaluate(opportunity(idle_days=20), rep(), CONFIG, NOW)
    assert verdict is not None
    assert verdict.numbers["days_since_touch"] == 20
    assert verdict.numbers["threshold_days"] == 14
    assert verdict.numbers["amount"] == 48000.0
    assert verdict.numbers["days_in_stage"] == 30
    assert "20 days" in verdict.why and "$48,000" in verdict.why and "Discovery" in verdict.why
    assert verdict.next_step.startswith("Ask Dana")
    assert verdict.severity is Severity.WARNING
    assert verdict.title == "Stale deal: Acme expansion"


def test_severity_turns_critical_at_the_multiple() -> None:
    verdict = stale_opp.evaluate(opportunity(idle_days=28), rep(), CONFIG, NOW)
    assert verdict is not None and verdict.severity is Severity.CRITICAL


def test_past_close_date_is_named_in_the_next_step() -> None:
    verdict = stale_opp.evaluate(
        opportunity(idle_days=20, close_date=date(2026, 11, 1)), rep(), CONFIG, NOW
    )
    assert verdict is not None and "close date has passed" in verdict.next_step


def test_each_quiet_episode_is_its_own_period() -> None:
    first = stale_opp.evaluate(opportunity(idle_days=20), rep(), CONFIG, NOW)
    later = stale_opp.evaluate(opportunity(idle_days=15), rep(), CONFIG, NOW)
    assert first is not None and later is not None and first.period != later.period


def test_team_override_beats_role_override_beats_stage_default() -> None:
    config = CONFIG.model_copy(
        update={
            "teams": {"east": StaleOppOverride(default_days=5)},
            "roles": {"AE": StaleOppOverride(default_days=9)},
        }
    )
    assert config.threshold_days(stage="Discovery", team="east", role="AE") == 5
    assert config.threshold_days(stage="Discovery", team="west", role="AE") == 9
    assert config.threshold_days(stage="Negotiation", team="west", role="SDR") == 7


def test_shipped_defaults_load() -> None:
    rules = load_rules()
    assert rules.version == 1 and rules.stale_opp.default_days == 14


def test_a_new_deal_is_not_aged_by_work_logged_before_it_existed() -> None:
    """Account work from before the deal (or arriving late) must not make it look idle."""
    young = opportunity(idle_days=40, created_at=NOW - timedelta(days=5))
    verdict = stale_opp.evaluate(young, rep(), CONFIG, NOW)
    assert verdict is not None and not verdict.holds
    old_enough = opportunity(idle_days=40, created_at=NOW - timedelta(days=15))
    verdict = stale_opp.evaluate(old_enough, rep(), CONFIG, NOW)
    assert verdict is not None and verdict.holds and verdict.numbers["days_since_touch"] == 15
