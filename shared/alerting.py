"""The alert contract shared by the alerts service (producer) and digest/api (consumers)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Number = float | int | str | None


class AlertState(StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Valence(StrEnum):
    WARNING = "warning"
    POSITIVE = "positive"
    NEUTRAL = "neutral"


class Audience(StrEnum):
    MANAGER_ONLY = "manager_only"
    TEAM = "team"


class SubjectType(StrEnum):
    REP = "rep"
    OPPORTUNITY = "opportunity"
    TEAM = "team"


def fingerprint(rule: str, subject_type: str, subject_id: str, period: str = "") -> str:
    """Stable identity of an alert: the same condition always maps to the same alert."""
    raw = "\x1f".join((rule, subject_type, subject_id, period)).encode()
    return hashlib.sha256(raw).hexdigest()[:32]


class AlertMessage(BaseModel):
    """One lifecycle change of one alert, as carried on the alerts topic."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fingerprint: str
    # Increments with every change of this alert: orders versions that share an event time
    # (a touch and the staleness it resolves can carry the same timestamp under replay).
    version: int = Field(default=1, ge=1)
    rule: str
    subject_type: SubjectType
    subject_id: str
    subject_name: str = ""
    rep_id: str
    rep_name: str = ""
    manager_id: str | None = None
    team: str | None = None
    state: AlertState
    previous_state: AlertState | None = None
    severity: Severity
    valence: Valence
    audience: Audience
    title: str = Field(max_length=300)
    why: str
    next_step: str
    numbers: dict[str, Number] = Field(default_factory=dict)
    period: str = ""
    started_at: AwareDatetime
    updated_at: AwareDatetime
    resolved_at: AwareDatetime | None = None

    def to_json(self) -> bytes:
        """Serialise for the alerts topic."""
        return orjson.dumps(self.model_dump(mode="json"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> AlertMessage:
        """Parse one message from the alerts topic."""
        return cls.model_validate(orjson.loads(raw))


def event_time_of(message: AlertMessage) -> datetime:
    """The event time at which this change happened (drives replay clocks downstream)."""
    return message.updated_at
