"""The OpenAPI description of the signed event body, which the route reads raw.

The route cannot declare a pydantic body parameter (the signature is checked over the raw
bytes before anything is parsed), so the request body and signature headers are described
here and the wire schema of `SalesEvent` is added to the components.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import Field, TypeAdapter

from shared.events import SalesEvent
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

BODY_SCHEMA = "EventOrBatch"
_REF_TEMPLATE = "#/components/schemas/{model}"

REQUEST_DOCS: dict[str, Any] = {
    "parameters": [
        {
            "name": TIMESTAMP_HEADER,
            "in": "header",
            "required": True,
            "description": "Unix seconds when the body was signed; at most 5 minutes old.",
            "schema": {"type": "string", "pattern": "^[0-9]+$"},
        },
        {
            "name": SIGNATURE_HEADER,
            "in": "header",
            "required": True,
            "description": "`v1=` + hex HMAC-SHA256 of `v1:{timestamp}:{raw body}` under the "
            "ingest secret.",
            "schema": {"type": "string"},
        },
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": _REF_TEMPLATE.format(model=BODY_SCHEMA)}}
        },
    },
}


def wire_schemas(max_batch: int) -> dict[str, Any]:
    """Component schemas of the request body: one SalesEvent or a batch of them."""
    adapter: TypeAdapter[Any] = TypeAdapter(
        SalesEvent | Annotated[list[SalesEvent], Field(min_length=1, max_length=max_batch)]
    )
    body = adapter.json_schema(ref_template=_REF_TEMPLATE)
    schemas: dict[str, Any] = body.pop("$defs")
    event = schemas["SalesEvent"]
    # Pydantic describes the model; the wire differs where `_prepare` fills fields in.
    event["required"] = [name for name in event["required"] if name != "event_id"]
    event["properties"]["event_id"]["description"] = (
        "Derived from (source.vendor, source.delivery_id, type) when omitted, so a retried "
        "delivery keeps its id."
    )
    payload = event["properties"]["payload"]
    payload.pop("discriminator", None)
    payload["anyOf"] = payload.pop("oneOf")
    payload["description"] = "The fields of the event's `type` (the matching *Payload schema)."
    for name, schema in schemas.items():
        if name.endswith("Payload"):
            schema["properties"].pop("type", None)  # set from the envelope, not sent
    schemas[BODY_SCHEMA] = {**body, "title": BODY_SCHEMA}
    return schemas


def install_openapi(app: FastAPI, *, max_batch: int) -> None:
    """Make the app's OpenAPI document include the event body schemas."""
    generate: Callable[[], dict[str, Any]] = app.openapi
    extra = wire_schemas(max_batch)

    def openapi() -> dict[str, Any]:
        document = generate()
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in extra.items():
            components.setdefault(name, schema)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
