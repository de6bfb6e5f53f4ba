"""The engine: metric changes in, alert versions out, at the `now` it is given."""

from __future__ import annotations

from datetime import timedelta

from services.alerts.engine import AlertEngine
from services.alerts.rules.config import load_rules
from shared.alerting import AlertState
from shared.state import OpportunityChanged, RepChanged
from tests.unit.services.alerts.factories import NOW, opportunity, rep


def changed(**overrides: object) -> OpportunityChanged:
    state = opportunity(**overrides)  # type: ignore[arg-type]
    return OpportunityChanged(rep_id=state.rep_id, watermark=NOW, state=state)


def test_stale_fires_then_a_touch_resolves_it() -> None:
    engine = AlertEngine(load_rules())
    engine.apply(RepChanged(rep_id="rep-1", watermark=NOW, profile=rep()), NOW)
    fired = engine.apply(changed(idle_days=20), NOW)
    assert [m.state for m in fired] == [AlertState.FIRING]
    assert fired[0].manager_id == "mgr-1" and fired[0].rep_name == "Dana Ortiz"
    resolved = engine.apply(changed(idle_days=0), NOW)
    assert [(m.fingerprint, m.state) for m in resolved] == [
        (fired[0].fingerprint, AlertState.RESOLVED)
    ]
    assert engine.active == {}


def test_time_passing_alone_makes_a_deal_stale_on_sweep() -> None:
    engine = AlertEngine(load_rules())
    assert engine.apply(changed(idle_days=10), NOW) == []
    assert engine.sweep(NOW + timedelta(days=3)) == []
    fired = engine.sweep(NOW + timedelta(days=4))
    assert [m.state for m in fired] == [AlertState.FIRING]
    assert engine.sweep(NOW + timedelta(days=4, hours=1)) == []  # unchanged: nothing new


def test_a_sweep_judges_each_deal_at_its_owners_partition_time() -> None:
    """Under replay a deal on a slow partition is judged at that partition's progress."""
    engine = AlertEngine(load_rules())
    engine.apply(changed(idle_days=10), NOW)
    behind = {"rep-1": NOW + timedelta(days=1)}
    assert engine.sweep(NOW + timedelta(days=9), now_for_rep=behind.__getitem__) == []
    behind["rep-1"] = NOW + timedelta(days=4)
    fired = engine.sweep(NOW + timedelta(days=9), now_for_rep=behind.__getitem__)
    assert [m.state for m in fired] == [AlertState.FIRING]


def test_replayed_change_does_not_duplicate_the_alert() -> None:
    engine = AlertEngine(load_rules())
    first = engine.apply(changed(idle_days=20), NOW)
    assert engine.apply(changed(idle_days=20), NOW) == []
    assert len(engine.active) == 1 and first


def test_manager_assigned_later_updates_the_alert() -> None:
    engine = AlertEngine(load_rules())
    fired = engine.apply(changed(idle_days=20), NOW)
    assert fired[0].manager_id is None
    updated = engine.apply(RepChanged(rep_id="rep-1", watermark=NOW, profile=rep()), NOW)
    assert [(m.fingerprint, m.manager_id) for m in updated] == [(fired[0].fingerprint, "mgr-1")]


def test_loaded_alerts_resume_their_lifecycle() -> None:
    engine = AlertEngine(load_rules())
    fired = engine.apply(changed(idle_days=20), NOW)
    restarted = AlertEngine(load_rules())
    restarted.load(opportunities=[opportunity(idle_days=20)], reps=[], alerts=fired)
    resolved = restarted.apply(changed(idle_days=1), NOW)
    assert [m.state for m in resolved] == [AlertState.RESOLVED]
