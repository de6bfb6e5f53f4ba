"""Pipedrive test data: the vendor samples, envelopes built field by field, a mapping, auth."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
from pydantic import SecretStr

from services.ingest.adapters.base import ItemResult, Mapped
from services.ingest.adapters.pipedrive import PipedriveAdapter
from services.ingest.mapping import MappingConfig
from services.ingest.settings import IngestSettings
from shared.events import SalesEvent
from tests.unit.services.ingest.support import SECRET

SAMPLES = Path(__file__).parents[4] / "fixtures" / "crm_samples"
URL = "/v1/webhooks/pipedrive"
USER = "pipedrive-hook"
PASSWORD = "pd-basic-password-7c1e"
COMPANY = "8087566"  # the samples' company
OWNER = 12415231  # the samples' user
STAGES = {"1": "Discovery", "2": "Qualification", "3": "Proposal", "4": "Negotiation"}

MAPPING = MappingConfig.model_validate(
    {
        "pipedrive": {
            "company_ids": [COMPANY, "7654321"],
            "users": {str(OWNER): "rep-pd-1", "12415299": "rep-pd-2"},
            "pipelines": {
                "1": {"name": "default", "stages": STAGES},
                "2": {"name": "renewals", "stages": {"7": "Renewal due", "8": "Renewed"}},
                "3": {"name": "partner", "stages": {"9": "Sourced"}, "won": ["10"]},
            },
        }
    }
)

ADAPTER = PipedriveAdapter(USER, SecretStr(PASSWORD))


def sample(name: str) -> dict[str, Any]:
    """A vendor sample from tests/fixtures/crm_samples, parsed."""
    document: dict[str, Any] = orjson.loads((SAMPLES / name).read_bytes())
    return document


def settings(**overrides: Any) -> IngestSettings:
    """Ingest settings with the Pipedrive credentials set."""
    values: dict[str, Any] = {
        "ingest_secret": SecretStr(SECRET),
        "pipedrive_user": USER,
        "pipedrive_password": SecretStr(PASSWORD),
        **overrides,
    }
    return IngestSettings(**values)


def basic(user: str = USER, password: str = PASSWORD) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def headers(content_type: str = "application/json", **extra: str) -> dict[str, str]:
    return {"Content-Type": content_type, "Authorization": basic(), **extra}


def meta(entity: str, action: str, entity_id: Any, **fields: Any) -> dict[str, Any]:
    """A v2 `meta` block, as the samples have it."""
    return {
        "action": action,
        "company_id": COMPANY,
        "correlation_id": "4095519f-02cb-44bc-bd2f-551d5383f202",
        "entity_id": str(entity_id),
        "entity": entity,
        "id": "71825ee0-0054-4267-b5fd-d28b7a414212",
        "is_bulk_edit": False,
        "timestamp": "2026-10-05T13:18:56.089Z",
        "type": "general",
        "user_id": str(OWNER),
        "version": "2.0",
        "webhook_id": "4710827",
        "webhook_owner_id": "12094821",
        "change_source": "app",
        "attempt": 1,
        "host": "pd-us.pipedrive.com",
        **fields,
    }


def deal(**fields: Any) -> dict[str, Any]:
    """A deal as `data` holds it (the create sample's fields), with `fields` changed."""
    return {
        "add_time": "2026-10-05T13:18:55Z",
        "close_time": None,
        "creator_user_id": OWNER,
        "currency": "EUR",
        "custom_fields": {},
        "expected_close_date": None,
        "id": 8,
        "lost_reason": None,
        "lost_time": None,
        "org_id": 1,
        "owner_id": OWNER,
        "person_id": 8,
        "pipeline_id": 1,
        "stage_change_time": None,
        "stage_id": 2,
        "status": "open",
        "title": "Sample Org deal",
        "update_time": None,
        "value": 100,
        "won_time": None,
        **fields,
    }


def activity(**fields: Any) -> dict[str, Any]:
    """An activity as `data` holds it (the change sample's fields), with `fields` changed."""
    return {
        "active_flag": True,
        "add_time": "2026-10-05T15:25:44Z",
        "deal_id": 10,
        "done": False,
        "due_date": "2026-10-06",
        "due_time": "15:00",
        "duration": "00:30",
        "id": 2,
        "org_id": 3,
        "owner_id": OWNER,
        "person_id": 10,
        "subject": "Intro meeting: Sample Org",
        "type": "meeting",
        "update_time": "2026-10-05T15:25:44Z",
        **fields,
    }


def envelope(
    entity: str,
    action: str,
    data: dict[str, Any] | None,
    previous: dict[str, Any] | None = None,
    **meta_fields: Any,
) -> dict[str, Any]:
    """A whole delivery body."""
    record = data if data is not None else previous or {}
    return {
        "data": data,
        "previous": previous,
        "meta": {**meta(entity, action, record.get("id")), **meta_fields},
    }


def mapped(item: dict[str, Any], mapping: MappingConfig = MAPPING) -> ItemResult:
    """The adapter's result for one delivery body (a JSON round trip first, as on the wire)."""
    return ADAPTER.map(orjson.loads(orjson.dumps(item)), mapping)


def events(item: dict[str, Any], mapping: MappingConfig = MAPPING) -> list[SalesEvent]:
    """The events of a delivery that must map."""
    result = mapped(item, mapping)
    assert isinstance(result, Mapped), result
    return list(result.events)


def summary(event: SalesEvent) -> tuple[str, str, str, dict[str, Any]]:
    """(type, rep, occurred_at, payload) of an event, for compact assertions."""
    payload = event.model_dump(mode="json")["payload"]
    return event.type.value, event.rep_id, event.occurred_at.isoformat(), payload
