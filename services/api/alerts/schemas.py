"""Response bodies of the alert routes."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.api.schemas import Timestamp
from shared.alerting import AlertState, Audience, Number, Severity, SubjectType, Valence


class AlertOut(BaseModel):
    """One alert: every column of the `alert` table."""

    model_config = ConfigDict(from_attributes=True)

    fingerprint: str = Field(description="Stable identity of the alert (rule, subject, period).")
    version: int = Field(
        description="Increments with every change; orders changes that share an event time."
    )
    rule: str = Field(description="The rule that raised it, e.g. `stale_opportunity`.")
    subject_type: SubjectType = Field(description="What the alert is about.")
    subject_id: str = Field(description="Id of the rep, opportunity or team it is about.")
    subject_name: str = Field(description="Display name of the subject; may be empty.")
    rep_id: str = Field(description="The rep the alert concerns.")
    manager_id: str | None = Field(description="The rep's manager, who receives it.")
    team: str | None = Field(description="The rep's team.")
    state: AlertState = Field(description="Lifecycle state.")
    severity: Severity
    valence: Valence = Field(description="Whether this is a warning, good news, or neutral.")
    audience: Audience = Field(description="Who may see it: the manager only, or the team.")
    title: str = Field(description="One-line headline.")
    why: str = Field(description="The evidence, in words.")
    next_step: str = Field(description="What the manager could do about it.")
    numbers: dict[str, Number] = Field(
        description="The figures behind the alert, by name (numbers, text or null)."
    )
    period: str = Field(description="The period the alert covers, e.g. `2026-W02`; may be empty.")
    started_at: Timestamp = Field(description="Event time the condition was first seen.")
    updated_at: Timestamp = Field(description="Event time of the latest change.")
    resolved_at: Timestamp | None = Field(description="Event time it resolved, if it has.")


class AlertPage(BaseModel):
    """One page of alerts, newest change first."""

    items: list[AlertOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class TransitionOut(BaseModel):
    """One state change of an alert."""

    model_config = ConfigDict(from_attributes=True)

    from_state: AlertState | None = Field(description="State before; null when it was created.")
    to_state: AlertState = Field(description="State after.")
    at: Timestamp = Field(description="Event time of the change.")


class AlertDetail(AlertOut):
    """One alert with its whole history, oldest change first."""

    transitions: list[TransitionOut]
