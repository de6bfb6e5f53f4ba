"""The HubSpot section of the mapping file.

Besides the shared fields, keyed the HubSpot way:

- `users`: HubSpot owner id (`hubspot_owner_id`) → rep id.
- `pipelines`: pipeline id (the deal's `pipeline` property; `default` for the portal's first
  pipeline) → its stage ids (`dealstage` values) in funnel order, and the won/lost ones.
  Defaults to HubSpot's default pipeline under HubSpot's own stage labels; a file that names
  `pipelines` replaces that default whole.
- `activity_types`: the engagement objects tracked, objectTypeId of the generic `object.*`
  events → kind: `0-49` email, `0-48` call, `0-47` meeting (all three by default; drop one to
  stop tracking it). Other objects are not tracked.

And HubSpot's own:

- `call_dispositions`: `hs_call_disposition` (a call-outcome GUID) → label and whether the
  call connected. Defaults to the six outcomes every portal starts with; portals can add more.
- `meeting_types`: `hs_activity_type` (portal-defined labels) → canonical meeting kind
  (`initial`, `follow_up`). A meeting with no type is an initial meeting.
- `currency`: the portal's company currency, for deals whose `deal_currency_code` is unset.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.ingest.mapping_base import ActivityKind, PipelineMapping, VendorMapping
from shared.events import MeetingKind

DEFAULT_PIPELINE_ID = "default"
WON_STAGE_ID, LOST_STAGE_ID = "closedwon", "closedlost"
# HubSpot's default sales pipeline, stage id → label, in order.
DEFAULT_STAGES = {
    "appointmentscheduled": "Appointment scheduled",
    "qualifiedtobuy": "Qualified to buy",
    "presentationscheduled": "Presentation scheduled",
    "decisionmakerboughtin": "Decision maker bought-in",
    "contractsent": "Contract sent",
}
# The engagement objects ingest reads: objectTypeId → what it is.
ENGAGEMENT_KINDS: dict[str, ActivityKind] = {"0-49": "email", "0-48": "call", "0-47": "meeting"}


class CallDisposition(BaseModel):
    """One call outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = ""
    connected: bool


# HubSpot's default call outcomes (GET /calling/v1/dispositions): the same GUIDs in every portal.
DEFAULT_CALL_DISPOSITIONS = {
    "9d9162e7-6cf3-4944-bf63-4dff82258764": CallDisposition(label="Busy", connected=False),
    "f240bbac-87c9-4f6e-bf70-924b57d47db7": CallDisposition(label="Connected", connected=True),
    "a4c4c377-d246-4b32-a13b-75a56a4cd0ff": CallDisposition(
        label="Left live message", connected=False
    ),
    "b2cf5968-551e-4856-9783-52b3da59a7d0": CallDisposition(
        label="Left voicemail", connected=False
    ),
    "73a0d17f-1163-4015-bdd5-ec830791da20": CallDisposition(label="No answer", connected=False),
    "17b47fee-58de-441e-a44c-c6300d46f273": CallDisposition(label="Wrong number", connected=False),
}


def _default_pipelines() -> dict[str, PipelineMapping]:
    return {
        DEFAULT_PIPELINE_ID: PipelineMapping(
            name="default", stages=dict(DEFAULT_STAGES), won=[WON_STAGE_ID], lost=[LOST_STAGE_ID]
        )
    }


class HubSpotMapping(VendorMapping):
    """HubSpot: users, pipelines and activity types, plus this vendor's own fields."""

    pipelines: dict[str, PipelineMapping] = Field(
        default_factory=_default_pipelines,
        description="Pipeline id → its stages (default: HubSpot's default pipeline).",
    )
    activity_types: dict[str, ActivityKind] = Field(
        default_factory=lambda: dict(ENGAGEMENT_KINDS),
        description="Engagement objectTypeIds tracked (0-49 email, 0-48 call, 0-47 meeting).",
    )
    call_dispositions: dict[str, CallDisposition] = Field(
        default_factory=lambda: dict(DEFAULT_CALL_DISPOSITIONS),
        description="hs_call_disposition GUID → label and whether the call connected.",
    )
    meeting_types: dict[str, MeetingKind] = Field(
        default_factory=dict, description="hs_activity_type → canonical meeting kind."
    )
    currency: str = Field(
        default="USD", min_length=3, max_length=3, description="The portal's company currency."
    )

    @field_validator("activity_types")
    @classmethod
    def _engagement_objects(cls, value: dict[str, ActivityKind]) -> dict[str, ActivityKind]:
        """Each key is an engagement object HubSpot has, as what it is: a call stays a call."""
        for type_id, kind in value.items():
            if ENGAGEMENT_KINDS.get(type_id) != kind:
                expected = ", ".join(f"{t}: {k}" for t, k in ENGAGEMENT_KINDS.items())
                raise ValueError(f"{type_id!r} → {kind!r}: entries are among {expected}")
        return value
