"""The tables every service shares. Each service writes its own and reads the others'.

metrics writes: rep, opportunity_snapshot, rep_day_bucket
alerts writes:  alert, alert_transition
digest writes:  notification_outbox, digest_log
ingest writes:  salesforce_snapshot (its own state: no other service reads it)
api reads all of them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.db.types import UtcDateTime


def _utc(**kwargs: Any) -> Any:
    return Field(sa_type=UtcDateTime, **kwargs)


class Rep(SQLModel, table=True):
    """The org directory: reps and managers, from rep.upserted / rep.departed events."""

    rep_id: str = Field(primary_key=True, max_length=128)
    name: str = Field(max_length=200)
    email: str = Field(max_length=320, index=True)
    role: str = Field(max_length=16)
    manager_id: str | None = Field(default=None, max_length=128, index=True)
    team: str | None = Field(default=None, max_length=100)
    hire_date: date | None = None
    time_zone: str = Field(default="UTC", max_length=64)
    active: bool = True
    departed_on: date | None = None
    updated_at: datetime = _utc()


class OpportunitySnapshot(SQLModel, table=True):
    """Latest known state of one opportunity, as the metrics service keeps it."""

    __tablename__ = "opportunity_snapshot"

    opportunity_id: str = Field(primary_key=True, max_length=128)
    rep_id: str = Field(max_length=128, index=True)
    account_id: str | None = Field(default=None, max_length=128)
    name: str = Field(default="", max_length=500)
    stage: str = Field(default="", max_length=100)
    amount: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(18, 2), nullable=False))
    currency: str = Field(default="USD", max_length=3)
    close_date: date | None = None
    is_closed: bool = False
    is_won: bool = False
    created_at: datetime | None = _utc(default=None)
    stage_changed_at: datetime | None = _utc(default=None)
    last_touch_at: datetime | None = _utc(default=None)
    last_touch_type: str | None = Field(default=None, max_length=32)
    next_meeting_at: datetime | None = _utc(default=None)
    # meeting id -> start time (ISO 8601) of meetings scheduled and not yet held
    upcoming_meetings: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    updated_at: datetime = _utc()


class RepDayBucket(SQLModel, table=True):
    """One rep's activity counts for one calendar day in the rep's time zone."""

    __tablename__ = "rep_day_bucket"

    rep_id: str = Field(primary_key=True, max_length=128)
    day: date = Field(primary_key=True)
    emails_sent: int = 0
    emails_replied: int = 0
    calls_made: int = 0
    calls_connected: int = 0
    meetings_scheduled: int = 0
    meetings_held_initial: int = 0
    meetings_held_follow_up: int = 0
    opps_created: int = 0
    pipeline_created_amount: Decimal = Field(
        default=Decimal(0), sa_column=Column(Numeric(18, 2), nullable=False)
    )
    opps_advanced: int = 0
    opps_won: int = 0
    opps_lost: int = 0
    bookings_amount: Decimal = Field(
        default=Decimal(0), sa_column=Column(Numeric(18, 2), nullable=False)
    )
    accounts_touched: int = 0
    updated_at: datetime = _utc()


class Alert(SQLModel, table=True):
    """One alert, identified by its fingerprint (rule, subject, period)."""

    fingerprint: str = Field(primary_key=True, max_length=64)
    version: int = 1
    rule: str = Field(max_length=64, index=True)
    subject_type: str = Field(max_length=32)
    subject_id: str = Field(max_length=128)
    subject_name: str = Field(default="", max_length=500)
    rep_id: str = Field(max_length=128, index=True)
    manager_id: str | None = Field(default=None, max_length=128, index=True)
    team: str | None = Field(default=None, max_length=100)
    state: str = Field(max_length=16, index=True)
    severity: str = Field(max_length=16)
    valence: str = Field(max_length=16)
    audience: str = Field(max_length=16)
    title: str = Field(max_length=300)
    why: str = Field(max_length=2000)
    next_step: str = Field(max_length=2000)
    numbers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    period: str = Field(default="", max_length=64)
    started_at: datetime = _utc()
    updated_at: datetime = _utc()
    resolved_at: datetime | None = _utc(default=None)


class AlertTransition(SQLModel, table=True):
    """Audit trail: every state change of every alert."""

    __tablename__ = "alert_transition"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, index=True)
    from_state: str | None = Field(default=None, max_length=16)
    to_state: str = Field(max_length=16)
    at: datetime = _utc()


class NotificationOutbox(SQLModel, table=True):
    """What was delivered where: Slack has no idempotency key, so we keep the message ts."""

    __tablename__ = "notification_outbox"
    __table_args__ = (UniqueConstraint("fingerprint", "channel"),)

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, index=True)
    channel: str = Field(max_length=64)
    recipient_id: str = Field(max_length=128)
    message_ts: str | None = Field(default=None, max_length=64)
    notified_state: str = Field(max_length=16)
    alert_version: int = 0
    status: str = Field(max_length=16)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    updated_at: datetime = _utc()


class DigestLog(SQLModel, table=True):
    """One row per (manager, digest date) sent, so a retry never sends twice."""

    __tablename__ = "digest_log"

    manager_id: str = Field(primary_key=True, max_length=128)
    digest_date: date = Field(primary_key=True)
    message_id: str = Field(max_length=200)
    alert_count: int = 0
    sent_at: datetime = _utc()


class DigestUnsubscribe(SQLModel, table=True):
    """Managers who opted out of the morning digest (one-click List-Unsubscribe)."""

    __tablename__ = "digest_unsubscribe"

    manager_id: str = Field(primary_key=True, max_length=128)
    unsubscribed_at: datetime = _utc()


class SalesforceSnapshot(SQLModel, table=True):
    """The last state ingest saw of one Salesforce record, per channel (Outbound Messages
    carry states, not changes: the next one is diffed against this)."""

    __tablename__ = "salesforce_snapshot"

    channel: str = Field(primary_key=True, max_length=16)  # "outbound" | "cdc"
    organization_id: str = Field(primary_key=True, max_length=15)
    record_id: str = Field(primary_key=True, max_length=15)  # the case-sensitive 15-char id
    # Digits only, fixed width (modification ms, commit number, sequence): newer sorts later.
    version: str = Field(max_length=64)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    modified_at: datetime = _utc()
