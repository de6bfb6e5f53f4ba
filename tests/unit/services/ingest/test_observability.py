"""Health, readiness, Prometheus counters, request logs and the OpenAPI document of ingest."""

from __future__ import annotations

import httpx
import structlog
from prometheus_client import REGISTRY

from services.ingest.producer import InMemoryEventSink
from tests.unit.services.ingest.support import SECRET, call_event, encode, signed

ROUTE = "/v1/events"


def _requests(outcome: str) -> float:
    labels = {"vendor": "canonical", "outcome": outcome}
    return REGISTRY.get_sample_value("salescoach_ingest_requests_total", labels) or 0.0


def _produced(event_type: str) -> float:
    labels = {"vendor": "canonical", "type": event_type}
    return REGISTRY.get_sample_value("salescoach_ingest_events_produced_total", labels) or 0.0


async def test_healthz_and_readyz_follow_the_sink(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200
    sink.unavailable = True
    ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"producer": False}


async def test_outcomes_and_produced_events_are_counted(client: httpx.AsyncClient) -> None:
    before = {o: _requests(o) for o in ("accepted", "unauthorized", "invalid", "too_large")}
    calls_before = _produced("call.made")
    body = encode([call_event("d-1"), call_event("d-1"), call_event("d-2")])
    await client.post(ROUTE, content=body, headers=signed(body))
    await client.post(ROUTE, content=body, headers={"Content-Type": "application/json"})
    await client.post(ROUTE, content=b"{", headers=signed(b"{"))
    after = {o: _requests(o) for o in before}
    assert {o: after[o] - before[o] for o in before} == {
        "accepted": 1,
        "unauthorized": 1,
        "invalid": 1,
        "too_large": 0,
    }
    assert _produced("call.made") - calls_before == 2  # the duplicate is produced once


async def test_metrics_endpoint_exports_every_outcome_and_the_latency_histogram(
    client: httpx.AsyncClient,
) -> None:
    text = (await client.get("/metrics")).text
    for outcome in (
        "accepted",
        "unauthorized",
        "invalid",
        "too_large",
        "unsupported_media_type",
        "unavailable",
    ):
        assert f'salescoach_ingest_requests_total{{outcome="{outcome}",vendor="canonical"}}' in text
    assert "salescoach_ingest_request_duration_seconds_bucket" in text
    assert 'salescoach_ingest_events_produced_total{type="pto.set",vendor="canonical"}' in text


async def test_each_request_is_logged_with_its_outcome_and_never_the_secret(
    client: httpx.AsyncClient,
) -> None:
    body = encode(call_event("d-1"))
    headers = signed(body)
    with structlog.testing.capture_logs() as logs:
        await client.post(ROUTE, content=body, headers=headers)
        await client.post(ROUTE, content=body, headers=signed(body, secret="wrong"))
    requests = [entry for entry in logs if entry["event"] == "ingest request"]
    assert [(r["outcome"], r["status"], r["count"]) for r in requests] == [
        ("accepted", 202, 1),
        ("unauthorized", 401, 0),
    ]
    logged = repr(logs)
    assert SECRET not in logged
    assert headers["X-Salescoach-Signature"] not in logged


async def test_openapi_describes_the_signed_body(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    operation = document["paths"][ROUTE]["post"]
    assert {p["name"] for p in operation["parameters"]} == {
        "X-Salescoach-Timestamp",
        "X-Salescoach-Signature",
    }
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/EventOrBatch"}
    schemas = document["components"]["schemas"]
    assert "event_id" not in schemas["SalesEvent"]["required"]
    assert "type" not in schemas["CallMadePayload"]["properties"]
    assert schemas["EventOrBatch"]["anyOf"][1]["maxItems"] == 20
    assert set(operation["responses"]) == {"202", "400", "401", "413", "415", "422", "503"}
    assert "/healthz" not in document["paths"]
