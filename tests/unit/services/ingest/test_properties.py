"""Property: a correctly signed body never makes ingest answer 5xx, whatever it holds."""

from __future__ import annotations

import json
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from services.ingest.producer import InMemoryEventSink
from tests.unit.services.ingest.strategies import bodies
from tests.unit.services.ingest.support import signed

URL = "/v1/events"

# The client fixture is safe to share between examples: the app keeps no per-request state
# beyond the in-memory sink, which the assertions below read only within one example.
fuzz = hypothesis_settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@fuzz
@given(document=bodies)
async def test_signed_json_bodies_never_give_a_5xx(
    client: httpx.AsyncClient, sink: InMemoryEventSink, document: Any
) -> None:
    body = json.dumps(document).encode()
    produced_before = len(sink.events)
    response = await client.post(URL, content=body, headers=signed(body))
    event(f"status {response.status_code}")
    assert response.status_code in {202, 400, 413, 422}, response.text
    if response.status_code != 202:
        assert len(sink.events) == produced_before
    else:
        assert len(response.json()["event_ids"]) == response.json()["accepted"]


@fuzz
@given(body=st.binary(max_size=200))
async def test_signed_arbitrary_bytes_never_give_a_5xx(
    client: httpx.AsyncClient, sink: InMemoryEventSink, body: bytes
) -> None:
    response = await client.post(URL, content=body, headers=signed(body))
    assert response.status_code in {202, 400, 422}, response.text
