"""POST /v1/events: read the capped raw body, hand it to the flow, answer and record."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from services.ingest.deps import context_of
from services.ingest.flows import ingest
from services.ingest.intake import Refused, refuse
from services.ingest.metrics import record_request
from services.ingest.models import Accepted, InvalidEvents, Outcome, Problem
from services.ingest.openapi import REQUEST_DOCS
from shared.clock import monotonic

ROUTE = "/v1/events"
VENDOR = "canonical"  # the metrics' vendor label of this route

router = APIRouter(tags=["events"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not valid JSON."},
    401: {"model": Problem, "description": "Signature missing, invalid or stale."},
    413: {"model": Problem, "description": "Body or batch over the configured limit."},
    415: {"model": Problem, "description": "Content-Type is not application/json."},
    422: {"model": InvalidEvents, "description": "Invalid events; none was produced."},
    503: {
        "model": Problem,
        "description": "The broker did not acknowledge the events; retry later.",
        "headers": {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
        },
    },
}


@router.post(
    ROUTE,
    status_code=202,
    response_model=Accepted,
    responses=_RESPONSES,
    openapi_extra=REQUEST_DOCS,
    summary="Submit one canonical event or a batch",
    description="The body is one SalesEvent or an array of them, signed with the ingest "
    "secret. A batch is all-or-nothing; 202 means every event is acknowledged by the broker.",
)
async def post_events(request: Request) -> Response:
    started = monotonic()
    context = context_of(request)
    settings = context.settings
    try:
        body = await read_body(request, settings.ingest_max_body_bytes)
        accepted = await ingest(
            body, request.headers, settings=settings, sink=context.sink, now=context.clock.now()
        )
    except Refused as refusal:
        record_request(
            VENDOR,
            refusal.outcome,
            status=refusal.status,
            count=0,
            seconds=monotonic() - started,
            reason=_reason(refusal),
        )
        content = refusal.body.model_dump(mode="json")
        return JSONResponse(content, refusal.status, headers=refusal.headers)
    record_request(
        VENDOR, Outcome.ACCEPTED, status=202, count=accepted.accepted, seconds=monotonic() - started
    )
    # A Response skips FastAPI's re-validation of the model (response_model stays for docs).
    return Response(accepted.model_dump_json(), 202, media_type="application/json")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise _too_large(limit)
    except ClientDisconnect as exc:
        raise refuse(400, Outcome.INVALID, "client disconnected while sending the body") from exc
    return bytes(body)


def _too_large(limit: int) -> Refused:
    # Built only when needed: a refusal is a pydantic model, a sixth of a small request's cost.
    return refuse(413, Outcome.TOO_LARGE, f"body is over the limit of {limit} bytes")


def _reason(refusal: Refused) -> str:
    if isinstance(refusal.body, InvalidEvents):
        return f"{len(refusal.body.detail)} invalid field(s)"
    return refusal.body.detail
