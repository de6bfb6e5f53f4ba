"""Schemathesis against the real app's OpenAPI document, producing to the real broker.

Unsigned fuzzing mostly meets the 401 gate, which is right; the signed tests sign each
generated body so the JSON and validation paths are fuzzed too.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis.core import NotSet

from services.ingest.app import create_app
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.embedded_broker import EmbeddedBroker
from shared.kafka import ensure_topics
from tests.support.openapi_checks import CONFORMANCE
from tests.unit.services.ingest.strategies import bodies
from tests.unit.services.ingest.support import SECRET, signed

fuzz = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _settings(**overrides: Any) -> IngestSettings:
    # Small batches keep schemathesis' boundary-size arrays small.
    return IngestSettings(ingest_secret=SecretStr(SECRET), ingest_max_batch=5, **overrides)


# The document does not depend on the broker, so it is loaded once at import; each test
# then sends its cases to an app that produces to the session broker.
schema = schemathesis.openapi.from_dict(create_app(_settings(), sink=InMemoryEventSink()).openapi())


@pytest.fixture
def ingest_app(broker: EmbeddedBroker, topic_prefix: str) -> FastAPI:
    """The real app; schemathesis runs its lifespan (the producer) and ends it after the test."""
    config = _settings(kafka_bootstrap_servers=broker.bootstrap_servers, topic_prefix=topic_prefix)
    asyncio.run(ensure_topics(config))
    return create_app(config)


def _wire(document: Any) -> bytes:
    """The bytes a sender would post: raw bytes as they are, anything else as JSON."""
    if isinstance(document, NotSet):
        return b""
    if isinstance(document, bytes):
        return document
    return json.dumps(document).encode()


def _signed_call(app: FastAPI, case: schemathesis.Case, document: Any) -> None:
    body = _wire(document)
    headers = signed(body, at=datetime.now(UTC))
    response = case.call(app=app, data=body, headers=headers)
    case.validate_response(response, checks=CONFORMANCE)


@schema.parametrize()
@fuzz
def test_unsigned_requests_conform_and_never_5xx(
    ingest_app: FastAPI, case: schemathesis.Case
) -> None:
    case.call_and_validate(app=ingest_app)


@schema.parametrize()
@fuzz
def test_signed_schema_generated_bodies_conform(
    ingest_app: FastAPI, case: schemathesis.Case
) -> None:
    _signed_call(ingest_app, case, case.body)


@schema.given(document=bodies)
@schema.parametrize()
@fuzz
def test_signed_json_values_conform(
    ingest_app: FastAPI, case: schemathesis.Case, document: Any
) -> None:
    _signed_call(ingest_app, case, document)
