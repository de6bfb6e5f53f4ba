"""One-click unsubscribe from the morning digest (RFC 8058), authorised by the link's token.

POST (what mail clients send for `List-Unsubscribe-Post: List-Unsubscribe=One-Click`, and
what the confirmation page's button sends) records the opt-out. GET only shows that page:
link scanners prefetch GETs, and a prefetch must not unsubscribe anyone.
"""

from __future__ import annotations

import asyncio
from html import escape
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse

from services.digest import directory
from services.digest.deps import EngineDep, SettingsDep
from services.digest.digests import valid_unsubscribe_token
from shared.clock import WallClock

router = APIRouter(prefix="/v1/digests", tags=["digests"])

Token = Annotated[str, Query(min_length=1, max_length=128, description="the link's token")]


def _check(settings: SettingsDep, manager_id: str, token: str) -> None:
    if not valid_unsubscribe_token(settings, manager_id, token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid unsubscribe link")


@router.get("/{manager_id}/unsubscribe", response_class=HTMLResponse)
async def confirm_page(manager_id: str, token: Token, settings: SettingsDep) -> HTMLResponse:
    """A page with one button that unsubscribes (POST)."""
    _check(settings, manager_id, token)
    return HTMLResponse(
        "<!doctype html><title>Unsubscribe</title>"
        "<p>Stop receiving the Salescoach morning digest?</p>"
        f'<form method="post" action="?token={escape(token)}">'
        '<button type="submit">Unsubscribe</button></form>'
    )


@router.post("/{manager_id}/unsubscribe", response_class=HTMLResponse)
async def unsubscribe(
    manager_id: str, token: Token, settings: SettingsDep, engine: EngineDep
) -> HTMLResponse:
    """Record the opt-out; the scheduler sends this manager no more digests."""
    _check(settings, manager_id, token)
    # A user's action at wall time, not a domain rule: the wall clock is the right one.
    await asyncio.to_thread(directory.unsubscribe, engine, manager_id, WallClock().now())
    return HTMLResponse("<p>Done: you will no longer receive the Salescoach morning digest.</p>")
