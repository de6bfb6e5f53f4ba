"""The Pipedrive route: the vendor's samples, auth, refusals, parking, the mapping section."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from pydantic import SecretStr

from services.ingest.adapters import pipedrive
from services.ingest.adapters.base import Ignored, IgnoreReason, Mapped, ParkReason, Unmappable
from services.ingest.adapters.registry import build_adapters
from services.ingest.app import create_app
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.clock import FixedClock
from shared.events import derive_event_id
from tests.unit.services.ingest.adapters.pipedrive_support import (
    MAPPING,
    OWNER,
    PASSWORD,
    SAMPLES,
    URL,
    activity,
    basic,
    deal,
    envelope,
    events,
    headers,
    mapped,
    sample,
    settings,
    summary,
)
from tests.unit.services.ingest.support import NOW, serve

DEAL_SAMPLE = "pipedrive_v2_deal_create.json"
ACTIVITY_SAMPLE = "pipedrive_v2_activity_change.json"


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps(MAPPING.model_dump(mode="json")))
    return path


async def _client(
    config: IngestSettings, sink: InMemoryEventSink
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(create_app(config, sink=sink, clock=FixedClock(NOW))) as client:
        yield client


@pytest.fixture
async def client(mapping_file: Path, sink: InMemoryEventSink) -> AsyncIterator[httpx.AsyncClient]:
    async for test_client in _client(settings(ingest_mapping_file=mapping_file), sink):
        yield test_client


async def _post(client: httpx.AsyncClient, body: Any, **header_overrides: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    return await client.post(URL, content=content, headers={**headers(), **header_overrides})


# ---- the vendor's samples -----------------------------------------------------------------


def test_the_deal_create_sample_is_an_opportunity_created() -> None:
    (event,) = events(sample(DEAL_SAMPLE))
    assert summary(event) == (
        "opportunity.created",
        "rep-pd-1",
        "2022-11-24T13:18:55+00:00",
        {
            "name": "Sample Org deal",
            "stage": "Qualification",
            "amount": "100.00",
            "currency": "EUR",
            "close_date": None,
            "pipeline": "default",
        },
    )
    assert (event.opportunity_id, event.account_id, event.contact_id) == ("8", "1", "8")
    assert event.source.model_dump(mode="json") == {
        "vendor": "pipedrive",
        "delivery_id": "deal:8:create",
    }
    assert event.event_id == derive_event_id("pipedrive", "deal:8:create", "opportunity.created")


def test_the_activity_change_sample_renames_a_meeting_which_is_not_tracked() -> None:
    result = mapped(sample(ACTIVITY_SAMPLE))
    assert isinstance(result, Ignored)
    assert result.reason is IgnoreReason.NOT_TRACKED


def test_the_activity_change_sample_marked_done_is_a_meeting_held() -> None:
    item = sample(ACTIVITY_SAMPLE)
    item["data"]["done"] = True
    item["previous"]["done"] = False
    (event,) = events(item)
    # No due time ("" in the object shape): the change's update_time is when it was held.
    assert summary(event) == (
        "meeting.held",
        "rep-pd-1",
        "2022-11-24T15:28:13+00:00",
        {"meeting_id": "2", "kind": "initial", "duration_minutes": 30},
    )
    assert (event.opportunity_id, event.account_id, event.contact_id) == ("10", None, "10")


@pytest.mark.parametrize("name", [DEAL_SAMPLE, ACTIVITY_SAMPLE])
async def test_each_sample_is_answered_200_through_the_route(
    client: httpx.AsyncClient, sink: InMemoryEventSink, name: str
) -> None:
    response = await _post(client, (SAMPLES / name).read_bytes())
    assert response.status_code == 200, response.text
    expected = 1 if name == DEAL_SAMPLE else 0
    assert response.json()["accepted"] == len(sink.events) == expected
    assert response.json()["ignored"] == 1 - expected
    assert sink.dead_letters == []


# ---- auth and refusals ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, basic(password="wrong"), basic(user="other"), "Bearer abc", "Basic !!!", basic()[:-4]],
)
async def test_missing_or_wrong_credentials_are_401(
    client: httpx.AsyncClient, sink: InMemoryEventSink, authorization: str | None
) -> None:
    request_headers = {"Content-Type": "application/json"}
    if authorization is not None:
        request_headers["Authorization"] = authorization
    body = orjson.dumps(sample(DEAL_SAMPLE))
    response = await client.post(URL, content=body, headers=request_headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="pipedrive"'
    assert PASSWORD not in response.text
    assert sink.events == []


@pytest.mark.parametrize("token", [b"\xe9\xe9\xe9\xe9", b"\xff" + basic().encode()[6:]])
async def test_basic_credentials_that_are_not_ascii_are_401_not_500(
    client: httpx.AsyncClient, sink: InMemoryEventSink, token: bytes
) -> None:
    request_headers = [
        (b"content-type", b"application/json"),
        (b"authorization", b"Basic " + token),
    ]
    body = orjson.dumps(sample(DEAL_SAMPLE))
    response = await client.post(URL, content=body, headers=request_headers)
    assert response.status_code == 401
    assert sink.events == []


@pytest.mark.parametrize(
    "overrides",
    [{}, {"pipedrive_password": SecretStr("x")}, {"pipedrive_user": "pipedrive-hook"}],
)
async def test_an_unconfigured_vendor_is_401_naming_the_settings(
    sink: InMemoryEventSink, overrides: dict[str, Any]
) -> None:
    config = IngestSettings(ingest_secret=SecretStr("s" * 16), **overrides)
    async for client in _client(config, sink):
        response = await _post(client, sample(DEAL_SAMPLE))
        assert response.status_code == 401
        assert "PIPEDRIVE_USER and PIPEDRIVE_PASSWORD" in response.json()["detail"]


def test_the_registry_always_builds_the_adapter() -> None:
    unset = IngestSettings(ingest_secret=SecretStr("s" * 16))
    assert any(adapter.vendor == "pipedrive" for adapter in build_adapters(unset))
    assert isinstance(pipedrive.build(unset), pipedrive.PipedriveAdapter)


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
async def test_a_wrong_content_type_is_415(client: httpx.AsyncClient, content_type: str) -> None:
    response = await _post(client, sample(DEAL_SAMPLE), **{"Content-Type": content_type})
    assert response.status_code == 415


@pytest.mark.parametrize("body", [b"{", b"not json", b"\xff\xfe", b""])
async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient, body: bytes) -> None:
    response = await _post(client, body)
    assert response.status_code == 400
    assert response.json()["detail"] == "body is not JSON"


def _without(path: str) -> dict[str, Any]:
    body = sample(DEAL_SAMPLE)
    *parents, last = path.split(".")
    target = body
    for part in parents:
        target = target[part]
    del target[last]
    return body


def _with_meta(**fields: Any) -> dict[str, Any]:
    body = sample(DEAL_SAMPLE)
    body["meta"].update(fields)
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_without("meta"), "meta"),
        (_without("meta.action"), "meta.action"),
        (_without("meta.entity"), "meta.entity"),
        (_without("data"), "data"),
        ({**sample(DEAL_SAMPLE), "data": None}, "data"),
        ({**sample(DEAL_SAMPLE), "data": [1]}, "data"),
        ({**sample(DEAL_SAMPLE), "previous": "x"}, "previous"),
        (_with_meta(version="1.0"), "meta.version"),
        ([sample(DEAL_SAMPLE)], "body"),
        ({"v": 1, "event": "added.deal", "current": {}, "previous": None, "meta": {}}, "v1"),
    ],
)  # fmt: skip
async def test_a_missing_envelope_field_is_422_naming_it(
    client: httpx.AsyncClient, sink: InMemoryEventSink, body: Any, field: str
) -> None:
    response = await _post(client, body)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    assert sink.events == [] and sink.dead_letters == []


# ---- parking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (
            envelope("deal", "create", deal(owner_id=999)),
            ParkReason.UNKNOWN_USER,
            "user 999 is not in the mapping (pipedrive.users)",
        ),
        (
            envelope("deal", "create", deal(stage_id=77)),
            ParkReason.UNKNOWN_STAGE,
            "stage 77 of pipeline 1 is not in the mapping (pipedrive.pipelines.1.stages)",
        ),
        (
            envelope("deal", "create", deal(pipeline_id=5, stage_id=50)),
            ParkReason.UNKNOWN_PIPELINE,
            "pipeline 5 is not in the mapping (pipedrive.pipelines)",
        ),
        (
            envelope("activity", "create", activity(type="demo_call")),
            ParkReason.UNKNOWN_ACTIVITY_TYPE,
            "activity type 'demo_call' is not in the mapping (pipedrive.activity_types)",
        ),
        (
            {**envelope("deal", "create", deal()), "meta": {"action": "create", "entity": "deal",
                                                              "company_id": "1"}},
            ParkReason.INVALID_VALUE,
            "company 1 is not in the mapping (pipedrive.company_ids)",
        ),
    ],
)  # fmt: skip
async def test_an_unmappable_change_is_parked_with_its_reason_and_the_next_one_produced(
    client: httpx.AsyncClient,
    sink: InMemoryEventSink,
    body: dict[str, Any],
    reason: ParkReason,
    detail: str,
) -> None:
    response = await _post(client, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 0, "parked": 1, "ignored": 0, "event_ids": []}
    (letter,) = sink.dead_letters
    assert (letter.vendor, letter.reason, letter.detail) == ("pipedrive", reason, detail)
    assert letter.item == body  # self-contained: replayable as it is
    # Pipedrive sends one change per request: the next one is not held up.
    response = await _post(client, sample(DEAL_SAMPLE))
    assert response.json()["accepted"] == 1 and len(sink.events) == 1


async def test_a_future_change_is_parked(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    body = envelope("deal", "create", deal(add_time="2027-01-01T00:00:00Z"))
    assert (await _post(client, body)).json()["parked"] == 1
    assert sink.dead_letters[0].reason is ParkReason.FUTURE_EVENT


def test_a_parked_item_maps_once_the_mapping_knows_the_user() -> None:
    item = envelope("deal", "create", deal(owner_id=12415299))
    section = MAPPING.pipedrive.model_copy(update={"users": {str(OWNER): "rep-pd-1"}})
    with pytest.raises(Unmappable) as parked:
        mapped(item, MAPPING.model_copy(update={"pipedrive": section}))
    assert parked.value.reason is ParkReason.UNKNOWN_USER
    (event,) = events(item)
    assert event.rep_id == "rep-pd-2"


# ---- entities we do not track ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        envelope("user", "change", {"id": OWNER, "active_flag": False}, {"active_flag": True}),
        envelope("person", "create", {"id": 4, "name": "Ann"}),
        envelope("organization", "delete", None, {"id": 4, "name": "Initech"}),
        envelope("note", "create", {"id": 1, "content": "hi"}),
        envelope("deal", "merge", deal()),
    ],
)
def test_other_entities_and_actions_are_ignored_not_parked(body: dict[str, Any]) -> None:
    result = mapped(body)
    assert isinstance(result, Ignored) and result.reason is IgnoreReason.NOT_TRACKED


def test_a_deactivated_user_is_not_a_departure() -> None:
    body = envelope("user", "change", {"id": OWNER, "active_flag": False}, {"active_flag": True})
    body["meta"]["timestamp"] = 1_764_000_000  # users' meta.timestamp is epoch seconds
    result = mapped(body)
    assert isinstance(result, Ignored) and "HR" in result.detail


def test_without_company_ids_any_company_maps() -> None:
    section = MAPPING.pipedrive.model_copy(update={"company_ids": []})
    anywhere = MAPPING.model_copy(update={"pipedrive": section})
    body = envelope("deal", "create", deal(), company_id="42")
    result = mapped(body, anywhere)
    assert isinstance(result, Mapped) and result.events[0].payload.model_dump()[
        "amount"
    ] == Decimal("100.00")
