"""Fixtures for ingest against the real broker: settings on a fresh topic prefix, the app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from shared.embedded_broker import EmbeddedBroker
from shared.kafka import ensure_topics
from tests.unit.services.ingest.support import SECRET, serve


@pytest.fixture
def ingest_settings(broker: EmbeddedBroker, topic_prefix: str) -> IngestSettings:
    """Settings pointing at the session broker, on topics no other test uses."""
    return IngestSettings(
        kafka_bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=topic_prefix,
        ingest_secret=SecretStr(SECRET),
        ingest_send_timeout_seconds=5.0,
    )


@pytest.fixture
async def topics(ingest_settings: IngestSettings) -> IngestSettings:
    """The registered topics exist under the test's prefix."""
    await ensure_topics(ingest_settings)
    return ingest_settings


@pytest.fixture
async def ingest(topics: IngestSettings) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the real app, producing to the real broker, on the wall clock."""
    async with serve(create_app(topics)) as client:
        yield client
