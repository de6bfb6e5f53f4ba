"""The org directory from rep.upserted / rep.departed events."""

from __future__ import annotations

from shared.events import RepDepartedPayload, RepUpsertedPayload, Role, SalesEvent
from shared.state import RepProfile


def apply_rep_event(profile: RepProfile | None, event: SalesEvent) -> RepProfile:
    """The rep's profile after `event` (a later upsert wins; departure sticks)."""
    payload = event.payload
    if profile is not None and event.occurred_at < profile.updated_at:
        return profile
    if isinstance(payload, RepUpsertedPayload):
        return RepProfile(
            rep_id=event.rep_id,
            name=payload.name,
            email=payload.email,
            role=payload.role,
            manager_id=payload.manager_id,
            team=payload.team,
            hire_date=payload.hire_date,
            time_zone=payload.time_zone,
            active=profile.active if profile else True,
            departed_on=profile.departed_on if profile else None,
            updated_at=event.occurred_at,
        )
    assert isinstance(payload, RepDepartedPayload)
    base = profile or RepProfile(
        rep_id=event.rep_id,
        name=event.rep_id,
        email=f"{event.rep_id}@unknown.invalid",
        role=Role.AE,
        updated_at=event.occurred_at,
    )
    return base.model_copy(
        update={
            "active": False,
            "departed_on": payload.last_day or event.occurred_at.date(),
            "updated_at": event.occurred_at,
        }
    )
