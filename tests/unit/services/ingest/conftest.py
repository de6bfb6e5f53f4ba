"""Fixtures for ingest unit tests: the app on an in-memory sink and a fixed clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from services.ingest.app import create_app
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.clock import FixedClock
from tests.unit.services.ingest.support import NOW, SECRET, serve


@pytest.fixture
def settings() -> IngestSettings:
    """Small limits so the limit tests stay small."""
    return IngestSettings(
        ingest_secret=SecretStr(SECRET), ingest_max_body_bytes=64 * 1024, ingest_max_batch=20
    )


@pytest.fixture
def sink() -> InMemoryEventSink:
    """Where the app under test produces."""
    return InMemoryEventSink()


@pytest.fixture
async def client(
    settings: IngestSettings, sink: InMemoryEventSink
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app with its lifespan running, on a clock fixed at NOW."""
    async with serve(create_app(settings, sink=sink, clock=FixedClock(NOW))) as test_client:
        yield test_client
