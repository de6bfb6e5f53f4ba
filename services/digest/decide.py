"""Whether an alert change is worth a Slack message: a pure function, like Alertmanager's
`needsUpdate`, of the previous notification record and the incoming alert message.

An alert version is its (`updated_at`, `version`) pair: event time first, so a redelivered
or stale message is recognised without wall-clock time and replays decide exactly as live
runs do; then the alert's change counter, which orders changes that share an event time
(a touch and the staleness it resolves can carry the same timestamp under replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.digest.notifiers.base import DeliveryResult, Outcome
from shared.alerting import AlertMessage, AlertState


class Reason(StrEnum):
    FIRST = "first_notification"
    CHANGED = "changed"
    RESOLVED = "resolved"
    NOTHING = "nothing"


class DeliveryStatus(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"
    FAILED = "failed"


@dataclass(frozen=True)
class NotificationRecord:
    """What the outbox knows about one alert on one channel.

    `shown_state` is the state the delivered message displays (PENDING: nothing delivered
    yet); `status` and `version` describe the latest attempt, for the alert version
    (`updated_at`) it was about.
    """

    shown_state: AlertState
    message_ts: str | None
    status: DeliveryStatus
    version: datetime
    recipient_id: str = ""
    alert_version: int = 0
    attempts: int = 0
    last_error: str | None = None

    @property
    def notified(self) -> bool:
        """True when a message exists that a later change should edit."""
        return self.message_ts is not None and self.shown_state is not AlertState.PENDING

    @property
    def settled(self) -> bool:
        """True when the latest attempt finished (delivered, or gave up for good)."""
        return self.status is not DeliveryStatus.RETRYING


def decide(previous: NotificationRecord | None, incoming: AlertMessage) -> Reason:
    """The reason to notify about `incoming`, or NOTHING."""
    if incoming.state is AlertState.PENDING:
        return Reason.NOTHING
    if previous is not None and previous.settled and _not_newer(incoming, previous):
        return Reason.NOTHING  # redelivered, or older than what was already handled
    shown = previous.shown_state if previous is not None and previous.notified else None
    if incoming.state is AlertState.RESOLVED:
        return Reason.RESOLVED if shown is AlertState.FIRING else Reason.NOTHING
    if shown is AlertState.FIRING:
        return Reason.CHANGED
    # Never shown, or shown as resolved: a re-fire gets a fresh message the manager will
    # see, rather than an edit to one long scrolled away.
    return Reason.FIRST


def _not_newer(incoming: AlertMessage, previous: NotificationRecord) -> bool:
    return (incoming.updated_at, incoming.version) <= (previous.version, previous.alert_version)


def recipient_of(reason: Reason, previous: NotificationRecord | None, alert: AlertMessage) -> str:
    """Who gets this notification: edits go to whoever got the original message."""
    if reason is not Reason.FIRST and previous is not None and previous.recipient_id:
        return previous.recipient_id
    return alert.manager_id or ""


def after_attempt(
    previous: NotificationRecord | None,
    alert: AlertMessage,
    reason: Reason,
    result: DeliveryResult,
    *,
    recipient_id: str,
    attempts: int,
) -> NotificationRecord:
    """The outbox record once an attempt to act on `reason` for `alert` returned `result`."""
    if result.outcome is Outcome.DELIVERED:
        shown = AlertState.RESOLVED if reason is Reason.RESOLVED else AlertState.FIRING
        return NotificationRecord(
            shown_state=shown,
            message_ts=result.ref,
            status=DeliveryStatus.DELIVERED,
            version=alert.updated_at,
            alert_version=alert.version,
            recipient_id=recipient_id,
            attempts=attempts,
        )
    status = (
        DeliveryStatus.RETRYING if result.outcome is Outcome.RETRYABLE else DeliveryStatus.FAILED
    )
    notified = previous is not None and previous.notified
    return NotificationRecord(
        shown_state=previous.shown_state if previous is not None else AlertState.PENDING,
        message_ts=previous.message_ts if previous is not None else None,
        status=status,
        version=alert.updated_at,
        alert_version=alert.version,
        recipient_id=previous.recipient_id if notified and previous else recipient_id,
        attempts=attempts,
        last_error=result.detail,
    )
