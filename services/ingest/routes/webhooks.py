"""POST /v1/webhooks/{vendor}: one route per adapter, each running the webhook flow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request, Response

from services.ingest.adapters.base import Adapter, WebhookRequest
from services.ingest.deps import context_of
from services.ingest.intake import Refused
from services.ingest.metrics import record_request
from services.ingest.models import Outcome, Problem
from services.ingest.routes.events import read_body
from services.ingest.webhooks import receive
from shared.clock import monotonic

PREFIX = "/v1/webhooks/"

_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not the vendor's format."},
    401: {"model": Problem, "description": "Signature, organisation or credentials refused."},
    413: {"model": Problem, "description": "Body or batch over the configured limit."},
    415: {"model": Problem, "description": "Content-Type is not the vendor's."},
    422: {"model": Problem, "description": "A required field of the format is missing."},
    503: {
        "model": Problem,
        "description": "The broker or the vendor's API did not answer; nothing was stored.",
        "headers": {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}
        },
    },
}


def _responses(docs: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """The documented answers; an adapter that answers in XML says so with `media_type`."""
    ok: dict[str, Any] = {"description": docs.get("ok", "Every item is stored or parked.")}
    if "ok_schema" in docs:
        ok["content"] = {docs.get("media_type", "application/json"): {"schema": docs["ok_schema"]}}
    responses: dict[int | str, dict[str, Any]] = {200: ok, **_RESPONSES}
    media_type = docs.get("media_type")
    if media_type and media_type != "application/json":
        responses = {
            status: {key: value for key, value in answer.items() if key != "model"}
            | {"content": {media_type: {"schema": {"type": "string"}}}}
            for status, answer in responses.items()
        }
        if "ok_schema" in docs:
            responses[200]["content"] = {media_type: {"schema": docs["ok_schema"]}}
    return responses


def path_of(adapter: Adapter) -> str:
    return PREFIX + adapter.vendor


def webhook_router(adapters: Sequence[Adapter]) -> APIRouter:
    """A router with one POST route per adapter."""
    router = APIRouter(tags=["webhooks"])
    for adapter in adapters:
        # Optional `openapi` on an adapter: summary, description, request (openapi_extra:
        # requestBody, header parameters), ok (200's description), ok_schema, media_type.
        docs: dict[str, Any] = getattr(adapter, "openapi", {})
        router.add_api_route(
            path_of(adapter),
            _endpoint(adapter),
            methods=["POST"],
            status_code=200,
            responses=_responses(docs),
            openapi_extra=docs.get("request", {}),
            summary=docs.get("summary", f"Receive {adapter.vendor} webhooks"),
            description=docs.get("description", ""),
            response_class=Response,
        )
    return router


def _endpoint(adapter: Adapter) -> Any:
    async def receive_webhook(request: Request) -> Response:
        started = monotonic()
        context = context_of(request)
        settings = context.settings
        try:
            body = await read_body(request, settings.ingest_max_body_bytes)
            webhook = WebhookRequest.of(
                request.method, str(request.url), request.headers, body, context.clock.now()
            )
            receipt = await receive(
                adapter,
                webhook,
                mapping=context.mapping.current(),
                sink=context.sink,
                max_batch=settings.ingest_max_batch,
                max_future_skew=settings.max_future_skew,
            )
        except Refused as refusal:
            record_request(
                adapter.vendor,
                refusal.outcome,
                status=refusal.status,
                count=0,
                seconds=monotonic() - started,
                reason=str(refusal.body.model_dump().get("detail", ""))[:300],
            )
            return adapter.refusal(refusal)
        answer = adapter.acknowledge(receipt)
        record_request(
            adapter.vendor,
            Outcome.ACCEPTED,
            status=answer.status_code,
            count=len(receipt.events),
            seconds=monotonic() - started,
            parked=len(receipt.parked),
            ignored=len(receipt.ignored),
        )
        return answer

    receive_webhook.__name__ = f"receive_{adapter.vendor.replace('-', '_')}_webhook"
    return receive_webhook
