"""Small builders for table rows with sensible defaults; pass keywords to override.

Times default to a fixed event-time instant (`T0`), never the wall clock, so tests are
repeatable. `save(engine, *rows)` writes rows in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from shared.alerting import fingerprint as alert_fingerprint
from shared.db.engine import session_scope
from shared.db.models import Alert, AlertTransition, OpportunitySnapshot, Rep, RepDayBucket

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday morning
D0 = T0.date()


def make_rep(rep_id: str = "rep-1", **overrides: Any) -> Rep:
    """An active AE on team "east" reporting to "mgr-1"."""
    fields: dict[str, Any] = {
        "rep_id": rep_id,
        "name": f"Rep {rep_id}",
        "email": f"{rep_id}@example.com",
        "role": "ae",
        "manager_id": "mgr-1",
        "team": "east",
        "hire_date": date(2025, 1, 6),
        "time_zone": "America/New_York",
        "updated_at": T0,
    }
    return Rep(**(fields | overrides))


def make_opportunity(opportunity_id: str = "opp-1", **overrides: Any) -> OpportunitySnapshot:
    """An open 10,000 USD opportunity owned by "rep-1", last touched 3 days before T0."""
    fields: dict[str, Any] = {
        "opportunity_id": opportunity_id,
        "rep_id": "rep-1",
        "account_id": "acct-1",
        "name": f"Deal {opportunity_id}",
        "stage": "discovery",
        "amount": Decimal("10000.00"),
        "currency": "USD",
        "close_date": date(2026, 3, 31),
        "created_at": datetime(2025, 12, 1, tzinfo=UTC),
        "stage_changed_at": datetime(2025, 12, 15, tzinfo=UTC),
        "last_touch_at": datetime(2026, 1, 2, 9, 0, tzinfo=UTC),
        "last_touch_type": "email",
        "updated_at": T0,
    }
    return OpportunitySnapshot(**(fields | overrides))


def make_bucket(rep_id: str = "rep-1", day: date = D0, **overrides: Any) -> RepDayBucket:
    """One day of activity for a rep; every counter is zero unless overridden."""
    fields: dict[str, Any] = {"rep_id": rep_id, "day": day, "updated_at": T0}
    return RepDayBucket(**(fields | overrides))


def make_alert(
    rule: str = "stale_opportunity",
    subject_id: str = "opp-1",
    *,
    subject_type: str = "opportunity",
    period: str = "",
    **overrides: Any,
) -> Alert:
    """A firing warning about a subject; the fingerprint is derived as the alerts service does."""
    fields: dict[str, Any] = {
        "fingerprint": alert_fingerprint(rule, subject_type, subject_id, period),
        "rule": rule,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "subject_name": f"Deal {subject_id}" if subject_type == "opportunity" else "",
        "rep_id": "rep-1",
        "manager_id": "mgr-1",
        "team": "east",
        "state": "firing",
        "severity": "warning",
        "valence": "warning",
        "audience": "manager_only",
        "title": f"{rule} on {subject_id}",
        "why": "No touch in 14 days and no meeting booked.",
        "next_step": "Ask the rep for the next step.",
        "numbers": {"days_since_touch": 14, "threshold": 10},
        "period": period,
        "started_at": T0,
        "updated_at": T0,
    }
    return Alert(**(fields | overrides))


def make_transition(
    fingerprint: str, to_state: str = "firing", **overrides: Any
) -> AlertTransition:
    """One state change of an alert (from pending to firing unless overridden)."""
    fields: dict[str, Any] = {
        "fingerprint": fingerprint,
        "from_state": "pending",
        "to_state": to_state,
        "at": T0,
    }
    return AlertTransition(**(fields | overrides))


def save(engine: Engine, *rows: SQLModel | Iterable[SQLModel]) -> None:
    """Insert `rows` (or iterables of rows) in one transaction."""
    with session_scope(engine) as session:
        for row in rows:
            session.add_all([row] if isinstance(row, SQLModel) else list(row))
