"""The webhook flow with a fake adapter: stored, parked, ignored, refused, never half-done."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from services.ingest.app import create_app
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.clock import FixedClock
from tests.unit.services.ingest.fake_adapter import FakeAdapter
from tests.unit.services.ingest.support import NOW, SECRET, serve

URL = "/v1/webhooks/pipedrive"
HEADERS = {"Content-Type": "application/json", "X-Fake-Token": "let-me-in"}
AT = (NOW - timedelta(hours=1)).isoformat()


@pytest.fixture
def adapter() -> FakeAdapter:
    return FakeAdapter()


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps({"pipedrive": {"users": {"7": "rep-7"}}}))
    return path


@pytest.fixture
async def client(
    adapter: FakeAdapter, sink: InMemoryEventSink, mapping_file: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = IngestSettings(
        ingest_secret=SecretStr(SECRET), ingest_max_batch=5, ingest_mapping_file=mapping_file
    )
    app = create_app(settings, sink=sink, clock=FixedClock(NOW), adapters=[adapter])
    async with serve(app) as test_client:
        yield test_client


def _call(item_id: str, user: str = "7", kind: str = "call", at: str = AT) -> dict[str, Any]:
    return {"id": item_id, "user": user, "kind": kind, "at": at}


async def _post(client: httpx.AsyncClient, items: list[dict[str, Any]]) -> httpx.Response:
    return await client.post(URL, content=orjson.dumps(items), headers=HEADERS)


def _parked(reason: str) -> float:
    labels = {"vendor": "pipedrive", "reason": reason}
    return REGISTRY.get_sample_value("salescoach_ingest_dead_letters_total", labels) or 0.0


async def test_mapped_items_are_produced_and_the_receipt_counts_them(
    client: httpx.AsyncClient, sink: InMemoryEventSink, adapter: FakeAdapter
) -> None:
    response = await _post(client, [_call("1"), _call("2"), _call("1")])
    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["accepted"], receipt["parked"], receipt["ignored"]) == (3, 0, 0)
    assert [e.rep_id for e in sink.events] == ["rep-7", "rep-7"]  # the repeat produced once
    assert receipt["event_ids"][0] == receipt["event_ids"][2]
    assert len(adapter.committed) == 3


async def test_unmappable_items_are_parked_with_reason_and_item_and_the_rest_produced(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    before = _parked("unknown_user")
    items = [_call("1"), _call("2", user="99"), _call("3", kind="fax"), _call("4", kind="skip")]
    response = await _post(client, items)
    assert response.status_code == 200, response.text
    assert response.json() | {"event_ids": []} == {
        "accepted": 1,
        "parked": 2,
        "ignored": 1,
        "event_ids": [],
    }
    assert len(sink.events) == 1
    by_reason = {letter.reason.value: letter for letter in sink.dead_letters}
    assert set(by_reason) == {"unknown_user", "unknown_activity_type"}
    unknown = by_reason["unknown_user"]
    assert unknown.item == items[1]
    assert "user 99 is not in the mapping (pipedrive.users)" in unknown.detail
    assert unknown.vendor == "pipedrive" and unknown.received_at == NOW
    assert _parked("unknown_user") - before == 1


async def test_an_adapter_bug_parks_the_item_instead_of_a_5xx(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    response = await _post(client, [_call("1", kind="boom"), _call("2")])
    assert response.status_code == 200
    [letter] = sink.dead_letters
    assert letter.reason.value == "adapter_error"
    assert letter.detail == "RuntimeError while mapping"
    assert len(sink.events) == 1


async def test_events_too_far_in_the_future_are_parked(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    future = (NOW + timedelta(hours=2)).isoformat()
    response = await _post(client, [_call("1", at=future)])
    assert response.status_code == 200
    assert sink.events == []
    assert [letter.reason.value for letter in sink.dead_letters] == ["future_event"]


@pytest.mark.parametrize("what", ["enrich", "sink", "commit"])
async def test_a_dependency_down_gives_503_with_retry_after(
    client: httpx.AsyncClient, sink: InMemoryEventSink, adapter: FakeAdapter, what: str
) -> None:
    adapter.enrich_down = what == "enrich"
    adapter.commit_down = what == "commit"
    sink.unavailable = what == "sink"
    response = await _post(client, [_call("1"), _call("2", user="99")])
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "5"
    assert "retry later" in response.json()["detail"]
    assert adapter.committed == []
    if what != "commit":  # a failed commit comes after the broker took the events
        assert sink.events == [] and sink.dead_letters == []


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"[]", {"Content-Type": "application/json"}, 401),
        (b"[]", {**HEADERS, "Content-Type": "text/plain"}, 415),
        (b"[", HEADERS, 400),
        (b"{}", HEADERS, 422),
        (orjson.dumps([_call(str(i)) for i in range(6)]), HEADERS, 413),
    ],
    ids=["unauthenticated", "media-type", "not-json", "wrong-shape", "too-many-items"],
)
async def test_refusals_produce_nothing(
    client: httpx.AsyncClient,
    sink: InMemoryEventSink,
    body: bytes,
    headers: dict[str, str],
    status: int,
) -> None:
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["detail"]
    assert sink.events == [] and sink.dead_letters == []


async def test_a_fixed_mapping_file_is_used_without_a_restart(
    client: httpx.AsyncClient, sink: InMemoryEventSink, mapping_file: Path
) -> None:
    assert (await _post(client, [_call("1", user="8")])).json()["parked"] == 1
    mapping_file.write_bytes(orjson.dumps({"pipedrive": {"users": {"7": "r7", "8": "rep-8"}}}))
    assert (await _post(client, [_call("2", user="8")])).json()["accepted"] == 1
    assert sink.events[-1].rep_id == "rep-8"


async def test_metrics_export_every_vendor_series_before_the_first_request(
    client: httpx.AsyncClient,
) -> None:
    text = (await client.get("/metrics")).text
    for series in (
        'salescoach_ingest_requests_total{outcome="unavailable",vendor="pipedrive"}',
        'salescoach_ingest_dead_letters_total{reason="unknown_stage",vendor="pipedrive"}',
        'salescoach_ingest_items_ignored_total{reason="not_tracked",vendor="pipedrive"}',
        'salescoach_ingest_events_produced_total{type="meeting.held",vendor="pipedrive"}',
        'salescoach_ingest_request_duration_seconds_count{vendor="pipedrive"}',
    ):
        assert series in text


async def test_an_item_too_large_to_park_whole_is_parked_as_an_excerpt(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    huge = _call("1", user="99") | {"notes": "x" * 400_000}
    response = await client.post(URL, content=orjson.dumps([huge]), headers=HEADERS)
    assert response.status_code == 200 and response.json()["parked"] == 1
    [letter] = sink.dead_letters
    assert letter.item["truncated"] is True and letter.item["bytes"] > 400_000
    assert letter.item["excerpt"].startswith('{"id":"1"')
    assert len(letter.to_json()) < 16 * 1024
