"""The event-time watermark as the database knows it: the replay clock's `now` for readers
(api) that do not consume the stream themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from shared.db.models import OpportunitySnapshot, RepDayBucket


def latest_event_time(session: Session) -> datetime | None:
    """The newest event time any snapshot holds; None for an empty database."""
    newest = [
        session.exec(select(func.max(OpportunitySnapshot.updated_at))).one(),
        session.exec(select(func.max(RepDayBucket.updated_at))).one(),
    ]
    known = [moment for moment in newest if moment is not None]
    return max(known) if known else None
