"""The Salesforce (Outbound Messages and CDC) section of the mapping file.

The shared fields, keyed the Salesforce way:

- `users`: User Id (OwnerId, CDC commitUser; 18-character) → rep id.
- `pipelines`: Salesforce has one opportunity stage list per sales process; the key is the
  value of `pipeline_field` on the opportunity (e.g. `RecordTypeId`), or `default` when
  `pipeline_field` is unset. Each lists StageName values in funnel order (→ canonical stage)
  and the won/lost ones. Defaults to Salesforce's standard stages, each to itself.
- `activity_types`: TaskSubtype (Task records; their `Type` when TaskSubtype is empty) or
  EventSubtype (Event records) → email, call or meeting. Subtypes in
  `untracked_activity_types` (to-dos, list emails…) are ignored, not parked.

And Salesforce's own: the custom fields and picklist values that carry what standard fields
cannot (defaults are what the project's simulator sets up): the email direction, the call
dispositions, the meeting status and kind, the loss reason, and the currency of records
without CurrencyIsoCode (orgs without multi-currency).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from services.ingest.mapping_base import ActivityKind, PipelineMapping, VendorMapping
from shared.events import MeetingKind

DEFAULT_PIPELINE = "default"
CLOSED_WON, CLOSED_LOST = "Closed Won", "Closed Lost"
# Salesforce's standard opportunity stages (the StageName picklist of a new org), in order.
STANDARD_STAGES = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Value Proposition",
    "Id. Decision Makers",
    "Perception Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
)
DEFAULT_ACTIVITY_TYPES: dict[str, ActivityKind] = {
    "Email": "email",
    "Call": "call",
    "Event": "meeting",
}
# Standard TaskSubtype values that are no touch of a rep's own (a to-do, a mass email…).
DEFAULT_UNTRACKED_ACTIVITY_TYPES = ("Task", "ListEmail", "Cadence", "LinkedIn")

EmailType = Literal["email.sent", "email.replied"]
MeetingStatus = Literal["meeting.scheduled", "meeting.held"]


DEFAULT_EMAIL_DIRECTIONS: dict[str, EmailType] = {
    "Outbound": "email.sent",
    "Inbound": "email.replied",
}
DEFAULT_MEETING_STATUSES: dict[str, MeetingStatus | None] = {
    "Scheduled": "meeting.scheduled",
    "Held": "meeting.held",
}


def _default_pipelines() -> dict[str, PipelineMapping]:
    return {
        DEFAULT_PIPELINE: PipelineMapping(
            name="default",
            stages={stage: stage for stage in STANDARD_STAGES},
            won=[CLOSED_WON],
            lost=[CLOSED_LOST],
        )
    }


class SalesforceMapping(VendorMapping):
    """Salesforce (Outbound Messages and CDC): the shared fields plus this vendor's own."""

    pipelines: dict[str, PipelineMapping] = Field(
        default_factory=_default_pipelines,
        description="Sales process (pipeline_field value, or `default`) → its StageNames.",
    )
    pipeline_field: str | None = Field(
        default=None,
        description="Opportunity field naming its pipeline (e.g. RecordTypeId); unset: "
        "every opportunity is in the `default` pipeline.",
    )
    activity_types: dict[str, ActivityKind] = Field(
        default_factory=lambda: dict(DEFAULT_ACTIVITY_TYPES),
        description="TaskSubtype / EventSubtype → email, call or meeting.",
    )
    untracked_activity_types: list[str] = Field(
        default_factory=lambda: list(DEFAULT_UNTRACKED_ACTIVITY_TYPES),
        description="TaskSubtype / EventSubtype values that are ignored (not parked).",
    )
    direction_field: str = Field(
        default="Direction__c", description="Task field telling a sent email from a reply."
    )
    email_directions: dict[str, EmailType] = Field(
        default_factory=lambda: dict(DEFAULT_EMAIL_DIRECTIONS),
        description="direction_field value → email.sent or email.replied.",
    )
    call_dispositions: dict[str, bool] = Field(
        default_factory=lambda: {"Connected": True, "No Answer": False},
        description="CallDisposition → whether the call connected.",
    )
    meeting_status_field: str = Field(
        default="Meeting_Status__c", description="Event field telling booked from held."
    )
    meeting_statuses: dict[str, MeetingStatus | None] = Field(
        default_factory=lambda: dict(DEFAULT_MEETING_STATUSES),
        description="meeting_status_field value → meeting event (null: not tracked, "
        "e.g. Canceled).",
    )
    meeting_kind_field: str = Field(
        default="Meeting_Kind__c", description="Event field telling an initial meeting."
    )
    meeting_kinds: dict[str, MeetingKind] = Field(
        default_factory=lambda: {
            "Initial": MeetingKind.INITIAL,
            "Follow-up": MeetingKind.FOLLOW_UP,
        },
        description="meeting_kind_field value → canonical meeting kind.",
    )
    loss_reason_field: str = Field(
        default="Loss_Reason__c", description="Opportunity field holding why a deal was lost."
    )
    currency: str = Field(
        default="USD",
        min_length=3,
        max_length=3,
        description="The org's currency, for records without CurrencyIsoCode.",
    )
