"""Metric state the metrics service keeps and emits on the rep.metrics topic.

These are plain data: the metrics service's pure core builds them from SalesEvents, the
alerts service evaluates rules over them, and the DB snapshots mirror them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from shared.events import Role


class _State(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RepProfile(_State):
    """A rep (or manager) as the org directory knows them."""

    rep_id: str
    name: str
    email: str
    role: Role
    manager_id: str | None = None
    team: str | None = None
    hire_date: date | None = None
    time_zone: str = "UTC"
    active: bool = True
    departed_on: date | None = None
    updated_at: AwareDatetime


class OpportunityState(_State):
    """Latest known state of one opportunity; each field group is last-writer-wins by event
    time, so out-of-order and repeated deliveries converge on the same state."""

    opportunity_id: str
    rep_id: str
    account_id: str | None = None
    name: str = ""
    stage: str = ""
    pipeline: str = "default"
    amount: Decimal = Decimal(0)
    currency: str = "USD"
    close_date: date | None = None
    is_closed: bool = False
    is_won: bool = False
    created_at: AwareDatetime | None = None
    stage_changed_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    last_touch_at: AwareDatetime | None = None
    last_touch_type: str | None = None
    # meeting id -> start time of meetings scheduled and not yet held
    upcoming_meetings: dict[str, AwareDatetime] = Field(default_factory=dict)
    # field group -> event time of the last write to it (for last-writer-wins)
    field_times: dict[str, AwareDatetime] = Field(default_factory=dict)
    updated_at: AwareDatetime

    @property
    def is_open(self) -> bool:
        return not self.is_closed

    def next_meeting_after(self, now: datetime) -> datetime | None:
        """The earliest scheduled meeting that starts after `now`, if any."""
        future = [start for start in self.upcoming_meetings.values() if start > now]
        return min(future) if future else None


ACTIVITY_COUNTERS = (
    "emails_sent",
    "emails_replied",
    "calls_made",
    "calls_connected",
    "meetings_scheduled",
    "meetings_held_initial",
    "meetings_held_follow_up",
    "opps_created",
    "opps_advanced",
    "opps_won",
    "opps_lost",
)


class DayBucket(_State):
    """One rep's activity on one calendar day in the rep's time zone."""

    rep_id: str
    day: date
    counts: dict[str, int] = Field(default_factory=dict)
    pipeline_created_amount: Decimal = Decimal(0)
    bookings_amount: Decimal = Decimal(0)
    account_ids: frozenset[str] = frozenset()
    updated_at: AwareDatetime

    def count(self, name: str) -> int:
        return self.counts.get(name, 0)


class RepChanged(_State):
    kind: Literal["rep"] = "rep"
    rep_id: str
    watermark: AwareDatetime
    profile: RepProfile


class OpportunityChanged(_State):
    kind: Literal["opportunity"] = "opportunity"
    rep_id: str
    watermark: AwareDatetime
    state: OpportunityState


class DayBucketChanged(_State):
    kind: Literal["day_bucket"] = "day_bucket"
    rep_id: str
    watermark: AwareDatetime
    bucket: DayBucket


MetricsChange = Annotated[
    RepChanged | OpportunityChanged | DayBucketChanged, Field(discriminator="kind")
]
_CHANGE = TypeAdapter(MetricsChange)


def change_to_json(change: RepChanged | OpportunityChanged | DayBucketChanged) -> bytes:
    """Serialise one change for the rep.metrics topic."""
    return orjson.dumps(change.model_dump(mode="json"))


def change_from_json(raw: bytes | str) -> RepChanged | OpportunityChanged | DayBucketChanged:
    """Parse one message of the rep.metrics topic."""
    return _CHANGE.validate_python(orjson.loads(raw))
