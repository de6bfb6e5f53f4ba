"""Response bodies of the opportunity routes."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from services.api.alerts.schemas import AlertOut
from services.api.schemas import Money, Timestamp


class OpportunitySnapshotOut(BaseModel):
    """Latest known state of one opportunity: every column of `opportunity_snapshot`."""

    model_config = ConfigDict(from_attributes=True)

    opportunity_id: str
    rep_id: str = Field(description="The owning rep.")
    account_id: str | None
    name: str
    stage: str
    amount: Money
    currency: str = Field(description="ISO 4217 code of `amount`.")
    close_date: date | None
    is_closed: bool
    is_won: bool
    created_at: Timestamp | None
    stage_changed_at: Timestamp | None = Field(description="Event time of the last stage move.")
    last_touch_at: Timestamp | None = Field(description="Latest email, call or meeting on it.")
    last_touch_type: str | None = Field(description="The kind of event that last touch was.")
    next_meeting_at: Timestamp | None = Field(description="Earliest future meeting booked.")
    upcoming_meetings: dict[str, str] = Field(
        description="Meetings booked and not yet held: meeting id -> start time (ISO 8601)."
    )
    updated_at: Timestamp = Field(description="Event time of the latest change.")


class OpportunityOut(OpportunitySnapshotOut):
    """The snapshot, how long it has gone untouched, and the alerts about it."""

    as_of: Timestamp = Field(
        description=(
            "What `days_since_touch` is measured to: the wall clock, or under the replay "
            "clock the newest event time the system has seen; never before `updated_at`."
        )
    )
    days_since_touch: int | None = Field(
        description="Whole days from `last_touch_at` to `as_of`; null if it was never touched."
    )
    alerts: list[AlertOut] = Field(description="Alerts about this opportunity, newest first.")
