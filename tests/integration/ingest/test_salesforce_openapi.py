"""Schemathesis against both Salesforce routes as documented, with the organisation allowed,
the snapshot store on a real SQLite file and the real broker: every answer conforms (SOAP
Faults are text/xml like the Ack) and none is a 5xx."""

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
from hypothesis import strategies as st
from pydantic import SecretStr
from schemathesis.core import NotSet

from services.ingest.app import create_app
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.embedded_broker import EmbeddedBroker
from shared.kafka import ensure_topics
from tests.support.openapi_checks import CONFORMANCE
from tests.unit.services.ingest.adapters.salesforce_support import (
    OPP,
    ORG,
    change_event,
    mapping_document,
    opportunity,
    outbound,
    settings_for,
    task,
)
from tests.unit.services.ingest.support import SECRET

fuzz = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
_documented = create_app(
    IngestSettings(ingest_secret=SecretStr(SECRET), salesforce_org_id=ORG),
    sink=InMemoryEventSink(),
)
schema = schemathesis.openapi.from_dict(_documented.openapi()).include(
    path_regex="^/v1/webhooks/salesforce"
)
CONTENT_TYPES = {
    "/v1/webhooks/salesforce": "text/xml; charset=utf-8",
    "/v1/webhooks/salesforce-cdc": "application/cloudevents+json",
}
# Real deliveries too, so the routes' accepting paths (and the store) are exercised.
deliveries = st.sampled_from(
    [
        outbound([("Opportunity", opportunity()), ("Task", task("Call"))]),
        orjson.dumps(change_event("Opportunity", "CREATE", {"StageName": "Prospecting"})),
        orjson.dumps(change_event("Opportunity", "UPDATE", {"Amount": 5}, record_ids=[OPP])),
    ]
)


@pytest.fixture
def salesforce_app(broker: EmbeddedBroker, topic_prefix: str, tmp_path: Path) -> FastAPI:
    config = settings_for(
        tmp_path,
        mapping_document(),
        kafka_bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=topic_prefix,
        database_url=f"sqlite:///{tmp_path / 'ingest.db'}",
    )
    asyncio.run(ensure_topics(config))
    return create_app(config)


def _wire(document: Any) -> bytes:
    if isinstance(document, NotSet):
        return b""
    if isinstance(document, bytes):
        return document
    if isinstance(document, str):
        return document.encode()
    return json.dumps(document).encode()  # integers beyond 64 bits included


@schema.given(delivery=deliveries)
@schema.parametrize()
@fuzz
def test_allowed_bodies_conform_and_never_5xx(
    salesforce_app: FastAPI, case: schemathesis.Case, delivery: bytes
) -> None:
    headers = {"Content-Type": CONTENT_TYPES[case.path]}
    for body in (_wire(case.body), delivery):
        response = case.call(app=salesforce_app, data=body, headers=headers)
        case.validate_response(response, checks=CONFORMANCE)


@schema.parametrize()
@fuzz
def test_any_request_conforms(salesforce_app: FastAPI, case: schemathesis.Case) -> None:
    case.call_and_validate(app=salesforce_app, checks=CONFORMANCE)
