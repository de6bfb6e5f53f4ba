"""The HubSpot webhook adapter: `POST /v1/webhooks/hubspot`, Webhooks API v3.

- **Authentication**: signature v3 (`X-HubSpot-Signature-v3`, `X-HubSpot-Request-Timestamp`)
  over the URL HubSpot called: the request's, or with its scheme and host replaced by
  `HUBSPOT_PUBLIC_URL` when a proxy rewrites Host (a path in that setting is prefixed to the
  request's). The timestamp must be within 5 minutes of the request's arrival; the comparison
  is constant-time (`shared.hubspot_signature.verify_v3`). With `HUBSPOT_LEGACY_SIGNATURES`,
  a request without a v3 signature may carry a v1 (`sha256(secret + body)`) or v2
  (`sha256(secret + method + URL + body)`) `X-HubSpot-Signature`: those sign no timestamp,
  so a captured request can be replayed forever; they stay off unless an old app needs them.
  A request with a v3 signature is judged by it alone. No `HUBSPOT_CLIENT_SECRET`: 401.
- **Body**: a JSON array of events (`hubspot_events`); each is one item.
- **Enrich**: the deals and engagements the events name are read from the CRM API
  (`hubspot_api`); a record HubSpot does not have parks its events (`record_not_found`), and
  replaying them reads it again.
- **Map**: deals (`hubspot_deals`), emails, calls and meetings (`hubspot_engagements`);
  contacts, companies and every other object are not tracked.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from services.ingest.adapters.base import (
    AdapterBase,
    Ignored,
    IgnoreReason,
    Item,
    ItemResult,
    WebhookRequest,
    not_configured,
    refuse,
    require_media_type,
)
from services.ingest.adapters.hubspot_api import HubSpotApi, RecordKey, RetryPolicy
from services.ingest.adapters.hubspot_deals import map_deal
from services.ingest.adapters.hubspot_engagements import map_engagement
from services.ingest.adapters.hubspot_events import (
    DEAL_TYPE_ID,
    HYDRATED,
    parse_events,
    record_key,
    subject,
    subscription,
)
from services.ingest.mapping import MappingConfig
from services.ingest.metrics import declare_hydration
from services.ingest.models import Outcome
from services.ingest.settings import IngestSettings
from shared.hubspot_signature import signature_v1, signature_v2, verify_v3

VENDOR = "hubspot"
V3_SIGNATURE, V3_TIMESTAMP = "x-hubspot-signature-v3", "x-hubspot-request-timestamp"
LEGACY_SIGNATURE, LEGACY_VERSION = "x-hubspot-signature", "x-hubspot-signature-version"


class HubSpotAdapter(AdapterBase):
    """HubSpot Webhooks API deliveries, hydrated from the CRM API."""

    vendor = VENDOR

    def __init__(self, settings: IngestSettings, *, api: HubSpotApi | None = None) -> None:
        self.settings = settings
        self.api = api or HubSpotApi(
            settings.hubspot_api_url,
            settings.hubspot_access_token,
            RetryPolicy(
                attempts=settings.hubspot_api_attempts,
                timeout=settings.hubspot_api_timeout_seconds,
            ),
        )
        declare_hydration(VENDOR)

    openapi: dict[str, Any] = {
        "summary": "Receive HubSpot webhooks (Webhooks API v3)",
        "description": (
            "A JSON array of HubSpot events, signed with the app's client secret (signature "
            "v3). Deal events and generic call, email and meeting events map to canonical "
            "events, their records read from HubSpot's CRM API; other objects are ignored."
        ),
        "request": {
            "parameters": [
                {
                    "name": "X-HubSpot-Signature-v3",
                    "in": "header",
                    "required": True,
                    "description": "base64 HMAC-SHA256 of method + URL + body + timestamp.",
                    "schema": {"type": "string"},
                },
                {
                    "name": "X-HubSpot-Request-Timestamp",
                    "in": "header",
                    "required": True,
                    "description": "Epoch milliseconds; at most 5 minutes old.",
                    "schema": {"type": "string", "pattern": "^[0-9]+$"},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": [
                                    "subscriptionType", "objectId", "occurredAt", "portalId"
                                ],
                                "properties": {
                                    "subscriptionType": {"type": "string"},
                                    "objectTypeId": {"type": "string"},
                                    "objectId": {"type": "integer"},
                                    "occurredAt": {"type": "integer"},
                                    "portalId": {"type": "integer"},
                                    "eventId": {"type": "integer"},
                                    "attemptNumber": {"type": "integer"},
                                    "propertyName": {"type": "string"},
                                    "propertyValue": {"type": "string"},
                                },
                            },
                        }
                    }
                },
            },
        },
    }  # fmt: skip

    # ---- steps ------------------------------------------------------------------------------

    def authenticate(self, request: WebhookRequest) -> None:
        secret = self.settings.hubspot_client_secret
        if secret is None or not secret.get_secret_value():
            raise not_configured("HUBSPOT_CLIENT_SECRET", VENDOR)
        uri = signed_url(request.url, self.settings.hubspot_public_url)
        headers = request.headers
        if V3_SIGNATURE in headers or not self.settings.hubspot_legacy_signatures:
            reason = verify_v3(
                secret.get_secret_value(),
                method=request.method,
                uri=uri,
                body=request.body,
                timestamp_header=headers.get(V3_TIMESTAMP),
                signature_header=headers.get(V3_SIGNATURE),
                now=request.received_at,
            )
        else:
            reason = legacy_signature_problem(secret.get_secret_value(), request, uri)
        if reason is not None:
            raise refuse(401, Outcome.UNAUTHORIZED, f"hubspot: {reason}")

    def parse(self, request: WebhookRequest) -> list[Item]:
        require_media_type(request.content_type, ["application/json"])
        return parse_events(request.body)

    async def enrich(self, items: Sequence[Item]) -> list[Item]:
        """Items with the record each needs; already hydrated ones keep theirs (a parked
        item replays with the record as it was when the change arrived), missing ones are
        read again."""
        keys: list[RecordKey | None] = [
            record_key(item) if item.get(HYDRATED) is None else None for item in items
        ]
        wanted: dict[str, set[str]] = {}
        for key in keys:
            if key is not None:
                wanted.setdefault(key[0], set()).add(key[1])
        found = await self.api.read(wanted)
        return [
            item if key is None else {**item, HYDRATED: found.get(key)}
            for item, key in zip(items, keys, strict=True)
        ]

    def map(self, item: Item, mapping: MappingConfig) -> ItemResult:
        type_id, _ = subject(item)
        section = mapping.hubspot
        if type_id == DEAL_TYPE_ID:
            return map_deal(item, section)
        kind = section.activity_types.get(type_id or "")  # validated: 0-47/48/49 as themselves
        if kind is not None:
            return map_engagement(item, kind, section)
        what = f"objectTypeId {type_id}" if type_id else "object"
        return Ignored(IgnoreReason.NOT_TRACKED, f"{subscription(item)[:60]} ({what})")

    async def start(self) -> None:
        await self.api.start()

    async def stop(self) -> None:
        await self.api.stop()


def signed_url(url: str, public_url: str) -> str:
    """The URL HubSpot signed: `url`, with the public base's scheme and host when one is set."""
    if not public_url:
        return url
    called, public = urlsplit(url), urlsplit(public_url.rstrip("/"))
    path = public.path + called.path
    return urlunsplit((public.scheme, public.netloc, path, called.query, ""))


def legacy_signature_problem(secret: str, request: WebhookRequest, uri: str) -> str | None:
    """None when the v1/v2 `X-HubSpot-Signature` is right (these sign no timestamp)."""
    given = request.headers.get(LEGACY_SIGNATURE)
    if not given:
        return "missing X-HubSpot-Signature-v3 (or, legacy, X-HubSpot-Signature)"
    version = request.headers.get(LEGACY_VERSION, "v1").strip().lower()
    if version == "v1":
        expected = signature_v1(secret, request.body)
    elif version == "v2":
        expected = signature_v2(secret, request.method, uri, request.body)
    else:
        return "X-HubSpot-Signature-Version must be v1 or v2"
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        return f"X-HubSpot-Signature ({version}) does not match"
    return None


def build(settings: IngestSettings) -> HubSpotAdapter:
    """The adapter; without HUBSPOT_CLIENT_SECRET every request is refused, naming it."""
    return HubSpotAdapter(settings)
