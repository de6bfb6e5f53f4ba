"""Builders of AlertMessages and digest items for the digest unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.digest.decide import DeliveryStatus, NotificationRecord
from services.digest.email_digest import DigestItem
from shared.alerting import AlertMessage, AlertState, fingerprint

T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)
TOKEN = "xoxb-0000-unit-test-secret-token"


def alert(
    state: AlertState = AlertState.FIRING, *, at: datetime = T0, **overrides: Any
) -> AlertMessage:
    """A stale-opportunity alert on opp-1 for rep-1 (manager mgr-1), in `state` at `at`."""
    fields: dict[str, Any] = {
        "fingerprint": fingerprint("stale_opp", "opportunity", "opp-1"),
        "rule": "stale_opp",
        "subject_type": "opportunity",
        "subject_id": "opp-1",
        "subject_name": "Globex renewal",
        "rep_id": "rep-1",
        "rep_name": "Rita Rep",
        "manager_id": "mgr-1",
        "team": "east",
        "state": state,
        "severity": "warning",
        "valence": "warning",
        "audience": "manager_only",
        "title": "Globex renewal has gone quiet",
        "why": "No email, call or meeting for 21 days and nothing booked.",
        "next_step": "Ask Rita to book a call with the champion this week.",
        "numbers": {"days_since_touch": 21, "threshold_days": 14, "amount": 12000.5},
        "period": "",
        "started_at": T0 - timedelta(days=1),
        "updated_at": at,
        "resolved_at": at if state is AlertState.RESOLVED else None,
    }
    return AlertMessage(**(fields | overrides))


def record(
    shown: AlertState,
    status: DeliveryStatus = DeliveryStatus.DELIVERED,
    *,
    version: datetime = T0,
    alert_version: int = 1,
    ts: str | None = "1700000000.000100",
) -> NotificationRecord:
    """An outbox record showing `shown` (PENDING: nothing delivered, so no ts), about the
    alert version (`version`, `alert_version`) — by default the one `alert()` builds."""
    return NotificationRecord(
        shown_state=shown,
        message_ts=None if shown is AlertState.PENDING else ts,
        status=status,
        version=version,
        alert_version=alert_version,
        recipient_id="mgr-1",
    )


def item(index: int = 0, **overrides: Any) -> DigestItem:
    """A firing digest item for rep `rep-<index % 7>`."""
    fields: dict[str, Any] = {
        "fingerprint": f"{index:032x}",
        "title": f"Opportunity {index} has gone quiet",
        "why": "No touch for 21 days and no meeting booked.",
        "next_step": "Book a call with the champion this week.",
        "severity": "warning",
        "valence": "warning",
        "rep_id": f"rep-{index % 7}",
        "rep_name": f"Rep {index % 7}",
        "started_at": T0 - timedelta(days=index),
        "subject": f"Deal {index}",
        "period": "2026-W45",
        "numbers": {"days_since_touch": 21, "threshold_days": 14},
    }
    return DigestItem(**(fields | overrides))
