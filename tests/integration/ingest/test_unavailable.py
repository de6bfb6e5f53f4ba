"""Stop the world: with no broker to acknowledge, ingest answers 503 + Retry-After, never 202."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from services.ingest.app import create_app
from services.ingest.producer import KafkaEventSink
from services.ingest.settings import IngestSettings
from shared.clock import monotonic
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.kafka import ensure_topics
from tests.integration.ingest.topic import read_all
from tests.support.poll import async_wait_for
from tests.unit.services.ingest.support import SECRET, call_event, encode, serve, signed

URL = "/v1/events"
SEND_TIMEOUT = 2.0


def _settings(bootstrap: str, prefix: str) -> IngestSettings:
    return IngestSettings(
        kafka_bootstrap_servers=bootstrap,
        topic_prefix=prefix,
        ingest_secret=SecretStr(SECRET),
        ingest_send_timeout_seconds=SEND_TIMEOUT,
    )


def _signed_event(delivery_id: str) -> tuple[bytes, dict[str, str]]:
    now = datetime.now(UTC)
    body = encode(call_event(delivery_id, at=now - timedelta(minutes=1)))
    return body, signed(body, at=now)


def _unavailable_count() -> float:
    labels = {"vendor": "canonical", "outcome": "unavailable"}
    return REGISTRY.get_sample_value("salescoach_ingest_requests_total", labels) or 0.0


@pytest.mark.parametrize("backoff", [1.0, 0.0], ids=["within-backoff", "reconnecting"])
async def test_no_broker_listening_gives_503_with_retry_after(
    topic_prefix: str, backoff: float
) -> None:
    settings = _settings(f"127.0.0.1:{free_port()}", topic_prefix)
    sink = KafkaEventSink(settings, timeout_seconds=SEND_TIMEOUT, reconnect_backoff_seconds=backoff)
    before = _unavailable_count()
    async with serve(create_app(settings, sink=sink)) as client:  # starts with the broker down
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/readyz")).status_code == 503
        for attempt in ("first", "second"):
            body, headers = _signed_event(attempt)
            started = monotonic()
            response = await client.post(URL, content=body, headers=headers)
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "5"
            assert "retry later" in response.json()["detail"]
            assert monotonic() - started < SEND_TIMEOUT + 1
    assert _unavailable_count() - before == 2


async def test_ingest_recovers_when_the_broker_comes_up(topic_prefix: str, tmp_path: Path) -> None:
    port = free_port()
    settings = _settings(f"127.0.0.1:{port}", topic_prefix)
    sink = KafkaEventSink(settings, timeout_seconds=SEND_TIMEOUT, reconnect_backoff_seconds=0.2)
    async with serve(create_app(settings, sink=sink)) as client:
        body, headers = _signed_event("while-down")
        assert (await client.post(URL, content=body, headers=headers)).status_code == 503

        with EmbeddedBroker(port, log_path=tmp_path / "tansu.log"):
            await ensure_topics(settings)

            async def ready() -> bool:
                return (await client.get("/readyz")).status_code == 200

            await async_wait_for(ready, timeout=20, what="ingest ready after the broker started")
            body, headers = _signed_event("after-recovery")
            assert (await client.post(URL, content=body, headers=headers)).status_code == 202
            assert len(await read_all(settings)) == 1


async def test_a_broker_that_goes_away_gives_503_not_202(topic_prefix: str, tmp_path: Path) -> None:
    with EmbeddedBroker(log_path=tmp_path / "tansu.log") as own_broker:
        settings = _settings(own_broker.bootstrap_servers, topic_prefix)
        await ensure_topics(settings)
        async with serve(create_app(settings)) as client:
            body, headers = _signed_event("before")
            assert (await client.post(URL, content=body, headers=headers)).status_code == 202
            assert len(await read_all(settings)) == 1

            own_broker.stop(timeout=0.5)  # a hard stop: SIGKILL if SIGTERM is not enough

            body, headers = _signed_event("after")
            started = monotonic()
            response = await client.post(URL, content=body, headers=headers)
            assert response.status_code == 503, response.text
            assert response.headers["Retry-After"] == "5"
            assert monotonic() - started < SEND_TIMEOUT + 1
            assert (await client.get("/readyz")).status_code == 503
