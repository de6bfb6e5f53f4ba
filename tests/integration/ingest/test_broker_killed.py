"""The broker dies mid-stream: ingest acknowledges nothing it could not store, loses nothing.

Senders stream events the way a CRM does, retrying each 503 after Retry-After (shortened
here). Midway, the broker disappears for ingest: every connection is reset and new ones are
refused (a TCP proxy cut; the broker advertises the proxy, so ingest has no other way in).
Tansu keeps its log in memory, so killing the process itself would also erase the evidence;
cutting it away keeps the log to check that every event ingest answered 202 for is there.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
import pytest

from services.ingest.settings import IngestSettings
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.kafka import ensure_topics
from shared.topics import Topic, topic_name
from tests.support.kafka import read_topic
from tests.support.poll import async_wait_for
from tests.support.services import start_service
from tests.support.tcp_proxy import TcpProxy
from tests.unit.services.ingest.support import call_event, encode, signed

SECRET = "broker-kill-secret-7c1"
EVENTS = 240
SENDERS = 6


@pytest.fixture
async def proxy_and_broker(tmp_path: Path) -> AsyncIterator[tuple[TcpProxy, EmbeddedBroker]]:
    proxy_port = free_port()
    broker = EmbeddedBroker(log_path=tmp_path / "tansu.log", advertised_port=proxy_port)
    proxy = TcpProxy(proxy_port, broker.port)
    await proxy.start()
    with broker:
        yield proxy, broker
    await proxy.cut()


def _true(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def probe() -> bool:
        return condition()

    return probe


async def test_no_acknowledged_event_is_lost_when_the_broker_dies_mid_stream(
    proxy_and_broker: tuple[TcpProxy, EmbeddedBroker], topic_prefix: str, tmp_path: Path
) -> None:
    proxy, broker = proxy_and_broker
    settings = IngestSettings(
        kafka_bootstrap_servers=f"127.0.0.1:{proxy.listen_port}", topic_prefix=topic_prefix
    )
    await ensure_topics(settings)
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "TOPIC_PREFIX": topic_prefix,
        "INGEST_SECRET": SECRET,
        "INGEST_SEND_TIMEOUT_SECONDS": "2",
    }
    # The proxy runs on this loop, so start ingest without blocking it.
    process = await asyncio.to_thread(start_service, "ingest", env, tmp_path)
    assert process.health_url is not None
    url = process.health_url.removesuffix("/healthz") + "/v1/events"

    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(EVENTS):
        queue.put_nowait(n)
    acked: dict[str, int] = {}  # event id -> attempts it took
    statuses: Counter[int] = Counter()
    ids: dict[int, str] = {}

    async def sender(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            attempts = 0
            while True:
                attempts += 1
                now = datetime.now(UTC)
                body = encode(call_event(f"kill-{n}", at=now - timedelta(minutes=1)))
                response = await client.post(
                    url, content=body, headers=signed(body, at=now, secret=SECRET)
                )
                statuses[response.status_code] += 1
                if response.status_code == 202:
                    [event_id] = response.json()["event_ids"]
                    ids[n] = event_id
                    acked[event_id] = attempts
                    break
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] == "5"
                await asyncio.sleep(0.2)  # a CRM waits Retry-After; the test need not

    try:
        async with httpx.AsyncClient(timeout=30) as client:
            senders = [asyncio.create_task(sender(client)) for _ in range(SENDERS)]
            await async_wait_for(_true(lambda: len(acked) >= EVENTS // 3), what="first acks")
            await proxy.cut()
            acked_before_cut = len(acked)
            await async_wait_for(_true(lambda: statuses[503] >= 3 * SENDERS), what="503s")
            await proxy.start()
            await asyncio.wait_for(asyncio.gather(*senders), timeout=120)
    finally:
        await asyncio.to_thread(process.stop)

    assert len(acked) == EVENTS
    assert acked_before_cut < EVENTS  # the cut really was mid-stream
    assert statuses[503] >= 3 * SENDERS and max(acked.values()) > 1
    topic = topic_name(Topic.SALES_EVENTS, topic_prefix)
    records = await read_topic(settings.kafka_bootstrap_servers, topic, min_count=EVENTS)
    stored = {orjson.loads(record.value or b"")["event_id"] for record in records}
    assert set(acked) <= stored  # every 202 is in the broker's log
    assert set(statuses) <= {202, 503}
