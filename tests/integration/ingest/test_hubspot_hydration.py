"""HubSpot webhooks against the real broker, hydrated over HTTP from the local CRM API fake
served by uvicorn: timeouts, retries, 429 Retry-After, 5xx, 404 parked and replayed."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from pydantic import SecretStr

from deploy.local.hubspot_api import create_app as create_crm_app
from services.ingest.adapters.base import ParkReason
from services.ingest.adapters.hubspot import HubSpotAdapter
from services.ingest.app import create_app
from services.ingest.deadletter import parse_dead_letter
from services.ingest.mapping import MappingConfig
from services.ingest.producer import KafkaEventSink
from services.ingest.replay import GROUP, ReplaySummary, replay_dead_letters
from services.ingest.settings import IngestSettings
from shared.embedded_broker import free_port
from shared.events import SalesEvent
from shared.hubspot_signature import signature_v3
from shared.kafka import make_consumer
from shared.topics import Topic, topic_name
from tests.integration.ingest.topic import end_offsets, read_all
from tests.support.kafka import read_topic
from tests.unit.services.ingest.adapters.hubspot_fixtures import (
    CLIENT_SECRET,
    MAPPING,
    PATH,
    TOKEN,
    deal,
    deal_change,
    engagement,
    record,
)
from tests.unit.services.ingest.support import serve

AT = datetime.now(UTC) - timedelta(hours=1)
HUBSPOT_BUDGET = 5.0  # HubSpot gives up on a delivery after 5 seconds


@contextmanager
def crm_server() -> Iterator[str]:
    """The CRM API fake on a free port, in a thread; its base URL."""
    port = free_port()
    config = uvicorn.Config(
        create_crm_app(token=TOKEN), host="127.0.0.1", port=port, log_level="warning", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the CRM fake did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@dataclass
class Stack:
    settings: IngestSettings
    ingest: httpx.AsyncClient
    crm: httpx.AsyncClient

    async def load(self, *records: dict[str, Any]) -> None:
        assert (await self.crm.post("/_records", json=list(records))).status_code == 200

    async def fault(self, **spec: Any) -> None:
        assert (await self.crm.post("/_faults", json=spec)).status_code == 200

    async def statuses(self) -> list[int]:
        return [call["status"] for call in (await self.crm.get("/_calls")).json()]

    async def post(self, events: list[dict[str, Any]]) -> tuple[httpx.Response, float]:
        body, now = orjson.dumps(events), int(time.time() * 1000)
        url = str(self.ingest.base_url).rstrip("/") + PATH
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": signature_v3(CLIENT_SECRET, "POST", url, body, now),
            "X-HubSpot-Request-Timestamp": str(now),
        }
        started = time.monotonic()
        response = await self.ingest.post(PATH, content=body, headers=headers)
        return response, time.monotonic() - started


def _settings(topics: IngestSettings, tmp_path: Path, crm_url: str, **extra: Any) -> IngestSettings:
    mapping = tmp_path / "mapping.json"
    mapping.write_bytes(orjson.dumps(MAPPING))
    return topics.model_copy(
        update={
            "ingest_mapping_file": mapping,
            "hubspot_client_secret": SecretStr(CLIENT_SECRET),
            "hubspot_access_token": SecretStr(TOKEN),
            "hubspot_api_url": crm_url,
            **extra,
        }
    )


@pytest.fixture
def crm_url() -> Iterator[str]:
    with crm_server() as url:
        yield url


@pytest.fixture
async def stack(topics: IngestSettings, tmp_path: Path, crm_url: str) -> AsyncIterator[Stack]:
    settings = _settings(topics, tmp_path, crm_url, hubspot_api_timeout_seconds=0.5)
    async with (
        serve(create_app(settings)) as ingest,
        httpx.AsyncClient(base_url=crm_url) as crm,
    ):
        yield Stack(settings, ingest, crm)


def _call(n: int) -> dict[str, Any]:
    links = {"deals": ["70"], "companies": ["9001"]}
    return record("calls", n, links=links, hubspot_owner_id="102", hs_timestamp=AT.isoformat(),
                  hs_call_duration="61000")  # fmt: skip


async def _produced(settings: IngestSettings, count: int) -> list[SalesEvent]:
    topic = topic_name(Topic.SALES_EVENTS, settings.topic_prefix)
    records = await read_topic(settings.kafka_bootstrap_servers, topic, min_count=count)
    return [SalesEvent.from_json(r.value or b"") for r in records]


async def test_deals_and_engagements_are_hydrated_over_http_and_produced(stack: Stack) -> None:
    await stack.load(deal(70), _call(71))
    response, _ = await stack.post(
        [deal_change(70, "amount", "900", at=AT), engagement("0-48", 71, at=AT)]
    )
    assert response.status_code == 200, response.text
    events = await _produced(stack.settings, 2)
    assert sorted((e.type.value, e.rep_id) for e in events) == [
        ("call.made", "rep-2"), ("opportunity.amount_changed", "rep-1")
    ]  # fmt: skip
    assert await stack.statuses() == [200, 200]


async def test_a_429_is_waited_out_within_hubspots_budget(stack: Stack) -> None:
    await stack.load(_call(72))
    await stack.fault(status=429, retry_after=1)
    response, took = await stack.post([engagement("0-48", 72, at=AT)])
    assert response.status_code == 200 and response.json()["accepted"] == 1
    assert 1.0 <= took < HUBSPOT_BUDGET
    assert await stack.statuses() == [429, 200]


async def test_5xx_then_success_is_a_success(stack: Stack) -> None:
    await stack.load(_call(73))
    await stack.fault(status=502, times=2)
    response, took = await stack.post([engagement("0-48", 73, at=AT)])
    assert response.status_code == 200 and response.json()["accepted"] == 1
    assert await stack.statuses() == [502, 502, 200] and took < HUBSPOT_BUDGET


async def test_a_call_that_times_out_is_retried(stack: Stack) -> None:
    await stack.load(_call(74))
    await stack.fault(status=200, delay_seconds=3)  # the first call hangs past the 0.5 s timeout
    response, took = await stack.post([engagement("0-48", 74, at=AT)])
    assert response.status_code == 200 and response.json()["accepted"] == 1
    assert took < 2.0


async def test_5xx_forever_is_503_with_retry_after_and_nothing_produced(stack: Stack) -> None:
    await stack.load(deal(75))
    await stack.fault(status=503, times=50)
    response, took = await stack.post([deal_change(75, "dealstage", "closedwon", at=AT)])
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "hubspot records could not be loaded" in response.json()["detail"]
    assert took < HUBSPOT_BUDGET
    assert await stack.statuses() == [503, 503, 503]
    assert set((await end_offsets(stack.settings)).values()) == {0}


async def test_a_record_not_found_is_parked_then_replayed_once_hubspot_has_it(
    stack: Stack,
) -> None:
    response, _ = await stack.post([engagement("0-48", 76, at=AT)])
    assert response.status_code == 200 and response.json()["parked"] == 1
    dlq = topic_name(Topic.SALES_EVENTS_DLQ, stack.settings.topic_prefix)
    records = await read_topic(stack.settings.kafka_bootstrap_servers, dlq, min_count=1)
    letters = [letter for r in records if (letter := parse_dead_letter(r.value or b""))]
    assert [(letter.reason, letter.item["objectId"]) for letter in letters] == [
        (ParkReason.RECORD_NOT_FOUND, 76)
    ]
    await stack.load(_call(76))
    summary = await _replay(stack.settings)
    assert (summary.replayed, summary.events) == (1, 1)
    [event] = await _produced(stack.settings, 1)
    assert (event.type.value, event.rep_id, event.opportunity_id) == ("call.made", "rep-2", "70")
    assert len(await read_all(stack.settings)) == 1


async def _replay(settings: IngestSettings) -> ReplaySummary:
    """One `replay-dlq` run with the HubSpot adapter (which reads the record again)."""
    adapter = HubSpotAdapter(settings)
    sink, consumer = (
        KafkaEventSink(settings, timeout_seconds=5),
        make_consumer(settings, group_id=GROUP),
    )
    await sink.start()
    await adapter.start()
    await consumer.start()
    try:
        return await replay_dead_letters(
            consumer,
            topic_name(Topic.SALES_EVENTS_DLQ, settings.topic_prefix),
            sink=sink,
            adapters={"hubspot": adapter},
            mapping=MappingConfig.model_validate(MAPPING),
            now=datetime.now(UTC) + timedelta(seconds=1),
            max_future_skew=timedelta(minutes=5),
        )
    finally:
        await consumer.stop()
        await adapter.stop()
        await sink.stop()
