"""Admin routes of the digest service (thin: validate, delegate, map results to HTTP)."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from services.digest.deps import SenderDep, require_api_key
from services.digest.notifiers import Outcome

router = APIRouter(prefix="/v1/digests", tags=["digests"], dependencies=[Depends(require_api_key)])


class DigestSent(BaseModel):
    """A manager's digest for a date; `sent` is False when it had gone out before."""

    manager_id: str
    digest_date: date
    message_id: str
    sent: bool
    alert_count: int


@router.post("/{manager_id}/send")
async def send_digest(manager_id: str, sender: SenderDep) -> DigestSent:
    """Send the manager's digest for their current local date now (once per date)."""
    result = await sender.send_now(manager_id)
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="unknown manager")
    if result.outcome is Outcome.RETRYABLE:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=result.detail)
    if result.outcome is Outcome.PERMANENT:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, detail=result.detail)
    return DigestSent(
        manager_id=result.manager_id,
        digest_date=result.digest_date,
        message_id=result.message_id,
        sent=result.sent,
        alert_count=result.alert_count,
    )
