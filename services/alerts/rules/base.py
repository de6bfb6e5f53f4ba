"""What a rule returns: whether its condition holds, with the numbers and words behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from shared.alerting import Audience, Number, Severity, SubjectType, Valence


class Reason(StrEnum):
    """Why a rule's condition holds or does not (kept in the numbers as `reason`)."""

    NO_RECENT_TOUCH = "no_recent_touch"
    TOUCHED_RECENTLY = "touched_recently"
    MEETING_BOOKED = "meeting_booked"
    CLOSED = "closed"
    NO_ACTIVITY_KNOWN = "no_activity_known"


@dataclass(frozen=True)
class Evaluation:
    """One rule's verdict on one subject at one `now`."""

    rule: str
    subject_type: SubjectType
    subject_id: str
    subject_name: str
    rep_id: str
    period: str
    holds: bool
    reason: Reason
    severity: Severity = Severity.WARNING
    valence: Valence = Valence.WARNING
    audience: Audience = Audience.MANAGER_ONLY
    title: str = ""
    why: str = ""
    next_step: str = ""
    numbers: dict[str, Number] = field(default_factory=dict)
    pending_for: timedelta = timedelta(0)
