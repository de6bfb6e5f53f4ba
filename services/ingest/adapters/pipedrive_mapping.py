"""The Pipedrive section of the mapping file.

Pipedrive ids are integers; the mapping's keys are their decimal strings::

    "pipedrive": {
      "company_ids": ["7654321"],
      "users": {"12400001": "rep-0001"},
      "pipelines": {"1": {"name": "default",
                          "stages": {"1": "Discovery", "2": "Qualification", …}}},
      "activity_types": {"email": "email", "call": "call", "meeting": "meeting"},
      "ignored_activity_types": ["task", "deadline", "lunch"],
      "inbound_subject_prefix": "[Inbound] ",
      "call_subjects": {"Outbound call (connected)": true, "Outbound call (no answer)": false},
      "meeting_subject_prefixes": {"Intro meeting": "initial", "Follow-up meeting": "follow_up"}
    }

Won and lost are deal statuses in Pipedrive, not stages, so a pipeline's `won`/`lost` lists are
usually empty (a stage listed there closes the deal all the same). Pipedrive has no email
direction, call outcome or meeting kind field: the subject conventions below carry them, with
the defaults the project's simulator writes.
"""

from __future__ import annotations

from pydantic import Field

from services.ingest.mapping_base import ActivityKind, VendorMapping
from shared.events import MeetingKind

STANDARD_ACTIVITY_TYPES: dict[str, ActivityKind] = {
    "email": "email",
    "call": "call",
    "meeting": "meeting",
}
# Pipedrive's other built-in types, which no canonical event stands for.
STANDARD_IGNORED_ACTIVITY_TYPES = ["task", "deadline", "lunch"]
INBOUND_SUBJECT_PREFIX = "[Inbound] "
CALL_SUBJECTS = {"Outbound call (connected)": True, "Outbound call (no answer)": False}
MEETING_SUBJECT_PREFIXES = {
    "Intro meeting": MeetingKind.INITIAL,
    "Follow-up meeting": MeetingKind.FOLLOW_UP,
}


class PipedriveMapping(VendorMapping):
    """Pipedrive: users, pipelines and activity types, plus this vendor's own fields."""

    activity_types: dict[str, ActivityKind] = Field(
        default_factory=lambda: dict(STANDARD_ACTIVITY_TYPES),
        description="Activity type key → email, call or meeting (Pipedrive's own keys).",
    )
    ignored_activity_types: list[str] = Field(
        default_factory=lambda: list(STANDARD_IGNORED_ACTIVITY_TYPES),
        description="Activity type keys with no canonical event: ignored, not parked.",
    )
    company_ids: list[str] = Field(
        default_factory=list,
        description="Companies whose webhooks are mapped (meta.company_id); empty: any.",
    )
    inbound_subject_prefix: str = Field(
        default=INBOUND_SUBJECT_PREFIX,
        description="An email activity whose subject starts with this is a reply received.",
    )
    call_subjects: dict[str, bool] = Field(
        default_factory=lambda: dict(CALL_SUBJECTS),
        description="Call subject → connected; other calls connected when a duration is set.",
    )
    meeting_subject_prefixes: dict[str, MeetingKind] = Field(
        default_factory=lambda: dict(MEETING_SUBJECT_PREFIXES),
        description="Meeting subject prefix → meeting kind; other meetings are initial.",
    )
