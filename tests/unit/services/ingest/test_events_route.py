"""POST /v1/events through the real app on an in-memory sink: every answer it can give."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.events import derive_event_id
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tests.unit.services.ingest.support import (
    NOW,
    call_event,
    email_event,
    encode,
    signed,
)

URL = "/v1/events"


async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post(URL, content=body, headers=headers)


# ---- authentication, before anything is parsed ------------------------------------------

BODY = encode(call_event("d-1"))


def _tampered() -> dict[str, str]:
    return signed(encode(call_event("d-2")))


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Content-Type": "application/json"}, "missing signature headers"),
        (signed(BODY, secret="another-secret"), "signature mismatch"),
        (_tampered(), "signature mismatch"),
        (signed(BODY, at=NOW - timedelta(minutes=6)), "timestamp outside the 5-minute window"),
        (signed(BODY, at=NOW + timedelta(minutes=6)), "timestamp outside the 5-minute window"),
        ({**signed(BODY), TIMESTAMP_HEADER: "soon"}, "timestamp is not an integer"),
        ({**signed(BODY), SIGNATURE_HEADER: "v1=00"}, "signature mismatch"),
    ],
    ids=["missing", "wrong-secret", "tampered", "stale", "future", "bad-ts", "bad-sig"],
)
async def test_bad_signature_is_401_and_produces_nothing(
    client: httpx.AsyncClient, sink: InMemoryEventSink, headers: dict[str, str], reason: str
) -> None:
    response = await post(client, BODY, headers)
    assert response.status_code == 401
    assert response.json() == {"detail": reason}
    assert sink.events == []


async def test_signature_is_checked_before_the_body_is_parsed(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    response = await post(client, b"{not json", {"Content-Type": "text/plain"})
    assert response.status_code == 401
    assert sink.events == []


# ---- transport-level refusals -------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_a_body_that_is_not_json_by_content_type_is_415(
    client: httpx.AsyncClient, sink: InMemoryEventSink, content_type: str | None
) -> None:
    response = await post(client, BODY, signed(BODY, content_type=content_type))
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert sink.events == []


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON", "application/json; charset=UTF-8"]
)
async def test_json_content_types_are_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await post(client, BODY, signed(BODY, content_type=content_type))
    assert response.status_code == 202


async def test_a_body_over_the_cap_is_413(
    client: httpx.AsyncClient, sink: InMemoryEventSink, settings: IngestSettings
) -> None:
    body = encode([call_event(f"d-{i}", notes="x" * 5000) for i in range(15)])
    assert len(body) > settings.ingest_max_body_bytes
    response = await post(client, body, signed(body))
    assert response.status_code == 413
    assert response.json() == {"detail": "body is over the limit of 65536 bytes"}
    assert sink.events == []


async def test_a_streamed_body_over_the_cap_is_413_without_content_length(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 1024

    response = await client.post(URL, content=chunks(), headers=signed(b""))
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert sink.events == []


async def test_a_batch_over_the_cap_is_413(
    client: httpx.AsyncClient, sink: InMemoryEventSink, settings: IngestSettings
) -> None:
    body = encode([call_event(f"d-{i}") for i in range(settings.ingest_max_batch + 1)])
    response = await post(client, body, signed(body))
    assert response.status_code == 413
    assert response.json() == {"detail": "batch of 21 events is over the limit of 20"}
    assert sink.events == []


@pytest.mark.parametrize("body", [b"", b"{", b"[1, 2", b"\xff\xfe", b'{"a": NaN}'])
async def test_invalid_json_is_400(
    client: httpx.AsyncClient, sink: InMemoryEventSink, body: bytes
) -> None:
    response = await post(client, body, signed(body))
    assert response.status_code == 400
    assert response.json()["detail"].startswith("body is not valid JSON")
    assert sink.events == []


# ---- validation: 422 names each bad field by its JSON path --------------------------------


async def test_a_call_event_without_connected_is_422_naming_payload_connected(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    event = call_event("d-1")
    del event["payload"]["connected"]
    body = encode(event)
    response = await post(client, body, signed(body))
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["body", "payload", "connected"], "msg": "Field required", "type": "missing"}
        ]
    }
    assert sink.events == []


async def test_a_bad_event_in_a_batch_is_named_by_its_index_and_nothing_is_produced(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    batch = [call_event(f"d-{i}") for i in range(5)]
    del batch[3]["payload"]["connected"]
    batch[1]["rep_id"] = ""
    body = encode(batch)
    response = await post(client, body, signed(body))
    assert response.status_code == 422
    locs = [issue["loc"] for issue in response.json()["detail"]]
    assert locs == [["body", 1, "rep_id"], ["body", 3, "payload", "connected"]]
    assert sink.events == []


@pytest.mark.parametrize(
    ("document", "loc", "error_type"),
    [
        (42, ["body"], "body_type"),
        ("event", ["body"], "body_type"),
        (None, ["body"], "body_type"),
        ([], ["body"], "too_short"),
        ([7], ["body", 0], "model_type"),
        ({**call_event("d-1"), "type": "call.dropped"}, ["body", "type"], "enum"),
        ({**call_event("d-1"), "surprise": 1}, ["body", "surprise"], "extra_forbidden"),
        (
            {**call_event("d-1"), "payload": {"connected": True, "duration_seconds": -1}},
            ["body", "payload", "duration_seconds"],
            "greater_than_equal",
        ),
        (
            {**call_event("d-1"), "occurred_at": "2026-11-02T13:00:00"},
            ["body", "occurred_at"],
            "timezone_aware",
        ),
    ],
    ids=[
        "number",
        "string",
        "null",
        "empty-batch",
        "not-an-object",
        "type",
        "extra",
        "range",
        "naive",
    ],
)
async def test_invalid_documents_are_422_with_the_json_path(
    client: httpx.AsyncClient, document: Any, loc: list[str | int], error_type: str
) -> None:
    body = encode(document)
    response = await post(client, body, signed(body))
    assert response.status_code == 422
    first = response.json()["detail"][0]
    assert (first["loc"], first["type"]) == (loc, error_type)


async def test_an_opportunity_event_without_opportunity_id_is_422(
    client: httpx.AsyncClient,
) -> None:
    event = {
        **call_event("d-1"),
        "type": "opportunity.stage_changed",
        "payload": {"to_stage": "won"},
    }
    body = encode(event)
    response = await post(client, body, signed(body))
    assert response.status_code == 422
    [issue] = response.json()["detail"]
    assert issue["loc"] == ["body"]
    assert "opportunity_id is required" in issue["msg"]


async def test_a_time_zone_that_is_a_tz_directory_is_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    event = {
        **call_event("d-1"),
        "type": "rep.upserted",
        "payload": {
            "name": "Ann",
            "email": "ann@example.com",
            "role": "AE",
            "time_zone": "America",
        },
    }
    body = encode(event)
    response = await post(client, body, signed(body))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "time_zone"]


# ---- event time against the wall clock ---------------------------------------------------


@pytest.mark.parametrize(
    ("ahead", "status"), [(timedelta(seconds=300), 202), (timedelta(seconds=301), 422)]
)
async def test_events_further_in_the_future_than_the_skew_are_refused(
    client: httpx.AsyncClient, sink: InMemoryEventSink, ahead: timedelta, status: int
) -> None:
    batch = [call_event("d-1"), call_event("d-2", at=NOW + ahead)]
    body = encode(batch)
    response = await post(client, body, signed(body))
    assert response.status_code == status
    if status == 422:
        [issue] = response.json()["detail"]
        assert issue["loc"] == ["body", 1, "occurred_at"]
        assert issue["type"] == "datetime_too_far_in_future"
        assert sink.events == []


async def test_an_event_time_with_no_utc_equivalent_is_refused(client: httpx.AsyncClient) -> None:
    body = encode(call_event("d-1", at=None) | {"occurred_at": "0001-01-01T00:00:00+23:59"})
    response = await post(client, body, signed(body))
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "occurred_at"]


# ---- acceptance ----------------------------------------------------------------------------


async def test_a_valid_batch_is_202_with_deterministic_ids_in_input_order(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    batch = [
        call_event("d-1"),
        email_event("h-7", rep_id="rep-2"),
        call_event("d-3", event_id="mine"),
    ]
    body = encode(batch)
    first = await post(client, body, signed(body))
    again = await post(client, body, signed(body))
    assert first.status_code == again.status_code == 202
    expected = [
        derive_event_id("canonical", "d-1", "call.made"),
        derive_event_id("hubspot", "h-7", "email.sent"),
        "mine",
    ]
    assert first.json() == again.json() == {"accepted": 3, "event_ids": expected}
    assert [event.event_id for event in sink.events] == expected * 2


async def test_a_single_event_is_202(client: httpx.AsyncClient, sink: InMemoryEventSink) -> None:
    response = await post(client, BODY, signed(BODY))
    assert response.status_code == 202
    assert response.json()["accepted"] == 1
    assert [event.rep_id for event in sink.events] == ["rep-1"]


async def test_duplicate_event_ids_in_a_batch_are_produced_once(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    body = encode([call_event("d-1"), call_event("d-2"), call_event("d-1")])
    response = await post(client, body, signed(body))
    assert response.status_code == 202
    ids = response.json()["event_ids"]
    assert ids[0] == ids[2] != ids[1]
    assert [event.event_id for event in sink.events] == ids[:2]


async def test_a_sink_that_cannot_acknowledge_gives_503_with_retry_after(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    sink.unavailable = True
    response = await post(client, BODY, signed(BODY))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert "retry later" in response.json()["detail"]
    assert sink.events == []
