"""Opportunity and rep state for alert tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from shared.events import Role
from shared.state import OpportunityState, RepProfile

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def opportunity(*, idle_days: float | None = 20, **overrides: Any) -> OpportunityState:
    touched = NOW - timedelta(days=idle_days) if idle_days is not None else None
    fields: dict[str, Any] = {
        "opportunity_id": "opp-1",
        "rep_id": "rep-1",
        "account_id": "acc-1",
        "name": "Acme expansion",
        "stage": "Discovery",
        "amount": Decimal("48000"),
        "created_at": NOW - timedelta(days=60),
        "stage_changed_at": NOW - timedelta(days=30),
        "last_touch_at": touched,
        "last_touch_type": "email.sent" if touched else None,
        "close_date": date(2026, 12, 31),
        "updated_at": NOW - timedelta(days=1),
    }
    return OpportunityState(**{**fields, **overrides})


def rep(**overrides: Any) -> RepProfile:
    fields: dict[str, Any] = {
        "rep_id": "rep-1",
        "name": "Dana Ortiz",
        "email": "dana@example.com",
        "role": Role.AE,
        "manager_id": "mgr-1",
        "team": "east",
        "updated_at": NOW - timedelta(days=100),
    }
    return RepProfile(**{**fields, **overrides})
