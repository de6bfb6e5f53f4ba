"""Reading opportunity snapshots."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from services.api.alerts.service import alerts_about
from services.api.opportunities.schemas import OpportunityOut, OpportunitySnapshotOut
from shared.alerting import SubjectType
from shared.db.models import OpportunitySnapshot


def days_since_touch(*, last_touch_at: datetime | None, as_of: datetime) -> int | None:
    """Whole days from the last touch to `as_of`; None if never touched, never negative."""
    if last_touch_at is None:
        return None
    return max(0, (as_of - last_touch_at).days)


def get_opportunity(
    session: Session, *, opportunity_id: str, as_of: datetime | None
) -> OpportunityOut | None:
    """The snapshot, days since its last touch as of `as_of` (never before the snapshot's own
    event time), and its alerts; None if unknown."""
    snapshot = session.get(OpportunitySnapshot, opportunity_id)
    if snapshot is None:
        return None
    alerts = alerts_about(session, subject_type=SubjectType.OPPORTUNITY, subject_id=opportunity_id)
    measured_to = max(as_of, snapshot.updated_at) if as_of else snapshot.updated_at
    return OpportunityOut(
        **OpportunitySnapshotOut.model_validate(snapshot).model_dump(),
        as_of=measured_to,
        days_since_touch=days_since_touch(last_touch_at=snapshot.last_touch_at, as_of=measured_to),
        alerts=alerts,
    )
