"""GET /v1/opportunities/{opportunity_id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, status

from services.api.deps import AsOfDep, SessionDep
from services.api.errors import not_found
from services.api.opportunities import service
from services.api.opportunities.schemas import OpportunityOut
from services.api.params import id_path

router = APIRouter(prefix="/v1/opportunities", tags=["opportunities"])


@router.get(
    "/{opportunity_id}",
    summary="One opportunity",
    description=(
        "The latest snapshot of the opportunity, how many days it has gone untouched as of "
        "now (the wall clock, or under the replay clock the newest event time), and every "
        "alert about it."
    ),
    responses=not_found("No snapshot exists for this opportunity."),
)
def get_opportunity(
    session: SessionDep,
    as_of: AsOfDep,
    opportunity_id: Annotated[str, id_path("The opportunity's CRM id.")],
) -> OpportunityOut:
    opportunity = service.get_opportunity(session, opportunity_id=opportunity_id, as_of=as_of)
    if opportunity is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no opportunity {opportunity_id!r}")
    return opportunity
