"""The local HubSpot CRM API in-process (ASGI): auth, shapes, associations, faults, call log."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from deploy.local.hubspot_api import NOT_FOUND_MESSAGE, create_app
from simulator.vendors.hubspot import HubSpotFormatter
from tests.unit.simulator.vendor_fixtures import build_org, story

TOKEN = "pat-na1-11111111-2222-3333-4444-555555555555"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hubspot.test")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app()) as running:
        yield running


@pytest.fixture
def formatter() -> HubSpotFormatter:
    return HubSpotFormatter(build_org(), portal_id=62515, app_id=54321, client_secret="secret")


def records_of(formatter: HubSpotFormatter) -> list[dict[str, Any]]:
    return [dict(r) for d in formatter.format(story()) for r in d.records]


async def load(client: httpx.AsyncClient, records: list[dict[str, Any]]) -> None:
    response = await client.post("/_records", json=records)
    assert response.status_code == 200, response.text


def first(records: list[dict[str, Any]], object_type: str) -> dict[str, Any]:
    return next(r for r in records if r["object_type"] == object_type)


async def test_health(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}]
)
async def test_calls_need_a_bearer_token(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get("/crm/v3/objects/calls/1", headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert (body["status"], body["category"]) == ("error", "INVALID_AUTHENTICATION")
    assert body["correlationId"] and "Authentication credentials not found" in body["message"]


async def test_a_configured_token_is_the_only_one_accepted() -> None:
    async with asgi_client(create_app(token=TOKEN)) as client:
        wrong = await client.get("/crm/v3/objects/calls/1", headers={"Authorization": "Bearer x"})
        right = await client.get("/crm/v3/objects/calls/1", headers=AUTH)
    assert wrong.status_code == 401
    assert right.status_code == 404  # past auth: simply not there


async def test_an_unknown_object_answers_hubspots_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/crm/v3/objects/meetings/123", headers=AUTH)
    assert response.status_code == 404
    body = response.json()
    assert body["category"] == "OBJECT_NOT_FOUND" and body["message"] == NOT_FOUND_MESSAGE
    assert body["context"] == {"id": ["123"]} and body["status"] == "error"
    unknown_type = await client.get("/crm/v3/objects/widgets/123", headers=AUTH)
    assert (unknown_type.status_code, unknown_type.json()["category"]) == (400, "VALIDATION_ERROR")


async def test_a_formatted_record_is_served_with_asked_properties_and_associations(
    client: httpx.AsyncClient, formatter: HubSpotFormatter
) -> None:
    records = records_of(formatter)
    await load(client, records)
    call = first(records, "calls")
    asked = "hs_call_disposition,hs_call_duration,hubspot_owner_id,hs_call_body"
    response = await client.get(
        f"/crm/v3/objects/calls/{call['id']}",
        params={"properties": asked, "associations": "deals,companies,contacts"},
        headers=AUTH,
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"id", "properties", "createdAt", "updatedAt", "archived", "associations"}
    assert body["id"] == call["id"] and body["archived"] is False
    properties = body["properties"]
    assert properties["hs_call_disposition"] == call["properties"]["hs_call_disposition"]
    assert properties["hs_call_body"] is None  # asked for, never set
    assert properties["hs_object_id"] == call["id"]
    assert properties["hs_createdate"] == body["createdAt"] == call["createdAt"]
    deal_id = call["associations"]["deals"][0]
    assert body["associations"]["deals"] == {"results": [{"id": deal_id, "type": "call_to_deal"}]}
    assert body["associations"]["companies"]["results"][0]["type"] == "call_to_company"


async def test_without_properties_only_the_defaults_come_back(
    client: httpx.AsyncClient, formatter: HubSpotFormatter
) -> None:
    records = records_of(formatter)
    await load(client, records)
    meeting = first(records, "meetings")
    response = await client.get(f"/crm/v3/objects/0-47/{meeting['id']}", headers=AUTH)
    assert set(response.json()["properties"]) == {
        "hs_createdate",
        "hs_lastmodifieddate",
        "hs_object_id",
    }
    assert "associations" not in response.json()
    deal = first(records, "deals")
    deal_body = (await client.get(f"/crm/v3/objects/deals/{deal['id']}", headers=AUTH)).json()
    assert deal_body["properties"]["dealname"] == "Initech platform rollout"
    assert deal_body["properties"]["createdate"] == deal["createdAt"]


async def test_later_records_update_the_object_as_a_patch_would(
    client: httpx.AsyncClient, formatter: HubSpotFormatter
) -> None:
    records = records_of(formatter)
    await load(client, records)
    booked, held = [r for r in records if r["object_type"] == "meetings"][:2]
    assert booked["id"] == held["id"]
    response = await client.get(
        f"/crm/v3/objects/meetings/{booked['id']}",
        params={"properties": "hs_meeting_outcome,hs_meeting_title"},
        headers=AUTH,
    )
    body = response.json()
    assert body["properties"]["hs_meeting_outcome"] == "COMPLETED"
    assert (body["createdAt"], body["updatedAt"]) == (booked["createdAt"], held["updatedAt"])
    deal = first(records, "deals")
    won = await client.get(
        f"/crm/v3/objects/deals/{deal['id']}",
        params={"properties": "dealstage,amount"},
        headers=AUTH,
    )
    properties = won.json()["properties"]
    assert (properties["dealstage"], properties["amount"]) == ("closedwon", "15000.5")


async def test_batch_read_reports_missing_ids_with_207(
    client: httpx.AsyncClient, formatter: HubSpotFormatter
) -> None:
    records = records_of(formatter)
    await load(client, records)
    emails = [r["id"] for r in records if r["object_type"] == "emails"]
    body: dict[str, Any] = {
        "inputs": [{"id": i} for i in emails],
        "properties": ["hs_email_direction"],
    }
    complete = await client.post("/crm/v3/objects/emails/batch/read", json=body, headers=AUTH)
    assert complete.status_code == 200 and complete.json()["status"] == "COMPLETE"
    directions = [r["properties"]["hs_email_direction"] for r in complete.json()["results"]]
    assert directions == ["EMAIL", "INCOMING_EMAIL"]
    body["inputs"].append({"id": "999"})
    partial = await client.post("/crm/v3/objects/emails/batch/read", json=body, headers=AUTH)
    assert partial.status_code == 207
    [error] = partial.json()["errors"]
    assert error["category"] == "OBJECT_NOT_FOUND" and error["context"] == {"ids": ["999"]}


async def test_faults_answer_429_with_retry_after_then_recover(
    client: httpx.AsyncClient, formatter: HubSpotFormatter
) -> None:
    records = records_of(formatter)
    await load(client, records)
    url = f"/crm/v3/objects/calls/{first(records, 'calls')['id']}"
    await client.post("/_faults", json={"status": 429, "times": 2, "retry_after": 3})
    await client.post("/_faults", json={"status": 503})
    limited = [await client.get(url, headers=AUTH) for _ in range(2)]
    for response in limited:
        assert response.status_code == 429 and response.headers["Retry-After"] == "3"
        body = response.json()
        assert (body["errorType"], body["policyName"]) == ("RATE_LIMIT", "TEN_SECONDLY_ROLLING")
        assert body["message"] == "You have reached your ten_secondly_rolling limit."
        assert response.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert (await client.get(url, headers=AUTH)).status_code == 503
    recovered = await client.get(url, headers=AUTH)
    assert recovered.status_code == 200
    assert int(recovered.headers["X-HubSpot-RateLimit-Remaining"]) > 0


async def test_calls_are_recorded_without_the_token(client: httpx.AsyncClient) -> None:
    await client.get("/crm/v3/objects/calls/1", params={"hapikey": "k-123"}, headers=AUTH)
    await client.get("/crm/v3/objects/calls/1")
    calls = (await client.get("/_calls")).json()
    assert [(c["method"], c["path"], c["status"]) for c in calls] == [
        ("GET", "/crm/v3/objects/calls/1", 404),
        ("GET", "/crm/v3/objects/calls/1", 401),
    ]
    assert TOKEN not in str(calls) and "k-123" not in str(calls)


async def test_bad_records_load_nothing_and_reset_clears_everything(
    client: httpx.AsyncClient, formatter: HubSpotFormatter
) -> None:
    records = records_of(formatter)
    rejected = await client.post(
        "/_records", json=[records[0], {"object_type": "widgets", "id": "1"}]
    )
    assert rejected.status_code == 422
    assert (await client.get("/_records")).json() == []
    await load(client, records)
    assert len((await client.get("/_records")).json()) == len(
        {(r["object_type"], r["id"]) for r in records}
    )
    await client.get("/crm/v3/objects/calls/1", headers=AUTH)
    await client.post("/_faults", json={"status": 500})
    assert (await client.delete("/_records")).status_code == 200
    assert (await client.get("/_records")).json() == [] and (
        await client.get("/_calls")
    ).json() == []
    assert (await client.get("/crm/v3/objects/calls/1", headers=AUTH)).status_code == 404


async def test_v4_association_batch_read_lists_each_objects_links(
    client: httpx.AsyncClient, formatter: HubSpotFormatter
) -> None:
    records = records_of(formatter)
    await load(client, records)
    call = first(records, "calls")
    path = "/crm/v4/associations/calls/contacts/batch/read"
    found = await client.post(path, json={"inputs": [{"id": call["id"]}]}, headers=AUTH)
    assert found.status_code == 200
    [result] = found.json()["results"]
    assert result["from"] == {"id": call["id"]}
    assert [to["toObjectId"] for to in result["to"]] == [
        int(i) for i in call["associations"]["contacts"]
    ]
    assert result["to"][0]["associationTypes"] == [
        {"category": "HUBSPOT_DEFINED", "typeId": 194, "label": None}
    ]
    partial = await client.post(
        "/crm/v4/associations/0-48/deals/batch/read",
        json={"inputs": [{"id": call["id"]}, {"id": "999"}]},
        headers=AUTH,
    )
    assert partial.status_code == 207  # an unknown id is reported, the rest answered
    assert partial.json()["errors"][0]["context"] == {"ids": ["999"]}
    too_many = {"inputs": [{"id": str(n)} for n in range(101)]}
    assert (await client.post(path, json=too_many, headers=AUTH)).status_code == 400
    assert (await client.post(path, json=too_many)).status_code == 401


async def test_a_slow_fault_delays_a_normal_answer(client: httpx.AsyncClient) -> None:
    await client.post("/_faults", json={"status": 200, "delay_seconds": 0.2})
    started = time.monotonic()
    response = await client.get("/crm/v3/objects/calls/1", headers=AUTH)
    assert response.status_code == 404 and time.monotonic() - started >= 0.2
    started = time.monotonic()
    assert (await client.get("/crm/v3/objects/calls/1", headers=AUTH)).status_code == 404
    assert time.monotonic() - started < 0.2
