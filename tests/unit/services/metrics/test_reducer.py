"""The metrics core: events in, state and changes out; order and retries do not matter."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.metrics.core.reducer import MetricsCore, Stores
from shared.state import DayBucketChanged, OpportunityChanged
from tests.support.events import make_event, rep_upserted

T0 = datetime(2026, 10, 5, 14, 0, tzinfo=UTC)


def core() -> MetricsCore:
    return MetricsCore(Stores(), retention_days=30)


def opp_events() -> list:
    return [
        make_event(
            "opportunity.created",
            T0,
            opportunity_id="o1",
            account_id="a1",
            payload={"name": "Deal", "stage": "Discovery", "amount": "1000.00"},
        ),
        make_event(
            "opportunity.stage_changed",
            T0 + timedelta(days=1),
            opportunity_id="o1",
            payload={"from_stage": "Discovery", "to_stage": "Proposal"},
        ),
        make_event(
            "opportunity.amount_changed",
            T0 + timedelta(days=2),
            opportunity_id="o1",
            payload={"to_amount": "2500.00"},
        ),
        make_event("email.sent", T0 + timedelta(days=3), opportunity_id="o1", account_id="a1"),
        make_event(
            "opportunity.stage_changed",
            T0 + timedelta(days=4),
            opportunity_id="o1",
            payload={"from_stage": "Proposal", "to_stage": "Negotiation"},
        ),
        make_event(
            "call.made", T0 + timedelta(days=2), opportunity_id="o1", payload={"connected": False}
        ),
    ]


def test_opportunity_state_follows_its_events() -> None:
    metrics = core()
    for event in opp_events():
        metrics.process(event)
    state = metrics.opportunity("o1")
    assert state is not None
    assert (state.stage, state.amount) == ("Negotiation", Decimal("2500.00"))
    assert state.stage_changed_at == T0 + timedelta(days=4)
    assert state.last_touch_at == T0 + timedelta(days=3)
    assert state.last_touch_type == "email.sent"


@pytest.mark.parametrize("seed", range(5))
def test_any_delivery_order_with_retries_converges_on_the_same_state(seed: int) -> None:
    in_order = core()
    for event in opp_events():
        in_order.process(event)
    shuffled = core()
    events = opp_events() * 2  # every delivery retried once
    random.Random(seed).shuffle(events)
    for event in events:
        shuffled.process(event)
    assert shuffled.opportunity("o1") == in_order.opportunity("o1")
    assert shuffled.stores.buckets == in_order.stores.buckets


def test_a_retried_delivery_is_counted_once() -> None:
    metrics = core()
    email = make_event("email.sent", T0, account_id="a1")
    assert not metrics.process(email).duplicate
    assert metrics.process(email).duplicate
    bucket = metrics.bucket("rep-1", T0.date().isoformat())
    assert bucket is not None and bucket.count("emails_sent") == 1


def test_days_are_the_reps_local_days() -> None:
    metrics = core()
    metrics.process(rep_upserted(T0, "rep-1", time_zone="Asia/Tokyo"))
    late_evening_utc = datetime(2026, 10, 5, 20, 0, tzinfo=UTC)  # 05:00 next day in Tokyo
    outcome = metrics.process(
        make_event("call.made", late_evening_utc, payload={"connected": True})
    )
    bucket = next(c for c in outcome.changes if isinstance(c, DayBucketChanged)).bucket
    assert bucket.day == date(2026, 10, 6)
    assert (bucket.count("calls_made"), bucket.count("calls_connected")) == (1, 1)


def test_forward_stage_moves_count_as_advanced_backward_do_not() -> None:
    metrics = core()
    for to_stage, from_stage in (("Proposal", "Discovery"), ("Discovery", "Proposal")):
        metrics.process(
            make_event(
                "opportunity.stage_changed",
                T0,
                opportunity_id="o1",
                payload={"from_stage": from_stage, "to_stage": to_stage},
            )
        )
    bucket = metrics.bucket("rep-1", T0.date().isoformat())
    assert bucket is not None and bucket.count("opps_advanced") == 1


def test_account_level_work_touches_the_accounts_open_deals_only() -> None:
    metrics = core()
    for opp in ("o1", "o2"):
        metrics.process(
            make_event(
                "opportunity.created",
                T0,
                opportunity_id=opp,
                account_id="a1",
                payload={"stage": "Discovery", "amount": "10.00"},
            )
        )
    metrics.process(make_event("opportunity.closed_lost", T0, opportunity_id="o2", account_id="a1"))
    outcome = metrics.process(
        make_event(
            "call.made", T0 + timedelta(hours=1), account_id="a1", payload={"connected": True}
        )
    )
    touched = [c.state.opportunity_id for c in outcome.changes if isinstance(c, OpportunityChanged)]
    assert touched == ["o1"]


def test_booked_meeting_is_remembered_until_held() -> None:
    metrics = core()
    start = T0 + timedelta(days=2)
    metrics.process(
        make_event(
            "meeting.scheduled",
            T0,
            opportunity_id="o1",
            payload={"meeting_id": "m1", "starts_at": start.isoformat()},
        )
    )
    state = metrics.opportunity("o1")
    assert state is not None and state.next_meeting_after(T0) == start
    metrics.process(
        make_event(
            "meeting.held",
            start,
            opportunity_id="o1",
            payload={"meeting_id": "m1", "kind": "initial"},
        )
    )
    state = metrics.opportunity("o1")
    assert state is not None and state.upcoming_meetings == {}
    assert state.last_touch_at == start
    # a late 'scheduled' for a meeting already held does not bring it back
    metrics.process(
        make_event(
            "meeting.scheduled",
            T0,
            opportunity_id="o1",
            payload={"meeting_id": "m1", "starts_at": start.isoformat()},
        )
    )
    assert metrics.opportunity("o1").upcoming_meetings == {}  # type: ignore[union-attr]


def test_closed_won_books_the_amount() -> None:
    metrics = core()
    metrics.process(
        make_event(
            "opportunity.created",
            T0,
            opportunity_id="o1",
            payload={"stage": "Negotiation", "amount": "900.00"},
        )
    )
    metrics.process(make_event("opportunity.closed_won", T0, opportunity_id="o1"))
    bucket = metrics.bucket("rep-1", T0.date().isoformat())
    assert bucket is not None
    assert bucket.count("opps_won") == 1 and bucket.bookings_amount == Decimal("900.00")


def test_events_older_than_retention_are_dead_lettered() -> None:
    metrics = core()
    metrics.process(make_event("email.sent", T0))
    outcome = metrics.process(make_event("email.sent", T0 - timedelta(days=31)))
    assert outcome.dead_letter_reason == "older than the retention horizon"
    assert metrics.process(make_event("email.sent", T0 - timedelta(days=29))).changes


def test_changes_carry_their_own_partitions_progress() -> None:
    """A backlog on one partition must not make 'now' jump for the deals it holds, and a
    partition running ahead is judged at its own time."""
    metrics = core()
    behind = make_event("email.sent", T0, rep_id="rep-slow", opportunity_id="o1", account_id="a1")
    ahead = make_event("email.sent", T0 + timedelta(days=9), rep_id="rep-fast", account_id="a2")
    outcome = metrics.process(behind, partition=0, arrived=0.0)
    assert {change.watermark for change in outcome.changes} == {T0}
    outcome = metrics.process(ahead, partition=1, arrived=0.5)
    assert {change.watermark for change in outcome.changes} == {T0 + timedelta(days=9)}
    assert metrics.watermark == T0 + timedelta(days=9)
    assert metrics.low_watermark == T0
    later = make_event("email.sent", T0 + timedelta(days=2), rep_id="rep-slow")
    outcome = metrics.process(later, partition=0, arrived=1.0)
    assert {change.watermark for change in outcome.changes} == {T0 + timedelta(days=2)}


def test_a_change_to_another_reps_deal_carries_that_reps_partition_time() -> None:
    """An SDR's work on an account touches the AE's deal: the change is judged at the AE's
    partition progress, not at the SDR's partition running ahead."""
    metrics = core()
    created = make_event(
        "opportunity.created",
        T0,
        rep_id="rep-ae",
        opportunity_id="o1",
        account_id="a1",
        payload={"name": "Deal", "stage": "Discovery", "amount": "1000.00"},
    )
    metrics.process(created, partition=0, arrived=0.0)
    sdr_touch = make_event("email.sent", T0 + timedelta(days=12), rep_id="rep-sdr", account_id="a1")
    outcome = metrics.process(sdr_touch, partition=1, arrived=0.1)
    [deal_change] = [c for c in outcome.changes if isinstance(c, OpportunityChanged)]
    assert deal_change.rep_id == "rep-ae" and deal_change.watermark == T0
    assert deal_change.state.last_touch_at == T0 + timedelta(days=12)


def test_work_on_an_account_leaves_its_closed_deals_alone() -> None:
    metrics = core()
    for event in opp_events()[:1]:
        metrics.process(event)
    lost = make_event("opportunity.closed_lost", T0 + timedelta(days=1), opportunity_id="o1")
    metrics.process(lost)
    outcome = metrics.process(
        make_event(
            "call.made", T0 + timedelta(days=2), account_id="a1", payload={"connected": False}
        )
    )
    assert not [c for c in outcome.changes if isinstance(c, OpportunityChanged)]


def test_account_work_from_before_a_deal_existed_does_not_touch_it() -> None:
    """A late-arriving email from before the deal was opened is not work on the deal."""
    metrics = core()
    for event in opp_events()[:1]:
        metrics.process(event)
    early = make_event("email.sent", T0 - timedelta(days=20), account_id="a1")
    outcome = metrics.process(early)
    assert not [c for c in outcome.changes if isinstance(c, OpportunityChanged)]
    state = metrics.opportunity("o1")
    assert state is not None and state.last_touch_at is None
