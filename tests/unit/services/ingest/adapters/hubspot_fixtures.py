"""HubSpot adapter test support: events and records, signed posts, and a harness running the
ingest app with the adapter hydrating from the local CRM API fake, both in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import FastAPI
from pydantic import SecretStr

from deploy.local.hubspot_api import create_app as create_crm_app
from services.ingest.adapters.hubspot import HubSpotAdapter
from services.ingest.adapters.hubspot_api import HubSpotApi, RetryPolicy
from services.ingest.app import create_app
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.clock import FixedClock
from shared.hubspot_signature import signature_v3
from tests.unit.services.ingest.support import NOW, SECRET, serve

CLIENT_SECRET = "3c5b7a0e-9d4f-4e61-8a2b-hubspot-test"
TOKEN = "pat-na1-00000000-test-token-never-logged"
PORTAL = 62515
PATH = "/v1/webhooks/hubspot"
URL = "http://ingest" + PATH  # the URL the in-process app sees, and HubSpot signs
AT = NOW - timedelta(minutes=10)
CUSTOM_PIPELINE, CUSTOM_STAGE = "7d0a3c61", "1f4f1ec1-8174-49f3-a112-4eaa4748e38e"
MAPPING: dict[str, Any] = {
    "hubspot": {
        "users": {"101": "rep-1", "102": "rep-2"},
        "pipelines": {
            "default": {
                "stages": {
                    "appointmentscheduled": "Discovery",
                    "qualifiedtobuy": "Qualification",
                    "presentationscheduled": "Proposal",
                    "contractsent": "Negotiation",
                },
                "won": ["closedwon"],
                "lost": ["closedlost"],
            },
            CUSTOM_PIPELINE: {
                "name": "renewals",
                "stages": {CUSTOM_STAGE: "Renewal review"},
                "won": ["c-won"],
                "lost": ["c-lost"],
            },
        },
        "meeting_types": {"Initial meeting": "initial", "Follow-up meeting": "follow_up"},
    }
}


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def iso(at: datetime) -> str:
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"


def hs_event(
    subscription: str, object_id: int | str, *, at: datetime = AT, **extra: Any
) -> dict[str, Any]:
    """One HubSpot webhook event, the fields real deliveries carry first."""
    return {
        "eventId": 100 + len(subscription),
        "subscriptionId": 92894,
        "portalId": PORTAL,
        "appId": 186886,
        "occurredAt": ms(at),
        "subscriptionType": subscription,
        "attemptNumber": 0,
        "objectId": object_id,
        "changeSource": "CRM_UI",
        **extra,
    }


def deal_change(object_id: int, name: str, value: str, *, at: datetime = AT) -> dict[str, Any]:
    change = {"propertyName": name, "propertyValue": value}
    return hs_event("deal.propertyChange", object_id, at=at, **change)


def engagement(type_id: str, object_id: int, *, at: datetime = AT, **extra: Any) -> dict[str, Any]:
    """A generic object.creation (or, with propertyName, a change) of an engagement."""
    subscription = "object.propertyChange" if "propertyName" in extra else "object.creation"
    return hs_event(subscription, object_id, at=at, objectTypeId=type_id, **extra)


def record(
    object_type: str,
    object_id: int | str,
    *,
    created: datetime = AT - timedelta(days=3),
    links: Mapping[str, Sequence[str]] | None = None,
    **properties: str | None,
) -> dict[str, Any]:
    """A CRM record as the fake loads it (and the simulator lists it)."""
    return {
        "object_type": object_type,
        "id": str(object_id),
        "properties": properties,
        "associations": {kind: list(ids) for kind, ids in (links or {}).items()},
        "createdAt": iso(created),
        "updatedAt": iso(created),
    }


def deal(
    object_id: int, *, created: datetime = AT - timedelta(days=3), **properties: str | None
) -> dict[str, Any]:
    """A deal owned by owner 101 on the default pipeline, on company 9001."""
    defaults = {"dealstage": "appointmentscheduled", "pipeline": "default", "amount": "1000",
                "hubspot_owner_id": "101", "dealname": "Initech"}  # fmt: skip
    links = {"companies": ["9001"]}
    return record("deals", object_id, created=created, links=links, **(defaults | properties))


def v3_headers(body: bytes, *, at: datetime = NOW, url: str = URL) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature_v3(CLIENT_SECRET, "POST", url, body, ms(at)),
        "X-HubSpot-Request-Timestamp": str(ms(at)),
    }


@dataclass
class FakeTime:
    """A monotonic clock the retry sleeps advance, so backoff never waits for real."""

    now: float = 1000.0
    sleeps: list[float] = field(default_factory=list)

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def hubspot_settings(tmp_path: Path, mapping: Any = MAPPING, **overrides: Any) -> IngestSettings:
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps(mapping))
    options: dict[str, Any] = {
        "ingest_secret": SecretStr(SECRET),
        "ingest_mapping_file": path,
        "hubspot_client_secret": SecretStr(CLIENT_SECRET),
        "hubspot_access_token": SecretStr(TOKEN),
        "hubspot_api_url": "http://hubspot.test",
    }
    return IngestSettings(**(options | overrides))


def in_process_api(
    crm: FastAPI, settings: IngestSettings, time: FakeTime, **policy: Any
) -> HubSpotApi:
    """The adapter's client, talking to the fake in-process and sleeping on `time`."""
    options = {"attempts": settings.hubspot_api_attempts,
               "timeout": settings.hubspot_api_timeout_seconds} | policy  # fmt: skip
    return HubSpotApi(
        settings.hubspot_api_url,
        settings.hubspot_access_token,
        RetryPolicy(**options),
        transport=httpx.ASGITransport(app=crm),
        sleep=time.sleep,
        clock=time.clock,
        draw=lambda: 0.5,
    )


@dataclass
class Harness:
    """The ingest app (adapter hydrating from the fake) and the fake's own client."""

    client: httpx.AsyncClient
    crm: httpx.AsyncClient
    adapter: HubSpotAdapter
    sink: InMemoryEventSink
    time: FakeTime

    async def load(self, *records: Mapping[str, Any]) -> None:
        response = await self.crm.post("/_records", json=list(records))
        assert response.status_code == 200, response.text

    async def fault(self, **spec: Any) -> None:
        assert (await self.crm.post("/_faults", json=spec)).status_code == 200

    async def calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = (await self.crm.get("/_calls")).json()
        return calls

    async def post(self, events: Any, *, at: datetime = NOW) -> httpx.Response:
        body = events if isinstance(events, bytes) else orjson.dumps(events)
        return await self.client.post(PATH, content=body, headers=v3_headers(body, at=at))


@asynccontextmanager
async def harness(
    tmp_path: Path,
    *,
    mapping: Any = MAPPING,
    now: datetime = NOW,
    policy: Mapping[str, Any] | None = None,
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """The app on a clock fixed at `now`, producing to memory, hydrating from the fake."""
    settings = hubspot_settings(tmp_path, mapping, **overrides)
    crm_app, time, sink = create_crm_app(token=TOKEN), FakeTime(), InMemoryEventSink()
    adapter = HubSpotAdapter(
        settings, api=in_process_api(crm_app, settings, time, **(policy or {}))
    )
    app = create_app(settings, sink=sink, clock=FixedClock(now), adapters=[adapter])
    crm_transport = httpx.ASGITransport(app=crm_app)
    async with (
        httpx.AsyncClient(transport=crm_transport, base_url="http://hubspot.test") as crm,
        serve(app) as client,
    ):
        yield Harness(client, crm, adapter, sink, time)
