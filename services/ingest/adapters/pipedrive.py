"""Pipedrive webhooks v2: POST /v1/webhooks/pipedrive, one change per request.

Request: `application/json`, the envelope `{meta, data, previous}` (meta.action create|change|
delete, meta.entity; `data` the record now, null on delete; `previous` null on create, only
the changed fields' old values on change, the last state on delete). Auth: HTTP Basic, the
webhook's http_auth_user/http_auth_password (`PIPEDRIVE_USER`, `PIPEDRIVE_PASSWORD`); Pipedrive
signs nothing. The legacy v1 shape is refused with 422 (create the webhook with version 2.0).

One item per request: the envelope as received. Deals and activities map to events
(`pipedrive_deals`, `pipedrive_activities`); every other entity is ignored, users included:
a deactivated user (active_flag false) is not turned into `rep.departed`, because directory
events (rep.upserted, rep.departed, pto.set, goal.set) come from the HR system through the
canonical endpoint, and a CRM login switched off is not a rep's last day. When the mapping lists
`company_ids`, a delivery from another company is parked (its ids mean nothing here).

Event ids: `build_event` derives them from (vendor, delivery id, type), with one delivery id
per change, made of the change itself rather than of `meta.id` (stable across attempts only by
guess) or `meta.attempt` (a retry counter): `<entity>:<id>:create` (a record is created once),
`<entity>:<id>:change:<data.update_time, else meta.timestamp>:<sha256 of the changed fields'
new values, sorted keys>`. A retry, a duplicate, or the same JSON with its keys in another
order maps to the same ids; two edits of one record within the same second differ by their
values.

Answers: 200 with the receipt (Pipedrive takes any 2xx); 401 without valid credentials, 415,
400 (not JSON), 422 (naming the missing envelope field). Pipedrive retries a non-2xx 3 times.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import SecretStr

from services.ingest.adapters.base import (
    AdapterBase,
    Ignored,
    IgnoreReason,
    Item,
    ItemResult,
    ParkReason,
    Unmappable,
    WebhookRequest,
    check_basic_auth,
    not_configured,
    refuse,
    require_media_type,
)
from services.ingest.adapters.pipedrive_activities import map_activity
from services.ingest.adapters.pipedrive_deals import map_deal
from services.ingest.adapters.pipedrive_fields import ACTIONS, Envelope, envelope_problem, ref
from services.ingest.adapters.pipedrive_mapping import PipedriveMapping
from services.ingest.mapping import MappingConfig
from services.ingest.models import Outcome
from services.ingest.settings import IngestSettings

SETTINGS = "PIPEDRIVE_USER and PIPEDRIVE_PASSWORD"

_ENVELOPE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["meta", "data"],
    "properties": {
        "meta": {
            "type": "object",
            "required": ["action", "entity"],
            "properties": {
                "action": {"type": "string", "enum": sorted(ACTIONS)},
                "entity": {"type": "string", "description": "deal, activity, user, …"},
                "entity_id": {"type": "string"},
                "id": {"type": "string"},
                "company_id": {"type": "string"},
                "timestamp": {"type": "string"},
                "version": {"type": "string", "enum": ["2.0"]},
                "attempt": {"type": "integer"},
            },
        },
        "data": {"type": ["object", "null"], "description": "The record; null on delete."},
        "previous": {
            "type": ["object", "null"],
            "description": "Null on create; the changed fields' old values on change.",
        },
    },
}

OPENAPI: dict[str, Any] = {
    "summary": "Receive Pipedrive webhooks (v2)",
    "description": (
        "One Pipedrive change per request, `{meta, data, previous}`, with HTTP Basic auth "
        "(the webhook's http_auth_user and http_auth_password). Deal and activity changes "
        "become canonical events; changes the mapping cannot place are parked on the "
        "dead-letter topic; other entities are ignored."
    ),
    "request": {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ENVELOPE_SCHEMA}},
        }
    },
    "ok": "The change is stored, parked or ignored (see the counts).",
    "ok_schema": {
        "type": "object",
        "required": ["accepted", "parked", "ignored", "event_ids"],
        "properties": {
            "accepted": {"type": "integer"},
            "parked": {"type": "integer"},
            "ignored": {"type": "integer"},
            "event_ids": {"type": "array", "items": {"type": "string"}},
        },
    },
}


class PipedriveAdapter(AdapterBase):
    """Pipedrive webhooks v2 deliveries as canonical events."""

    vendor = "pipedrive"
    openapi = OPENAPI

    def __init__(self, user: str, password: SecretStr | None) -> None:
        self._user = user
        self._password = password

    def authenticate(self, request: WebhookRequest) -> None:
        if not self._user or self._password is None or not self._password.get_secret_value():
            raise not_configured(SETTINGS, "Pipedrive")
        check_basic_auth(
            request.headers.get("authorization"), self._user, self._password, vendor=self.vendor
        )

    def parse(self, request: WebhookRequest) -> list[Item]:
        require_media_type(request.content_type, ["application/json"])
        try:
            document = orjson.loads(request.body)
        except orjson.JSONDecodeError as exc:
            raise refuse(400, Outcome.INVALID, "body is not JSON") from exc
        problem = envelope_problem(document)
        if problem is not None:
            raise refuse(422, Outcome.INVALID, problem)
        return [document]

    def map(self, item: Item, mapping: MappingConfig) -> ItemResult:
        envelope = Envelope.of(item)
        section = mapping.pipedrive
        _check_company(envelope, section)
        if envelope.action not in ACTIONS:
            return Ignored(IgnoreReason.NOT_TRACKED, f"action {envelope.action[:40]!r}")
        if envelope.entity == "deal":
            return map_deal(envelope, section)
        if envelope.entity == "activity":
            return map_activity(envelope, section)
        if envelope.entity == "user":
            return Ignored(IgnoreReason.NOT_TRACKED, "users: the directory comes from HR")
        return Ignored(IgnoreReason.NOT_TRACKED, f"entity {envelope.entity[:40]!r}")


def _check_company(envelope: Envelope, section: PipedriveMapping) -> None:
    if not section.company_ids:
        return
    company = ref(envelope.meta.get("company_id"))
    if company not in section.company_ids:
        raise Unmappable(
            ParkReason.INVALID_VALUE,
            f"company {company} is not in the mapping (pipedrive.company_ids)",
        )


def build(settings: IngestSettings) -> PipedriveAdapter:
    """The adapter, always: without credentials it refuses every request, naming the settings."""
    return PipedriveAdapter(settings.pipedrive_user, settings.pipedrive_password)
