"""GET /v1/alerts and GET /v1/alerts/{fingerprint}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from services.api.alerts import service
from services.api.alerts.cursor import decode_cursor
from services.api.alerts.schemas import AlertDetail, AlertPage
from services.api.deps import SessionDep
from services.api.errors import InvalidParam, not_found
from services.api.params import FINGERPRINT_MAX_LENGTH, RuleName, id_path, id_query
from services.api.schemas import UtcInstant
from shared.alerting import AlertState

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get(
    "",
    summary="List alerts",
    description=(
        "Alerts matching every given filter, ordered by `updated_at` descending, then "
        "`fingerprint` ascending. Pages are keyset-based: pass `next_cursor` back as `cursor` "
        "(with the same filters) until it is null; pages never skip or repeat an alert."
    ),
)
def list_alerts(
    session: SessionDep,
    manager_id: Annotated[str | None, id_query("Only alerts for this manager.")] = None,
    rep_id: Annotated[str | None, id_query("Only alerts about this rep.")] = None,
    state: Annotated[
        list[AlertState] | None,
        Query(description="Only alerts in one of these states; repeat to give several."),
    ] = None,
    rule: Annotated[
        list[RuleName] | None,
        Query(description="Only alerts raised by one of these rules; repeat to give several."),
    ] = None,
    since: Annotated[
        UtcInstant | None,
        Query(
            description=(
                "Only alerts updated at or after this instant, ISO 8601 with an offset: "
                "`2026-01-05T09:00:00Z` (URL-encode a `+` offset as `%2B`)."
            )
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="`next_cursor` of the previous page; opaque.",
        ),
    ] = None,
) -> AlertPage:
    try:
        after = decode_cursor(cursor) if cursor is not None else None
    except ValueError as exc:
        raise InvalidParam("cursor", str(exc)) from exc
    filters = service.AlertFilter(
        manager_id=manager_id, rep_id=rep_id, states=state or (), rules=rule or (), since=since
    )
    return service.list_alerts(session, filters=filters, limit=limit, after=after)


@router.get(
    "/{fingerprint}",
    summary="One alert with its history",
    description="The alert and every state transition recorded for it, oldest first.",
    responses=not_found("No alert has this fingerprint."),
)
def get_alert(
    session: SessionDep,
    fingerprint: Annotated[
        str, id_path("The alert's fingerprint.", max_length=FINGERPRINT_MAX_LENGTH)
    ],
) -> AlertDetail:
    alert = service.get_alert(session, fingerprint=fingerprint)
    if alert is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no alert {fingerprint!r}")
    return alert
