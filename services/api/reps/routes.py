"""GET /v1/reps/{rep_id} and GET /v1/reps/{rep_id}/metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from services.api.deps import SessionDep
from services.api.errors import not_found
from services.api.params import id_path
from services.api.reps import service
from services.api.reps.schemas import RepMetrics, RepProfile
from services.api.schemas import CalendarDate

router = APIRouter(prefix="/v1/reps", tags=["reps"])

RepIdPath = Annotated[str, id_path("The rep's id in the org directory.")]


@router.get(
    "/{rep_id}",
    summary="A rep's profile",
    description="The rep's entry in the org directory.",
    responses=not_found("The directory does not know this rep."),
)
def get_rep(session: SessionDep, rep_id: RepIdPath) -> RepProfile:
    rep = service.get_rep(session, rep_id=rep_id)
    if rep is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no rep {rep_id!r}")
    return rep


@router.get(
    "/{rep_id}/metrics",
    summary="A rep's daily activity",
    description=(
        "One bucket per calendar day (in the rep's time zone) from `start` to `end` inclusive, "
        "with zeros for days without activity, plus totals and rates over the range. "
        "Without `end` the range ends on the rep's latest bucket day; without `start` it "
        "covers 28 days. At most 366 days; `start` after `end` is a 422."
    ),
    responses=not_found("Neither the directory nor the metrics know this rep."),
)
def get_rep_metrics(
    session: SessionDep,
    rep_id: RepIdPath,
    start: Annotated[CalendarDate | None, Query(description="First day, YYYY-MM-DD.")] = None,
    end: Annotated[CalendarDate | None, Query(description="Last day, YYYY-MM-DD.")] = None,
) -> RepMetrics:
    metrics = service.rep_metrics(session, rep_id=rep_id, start=start, end=end)
    if metrics is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no rep {rep_id!r}")
    return metrics
