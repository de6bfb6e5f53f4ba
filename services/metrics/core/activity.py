"""Per-rep daily activity buckets: the base every window and baseline is built from."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from shared.events import (
    CallMadePayload,
    ClosedWonPayload,
    EventType,
    MeetingHeldPayload,
    MeetingKind,
    OpportunityCreatedPayload,
    SalesEvent,
    StageChangedPayload,
)
from shared.state import DayBucket, OpportunityState

_SIMPLE_COUNTERS: dict[EventType, str] = {
    EventType.EMAIL_SENT: "emails_sent",
    EventType.EMAIL_REPLIED: "emails_replied",
    EventType.CALL_MADE: "calls_made",
    EventType.MEETING_SCHEDULED: "meetings_scheduled",
    EventType.OPPORTUNITY_CREATED: "opps_created",
    EventType.OPPORTUNITY_CLOSED_WON: "opps_won",
    EventType.OPPORTUNITY_CLOSED_LOST: "opps_lost",
}
_ACCOUNT_TOUCHES = frozenset({EventType.EMAIL_SENT, EventType.CALL_MADE, EventType.MEETING_HELD})


def empty_bucket(rep_id: str, day: date, at: datetime) -> DayBucket:
    return DayBucket(rep_id=rep_id, day=day, updated_at=at)


def counts_in_bucket(event: SalesEvent) -> bool:
    """True for events that change a rep's daily activity counts."""
    return event.type in _SIMPLE_COUNTERS or event.type in (
        EventType.MEETING_HELD,
        EventType.OPPORTUNITY_STAGE_CHANGED,
    )


def add_to_bucket(
    bucket: DayBucket,
    event: SalesEvent,
    *,
    stage_order: tuple[str, ...],
    opportunity: OpportunityState | None = None,
) -> DayBucket:
    """Count one event (the caller guarantees each event id is added once)."""
    counts = dict(bucket.counts)
    increments = _increments(event, stage_order)
    for name in increments:
        counts[name] = counts.get(name, 0) + 1
    update: dict[str, object] = {"counts": counts}
    payload = event.payload
    if isinstance(payload, OpportunityCreatedPayload):
        update["pipeline_created_amount"] = bucket.pipeline_created_amount + payload.amount
    if isinstance(payload, ClosedWonPayload):
        won = payload.amount if payload.amount is not None else _amount_of(opportunity)
        update["bookings_amount"] = bucket.bookings_amount + won
    if event.type in _ACCOUNT_TOUCHES and event.account_id:
        update["account_ids"] = bucket.account_ids | {event.account_id}
    if event.occurred_at > bucket.updated_at:
        update["updated_at"] = event.occurred_at
    return bucket.model_copy(update=update)


def _increments(event: SalesEvent, stage_order: tuple[str, ...]) -> list[str]:
    payload = event.payload
    names = [_SIMPLE_COUNTERS[event.type]] if event.type in _SIMPLE_COUNTERS else []
    if isinstance(payload, CallMadePayload) and payload.connected:
        names.append("calls_connected")
    if isinstance(payload, MeetingHeldPayload):
        initial = payload.kind is MeetingKind.INITIAL
        names.append("meetings_held_initial" if initial else "meetings_held_follow_up")
    if isinstance(payload, StageChangedPayload) and _is_forward(payload, stage_order):
        names.append("opps_advanced")
    return names


def _is_forward(payload: StageChangedPayload, stage_order: tuple[str, ...]) -> bool:
    """A move to a later stage of the configured pipeline order (unknown stages: no)."""
    if payload.from_stage not in stage_order or payload.to_stage not in stage_order:
        return False
    return stage_order.index(payload.to_stage) > stage_order.index(payload.from_stage)


def _amount_of(opportunity: OpportunityState | None) -> Decimal:
    return opportunity.amount if opportunity is not None else Decimal(0)
