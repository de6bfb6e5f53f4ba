"""The notification outbox: per (alert fingerprint, channel), what was delivered and how.

Slack has no idempotency key, so the returned message ts is stored and later changes edit
that message. Column use: `notified_state` is the state the delivered message shows
(`pending` until one is delivered), `status`/`attempts`/`last_error` describe the latest
attempt, and `updated_at` is the alert version (its event-time `updated_at`) that attempt
was about, which is what makes redelivered messages recognisable.
"""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from services.digest.decide import DeliveryStatus, NotificationRecord
from shared.alerting import AlertState
from shared.db.engine import session_scope
from shared.db.models import NotificationOutbox

SLACK = "slack"


def load(engine: Engine, *, fingerprint: str, channel: str) -> NotificationRecord | None:
    """The outbox record of one alert on one channel, if any."""
    with session_scope(engine) as session:
        row = session.exec(_row_query(fingerprint, channel)).first()
        return None if row is None else _to_record(row)


def save(engine: Engine, *, fingerprint: str, channel: str, record: NotificationRecord) -> None:
    """Insert or overwrite the record of one alert on one channel."""
    try:
        _upsert(engine, fingerprint, channel, record)
    except IntegrityError:
        _upsert(engine, fingerprint, channel, record)  # a concurrent insert won; now update


def _upsert(engine: Engine, fingerprint: str, channel: str, record: NotificationRecord) -> None:
    with session_scope(engine) as session:
        row = session.exec(_row_query(fingerprint, channel)).first()
        if row is None:
            row = NotificationOutbox(
                fingerprint=fingerprint,
                channel=channel,
                recipient_id="",
                notified_state="",
                status="",
                updated_at=record.version,
            )
        row.recipient_id = record.recipient_id
        row.message_ts = record.message_ts
        row.notified_state = record.shown_state.value
        row.status = record.status.value
        row.attempts = record.attempts
        row.last_error = record.last_error
        row.updated_at = record.version
        row.alert_version = record.alert_version
        session.add(row)


def _row_query(fingerprint: str, channel: str) -> SelectOfScalar[NotificationOutbox]:
    return select(NotificationOutbox).where(
        col(NotificationOutbox.fingerprint) == fingerprint,
        col(NotificationOutbox.channel) == channel,
    )


def _to_record(row: NotificationOutbox) -> NotificationRecord:
    return NotificationRecord(
        shown_state=AlertState(row.notified_state),
        message_ts=row.message_ts,
        status=DeliveryStatus(row.status),
        version=row.updated_at,
        alert_version=row.alert_version,
        recipient_id=row.recipient_id,
        attempts=row.attempts,
        last_error=row.last_error,
    )
