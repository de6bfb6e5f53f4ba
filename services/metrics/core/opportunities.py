"""Opportunity state from opportunity and activity events, last-writer-wins by event time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.events import (
    AmountChangedPayload,
    CloseDateChangedPayload,
    ClosedWonPayload,
    EventType,
    MeetingHeldPayload,
    MeetingScheduledPayload,
    OpportunityCreatedPayload,
    OwnerChangedPayload,
    SalesEvent,
    StageChangedPayload,
)
from shared.state import OpportunityState


def new_state(event: SalesEvent, opportunity_id: str) -> OpportunityState:
    """An empty state for an opportunity first heard of through `event`."""
    return OpportunityState(
        opportunity_id=opportunity_id,
        rep_id=event.rep_id,
        account_id=event.account_id,
        updated_at=event.occurred_at,
    )


def _write(state: OpportunityState, group: str, at: datetime, **values: Any) -> OpportunityState:
    """Apply `values` unless a later event already wrote this field group."""
    last = state.field_times.get(group)
    if last is not None and at < last:
        return state
    return state.model_copy(update={**values, "field_times": {**state.field_times, group: at}})


def apply_opportunity_event(state: OpportunityState, event: SalesEvent) -> OpportunityState:
    """Fold one opportunity.* event into the state."""
    at, payload = event.occurred_at, event.payload
    if isinstance(payload, OpportunityCreatedPayload):
        state = _write(
            state, "created", at, created_at=at, name=payload.name, pipeline=payload.pipeline
        )
        state = _write(state, "stage", at, stage=payload.stage, stage_changed_at=at)
        state = _write(state, "amount", at, amount=payload.amount, currency=payload.currency)
        state = _write(state, "close_date", at, close_date=payload.close_date)
    elif isinstance(payload, StageChangedPayload):
        state = _write(state, "stage", at, stage=payload.to_stage, stage_changed_at=at)
    elif isinstance(payload, AmountChangedPayload):
        state = _write(state, "amount", at, amount=payload.to_amount, currency=payload.currency)
    elif isinstance(payload, CloseDateChangedPayload):
        state = _write(state, "close_date", at, close_date=payload.to_date)
    elif isinstance(payload, OwnerChangedPayload):
        state = _write(state, "owner", at, rep_id=payload.to_rep_id)
    elif event.type in (EventType.OPPORTUNITY_CLOSED_WON, EventType.OPPORTUNITY_CLOSED_LOST):
        won = event.type is EventType.OPPORTUNITY_CLOSED_WON
        state = _write(state, "closed", at, is_closed=True, is_won=won, closed_at=at)
        if isinstance(payload, ClosedWonPayload) and payload.amount is not None:
            state = _write(state, "amount", at, amount=payload.amount)
    if event.account_id and not state.account_id:
        state = state.model_copy(update={"account_id": event.account_id})
    return _touch_updated(state, at)


def apply_touch(state: OpportunityState, event: SalesEvent) -> OpportunityState:
    """Record outbound work (email, call, meeting held) on the opportunity."""
    if state.last_touch_at is None or event.occurred_at >= state.last_touch_at:
        state = state.model_copy(
            update={"last_touch_at": event.occurred_at, "last_touch_type": event.type.value}
        )
    if isinstance(event.payload, MeetingHeldPayload):
        meetings = dict(state.upcoming_meetings)
        meetings.pop(event.payload.meeting_id, None)
        state = state.model_copy(update={"upcoming_meetings": meetings})
    return _touch_updated(state, event.occurred_at)


def apply_meeting_scheduled(state: OpportunityState, event: SalesEvent) -> OpportunityState:
    """Remember a booked meeting: a scheduled meeting means the deal is being worked."""
    payload = event.payload
    assert isinstance(payload, MeetingScheduledPayload)
    held_already = state.field_times.get(f"held:{payload.meeting_id}")
    if held_already is not None:
        return state
    meetings = {**state.upcoming_meetings, payload.meeting_id: payload.starts_at}
    return _touch_updated(
        state.model_copy(update={"upcoming_meetings": meetings}), event.occurred_at
    )


def mark_meeting_held(state: OpportunityState, event: SalesEvent) -> OpportunityState:
    """Remember that a meeting was held, so a late 'scheduled' for it is ignored."""
    payload = event.payload
    assert isinstance(payload, MeetingHeldPayload)
    times = {**state.field_times, f"held:{payload.meeting_id}": event.occurred_at}
    return state.model_copy(update={"field_times": times})


def _touch_updated(state: OpportunityState, at: datetime) -> OpportunityState:
    if at > state.updated_at:
        return state.model_copy(update={"updated_at": at})
    return state
