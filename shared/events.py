"""The canonical SalesEvent: every CRM's webhook is normalised into one of these.

Wire format (JSON), schema version 1::

    {"schema_version": 1, "event_id": "…", "type": "email.sent",
     "occurred_at": "2026-11-02T14:03:00+00:00",
     "source": {"vendor": "canonical", "delivery_id": "abc-123"},
     "rep_id": "rep-1", "account_id": "acc-9", "opportunity_id": null, "contact_id": "c-4",
     "payload": {...fields of the type...}}

`event_id` is derived from (vendor, delivery id, type) when the sender omits it, so a
retried delivery maps to the same id and is counted once downstream.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

from shared.timezones import is_known_zone

SCHEMA_VERSION: Literal[1] = 1

# Fixed namespace so ids are stable across processes, machines and releases.
EVENT_ID_NAMESPACE = uuid.UUID("5b0c3a52-6f1e-4e0f-9a57-0c1f3d1c2a10")

Id = Annotated[str, Field(min_length=1, max_length=128)]


def _to_utc(moment: datetime) -> datetime:
    """Normalise to UTC at the edge, so nothing downstream meets an unrepresentable offset."""
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("datetime is out of range once converted to UTC") from exc


# Every datetime in the contract: tz-aware on input, UTC once validated.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]


_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def derive_event_id(vendor: str, delivery_id: str, event_type: str) -> str:
    """Deterministic event id for one vendor delivery of one event type.

    Exactly `uuid.uuid5(EVENT_ID_NAMESPACE, name)`, computed without building UUID objects:
    the simulator and ingest derive millions of these.
    """
    name = f"{vendor}\x1f{delivery_id}\x1f{event_type}".encode()
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class Vendor(StrEnum):
    CANONICAL = "canonical"
    SALESFORCE = "salesforce"
    HUBSPOT = "hubspot"
    PIPEDRIVE = "pipedrive"
    SIMULATOR = "simulator"


class Role(StrEnum):
    SDR = "SDR"
    AE = "AE"
    MANAGER = "manager"


class MeetingKind(StrEnum):
    INITIAL = "initial"
    FOLLOW_UP = "follow_up"


def _tag(event_type: str) -> Any:
    """The payload's discriminator: set from the envelope's `type`, not sent on the wire."""
    return Field(default=event_type, exclude=True)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    vendor: Vendor
    delivery_id: Id


# ---- payloads, one per event type -------------------------------------------------------


class EmailSentPayload(_Strict):
    type: Literal["email.sent"] = _tag("email.sent")
    subject: str | None = Field(default=None, max_length=1000)


class EmailRepliedPayload(_Strict):
    type: Literal["email.replied"] = _tag("email.replied")
    in_reply_to_event_id: str | None = None


class CallMadePayload(_Strict):
    type: Literal["call.made"] = _tag("call.made")
    connected: bool
    duration_seconds: int = Field(default=0, ge=0, le=86_400)


class MeetingScheduledPayload(_Strict):
    type: Literal["meeting.scheduled"] = _tag("meeting.scheduled")
    meeting_id: Id
    starts_at: UtcDatetime
    kind: MeetingKind = MeetingKind.INITIAL


class MeetingHeldPayload(_Strict):
    type: Literal["meeting.held"] = _tag("meeting.held")
    meeting_id: Id
    kind: MeetingKind = MeetingKind.INITIAL
    duration_minutes: int = Field(default=30, ge=0, le=24 * 60)


class OpportunityCreatedPayload(_Strict):
    type: Literal["opportunity.created"] = _tag("opportunity.created")
    name: str = Field(default="", max_length=500)
    stage: str = Field(min_length=1, max_length=100)
    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=2)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    close_date: date | None = None
    pipeline: str = "default"


class StageChangedPayload(_Strict):
    type: Literal["opportunity.stage_changed"] = _tag("opportunity.stage_changed")
    from_stage: str | None = None
    to_stage: str = Field(min_length=1, max_length=100)


class AmountChangedPayload(_Strict):
    type: Literal["opportunity.amount_changed"] = _tag("opportunity.amount_changed")
    from_amount: Decimal | None = None
    to_amount: Decimal = Field(ge=0, max_digits=18, decimal_places=2)
    currency: str = Field(default="USD", min_length=3, max_length=3)


class CloseDateChangedPayload(_Strict):
    type: Literal["opportunity.close_date_changed"] = _tag("opportunity.close_date_changed")
    from_date: date | None = None
    to_date: date


class OwnerChangedPayload(_Strict):
    type: Literal["opportunity.owner_changed"] = _tag("opportunity.owner_changed")
    from_rep_id: str | None = None
    to_rep_id: Id


class ClosedWonPayload(_Strict):
    type: Literal["opportunity.closed_won"] = _tag("opportunity.closed_won")
    amount: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)


class ClosedLostPayload(_Strict):
    type: Literal["opportunity.closed_lost"] = _tag("opportunity.closed_lost")
    reason: str | None = Field(default=None, max_length=500)


class RepUpsertedPayload(_Strict):
    type: Literal["rep.upserted"] = _tag("rep.upserted")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    role: Role
    manager_id: str | None = None
    team: str | None = Field(default=None, max_length=100)
    hire_date: date | None = None
    time_zone: str = Field(default="UTC", max_length=64)

    @field_validator("time_zone")
    @classmethod
    def _known_time_zone(cls, value: str) -> str:
        if not is_known_zone(value):
            raise ValueError(f"unknown time zone {value!r}")
        return value


class RepDepartedPayload(_Strict):
    type: Literal["rep.departed"] = _tag("rep.departed")
    last_day: date | None = None


class PtoSetPayload(_Strict):
    type: Literal["pto.set"] = _tag("pto.set")
    start_date: date
    end_date: date

    @model_validator(mode="after")
    def _ordered(self) -> PtoSetPayload:
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class GoalPeriod(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


class GoalSetPayload(_Strict):
    type: Literal["goal.set"] = _tag("goal.set")
    metric: str = Field(min_length=1, max_length=64)
    period: GoalPeriod
    period_start: date
    target: Decimal = Field(ge=0, max_digits=18, decimal_places=2)


# ---- the envelope ----------------------------------------------------------------------


class EventType(StrEnum):
    EMAIL_SENT = "email.sent"
    EMAIL_REPLIED = "email.replied"
    CALL_MADE = "call.made"
    MEETING_SCHEDULED = "meeting.scheduled"
    MEETING_HELD = "meeting.held"
    OPPORTUNITY_CREATED = "opportunity.created"
    OPPORTUNITY_STAGE_CHANGED = "opportunity.stage_changed"
    OPPORTUNITY_AMOUNT_CHANGED = "opportunity.amount_changed"
    OPPORTUNITY_CLOSE_DATE_CHANGED = "opportunity.close_date_changed"
    OPPORTUNITY_OWNER_CHANGED = "opportunity.owner_changed"
    OPPORTUNITY_CLOSED_WON = "opportunity.closed_won"
    OPPORTUNITY_CLOSED_LOST = "opportunity.closed_lost"
    REP_UPSERTED = "rep.upserted"
    REP_DEPARTED = "rep.departed"
    PTO_SET = "pto.set"
    GOAL_SET = "goal.set"


Payload = Annotated[
    EmailSentPayload
    | EmailRepliedPayload
    | CallMadePayload
    | MeetingScheduledPayload
    | MeetingHeldPayload
    | OpportunityCreatedPayload
    | StageChangedPayload
    | AmountChangedPayload
    | CloseDateChangedPayload
    | OwnerChangedPayload
    | ClosedWonPayload
    | ClosedLostPayload
    | RepUpsertedPayload
    | RepDepartedPayload
    | PtoSetPayload
    | GoalSetPayload,
    Field(discriminator="type"),
]

# Outbound work that counts as "touching" an opportunity or account (replies are inbound).
TOUCH_TYPES = frozenset({EventType.EMAIL_SENT, EventType.CALL_MADE, EventType.MEETING_HELD})
OPPORTUNITY_TYPES = frozenset(t for t in EventType if t.value.startswith("opportunity."))


class SalesEvent(_Strict):
    """One thing that happened in a rep's CRM, at event time."""

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: Id
    type: EventType
    occurred_at: UtcDatetime
    source: Source
    rep_id: Id
    account_id: str | None = Field(default=None, max_length=128)
    opportunity_id: str | None = Field(default=None, max_length=128)
    contact_id: str | None = Field(default=None, max_length=128)
    payload: Payload

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Derive a missing event_id and tag the payload with the event type."""
        if not isinstance(data, dict):
            return data
        event_type = data.get("type")
        source = data.get("source")
        updates: dict[str, Any] = {}
        if not data.get("event_id") and isinstance(source, dict):
            vendor, delivery_id = source.get("vendor"), source.get("delivery_id")
            if vendor and delivery_id and isinstance(event_type, str):
                updates["event_id"] = derive_event_id(str(vendor), str(delivery_id), event_type)
        payload = data.get("payload", {})
        if isinstance(payload, dict) and isinstance(event_type, str):
            updates["payload"] = {**payload, "type": event_type}
        return {**data, **updates} if updates else data

    @model_validator(mode="after")
    def _consistent(self) -> SalesEvent:
        if self.payload.type != self.type.value:
            raise ValueError(f"payload is for {self.payload.type}, event type is {self.type}")
        if self.type in OPPORTUNITY_TYPES and not self.opportunity_id:
            raise ValueError(f"opportunity_id is required for {self.type.value} events")
        return self

    def to_json(self) -> bytes:
        """Serialise for the wire (compact JSON, UTF-8)."""
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, raw: bytes | str) -> SalesEvent:
        """Parse and validate one event from the wire."""
        return cls.model_validate(orjson.loads(raw))


EventBatch = TypeAdapter(list[SalesEvent])
