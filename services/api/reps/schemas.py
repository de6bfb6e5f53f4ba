"""Response bodies of the rep routes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.api.schemas import Money, Timestamp


class RepProfile(BaseModel):
    """A rep or manager from the org directory: every column of the `rep` table."""

    model_config = ConfigDict(from_attributes=True)

    rep_id: str
    name: str
    email: str
    role: str = Field(description="e.g. `sdr`, `ae`, `manager`.")
    manager_id: str | None = Field(description="The rep's manager, if any.")
    team: str | None
    hire_date: date | None
    time_zone: str = Field(description="IANA zone the rep's calendar days are counted in.")
    active: bool = Field(description="False once the rep has departed.")
    departed_on: date | None
    updated_at: Timestamp = Field(description="Event time of the latest directory change.")


class ActivityCounts(BaseModel):
    """Activity and results counted over some span of the rep's calendar days."""

    model_config = ConfigDict(from_attributes=True)

    emails_sent: int = 0
    emails_replied: int = 0
    calls_made: int = 0
    calls_connected: int = 0
    meetings_scheduled: int = Field(default=0, description="Meetings booked.")
    meetings_held_initial: int = Field(default=0, description="First meetings held.")
    meetings_held_follow_up: int = Field(default=0, description="Later meetings held.")
    opps_created: int = 0
    pipeline_created_amount: Money = Field(
        default=Decimal(0), description="Amount of new opportunities."
    )
    opps_advanced: int = Field(default=0, description="Stage moves forward.")
    opps_won: int = 0
    opps_lost: int = 0
    bookings_amount: Money = Field(default=Decimal(0), description="Closed-won amount.")
    accounts_touched: int = Field(default=0, description="Distinct accounts worked that day.")


class DayBucket(ActivityCounts):
    """One calendar day in the rep's time zone: every column of `rep_day_bucket`."""

    rep_id: str
    day: date
    updated_at: Timestamp | None = Field(
        default=None, description="When the stored row last changed; null for a day with no row."
    )


class Rates(BaseModel):
    """Ratios over the whole range; null when the denominator is zero."""

    call_connect_rate: float | None = Field(description="calls_connected / calls_made.")
    email_engagement_rate: float | None = Field(description="emails_replied / emails_sent.")
    follow_up_ratio: float | None = Field(
        description="meetings_held_follow_up / meetings_held_initial."
    )


class RepMetrics(BaseModel):
    """Every day of the range (days without activity as zeros), totals and rates."""

    rep_id: str
    rep: RepProfile | None = Field(description="The profile; null if the directory lacks the rep.")
    start: date = Field(description="First day of the range, inclusive.")
    end: date = Field(description="Last day of the range, inclusive.")
    days: list[DayBucket] = Field(description="One entry per day from start to end, in order.")
    totals: ActivityCounts = Field(description="Sums over the range.")
    rates: Rates
