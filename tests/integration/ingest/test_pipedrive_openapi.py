"""Schemathesis against the Pipedrive route as documented, with the credentials configured,
producing to the real broker: every answer conforms and none is a 5xx."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.core import NotSet

from services.ingest.app import create_app
from services.ingest.producer import InMemoryEventSink
from shared.embedded_broker import EmbeddedBroker
from shared.kafka import ensure_topics
from tests.support.openapi_checks import CONFORMANCE
from tests.unit.services.ingest.adapters.pipedrive_support import MAPPING, basic
from tests.unit.services.ingest.adapters.pipedrive_support import settings as pipedrive_settings

fuzz = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
schema = schemathesis.openapi.from_dict(
    create_app(pipedrive_settings(), sink=InMemoryEventSink()).openapi()
).include(path="/v1/webhooks/pipedrive")


@pytest.fixture
def pipedrive_app(broker: EmbeddedBroker, topic_prefix: str, tmp_path: Path) -> FastAPI:
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_bytes(orjson.dumps(MAPPING.model_dump(mode="json")))
    config = pipedrive_settings(
        kafka_bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=topic_prefix,
        ingest_mapping_file=mapping_file,
    )
    asyncio.run(ensure_topics(config))
    return create_app(config)


def _wire(document: Any) -> bytes:
    if isinstance(document, NotSet):
        return b""
    return document if isinstance(document, bytes) else json.dumps(document).encode()


@schema.parametrize()
@fuzz
def test_authenticated_schema_bodies_conform_and_never_5xx(
    pipedrive_app: FastAPI, case: schemathesis.Case
) -> None:
    headers = {"Content-Type": "application/json", "Authorization": basic()}
    response = case.call(app=pipedrive_app, data=_wire(case.body), headers=headers)
    case.validate_response(response, checks=CONFORMANCE)


@schema.parametrize()
@fuzz
def test_unauthenticated_requests_conform(pipedrive_app: FastAPI, case: schemathesis.Case) -> None:
    case.call_and_validate(app=pipedrive_app, checks=CONFORMANCE)
