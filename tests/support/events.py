"""Build canonical SalesEvents for tests with little ceremony."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from shared.events import SalesEvent

_counter = itertools.count()


def make_event(
    event_type: str,
    at: datetime,
    *,
    rep_id: str = "rep-1",
    delivery_id: str | None = None,
    payload: dict[str, Any] | None = None,
    **fields: Any,
) -> SalesEvent:
    """A valid SalesEvent of `event_type` at `at`; the delivery id is unique unless given."""
    return SalesEvent.model_validate(
        {
            "type": event_type,
            "occurred_at": at.isoformat(),
            "source": {"vendor": "canonical", "delivery_id": delivery_id or f"d{next(_counter)}"},
            "rep_id": rep_id,
            "payload": payload or {},
            **fields,
        }
    )


def rep_upserted(
    at: datetime,
    rep_id: str,
    *,
    manager_id: str | None = None,
    role: str = "AE",
    email: str | None = None,
    time_zone: str = "UTC",
    team: str = "east",
) -> SalesEvent:
    """A rep.upserted event for a rep (or a manager with role='manager')."""
    return make_event(
        "rep.upserted",
        at,
        rep_id=rep_id,
        payload={
            "name": rep_id.replace("-", " ").title(),
            "email": email or f"{rep_id}@example.com",
            "role": role,
            "manager_id": manager_id,
            "team": team,
            "time_zone": time_zone,
        },
    )
