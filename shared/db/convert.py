"""Rows <-> state models, in one place: metrics writes these rows, alerts and digest read them."""

from __future__ import annotations

from datetime import datetime

from shared.db.models import OpportunitySnapshot, Rep
from shared.events import Role
from shared.state import OpportunityState, RepProfile


def rep_row(profile: RepProfile) -> Rep:
    """The org-directory row of a rep profile."""
    return Rep(**profile.model_dump(exclude={"role"}), role=profile.role.value)


def rep_profile(row: Rep) -> RepProfile:
    """The rep profile an org-directory row holds."""
    return RepProfile.model_validate({**row.model_dump(), "role": Role(row.role)})


def opportunity_row(state: OpportunityState) -> OpportunitySnapshot:
    """The DB snapshot of an opportunity's state."""
    upcoming = sorted(state.upcoming_meetings.values())
    return OpportunitySnapshot(
        **state.model_dump(exclude={"pipeline", "closed_at", "upcoming_meetings", "field_times"}),
        next_meeting_at=upcoming[0] if upcoming else None,
        upcoming_meetings={k: v.isoformat() for k, v in state.upcoming_meetings.items()},
    )


def opportunity_state(row: OpportunitySnapshot) -> OpportunityState:
    """Opportunity state rebuilt from its snapshot (field times are not kept in the DB)."""
    meetings = {k: datetime.fromisoformat(v) for k, v in row.upcoming_meetings.items()}
    return OpportunityState.model_validate(
        {**row.model_dump(exclude={"next_meeting_at"}), "upcoming_meetings": meetings}
    )
