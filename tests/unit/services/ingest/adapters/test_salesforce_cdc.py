"""The `salesforce-cdc` route: CDC change events through a CloudEvents relay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from services.ingest.adapters.salesforce_auth import SalesforceAccess
from services.ingest.adapters.salesforce_cdc import SalesforceCdcAdapter, build
from services.ingest.adapters.salesforce_store import InMemorySnapshotStore
from services.ingest.mapping import MappingConfig
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.events import derive_event_id
from tests.unit.services.ingest.adapters.salesforce_support import (
    ACCOUNT,
    AT,
    CDC_URL,
    CLOUDEVENT,
    CONTACT,
    MEETING,
    OPP,
    ORG,
    OTHER_ORG,
    STRANGER,
    TASK,
    USER_1,
    USER_2,
    basic,
    change_event,
    client_of,
    mapping_document,
    settings_for,
    sf_time,
)
from tests.unit.services.ingest.support import NOW

CREATED_OPP = {
    "AccountId": ACCOUNT,
    "Amount": 45000.0,
    "CloseDate": "2026-12-31",
    "CreatedDate": sf_time(AT),
    "CurrencyIsoCode": "EUR",
    "IsClosed": False,
    "Name": "Initech renewal",
    "OwnerId": USER_1,
    "StageName": "Prospecting",
}
DONE_TASK = {
    "AccountId": ACCOUNT,
    "CallDisposition": "Connected",
    "CallDurationInSeconds": 300,
    "CompletedDateTime": sf_time(AT),
    "IsClosed": True,
    "OwnerId": USER_1,
    "Status": "Completed",
    "TaskSubtype": "Call",
    "WhatId": OPP,
    "WhoId": CONTACT,
}
BOOKED = {
    "AccountId": ACCOUNT,
    "DurationInMinutes": 30,
    "EventSubtype": "Event",
    "Meeting_Kind__c": "Follow-up",
    "Meeting_Status__c": "Scheduled",
    "OwnerId": USER_2,
    "StartDateTime": sf_time(NOW + timedelta(days=1)),
    "WhatId": OPP,
}


@pytest.fixture
def store() -> InMemorySnapshotStore:
    return InMemorySnapshotStore()


@pytest.fixture
def settings(tmp_path: Path) -> IngestSettings:
    return settings_for(tmp_path, mapping_document())


@pytest.fixture
def adapter(settings: IngestSettings, store: InMemorySnapshotStore) -> SalesforceCdcAdapter:
    return SalesforceCdcAdapter(SalesforceAccess.from_settings(settings), store)


@pytest.fixture
async def client(
    adapter: SalesforceCdcAdapter, sink: InMemoryEventSink, settings: IngestSettings
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(adapter, sink, settings) as test_client:
        yield test_client


async def post(
    client: httpx.AsyncClient, document: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(CDC_URL, content=orjson.dumps(document), headers=headers or CLOUDEVENT)


def events_of(sink: InMemoryEventSink) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type.value, e.payload.model_dump(mode="json")) for e in sink.events]


def update(entity: str, fields: dict[str, Any], minutes: int, **kwargs: Any) -> dict[str, Any]:
    """An UPDATE `minutes` after AT, listing its fields as changed."""
    changed = [*fields, *kwargs.get("nulled", ())]
    return change_event(
        entity,
        "UPDATE",
        fields,
        at=AT + timedelta(minutes=minutes),
        transaction=f"tx-{entity}-{minutes}",
        commit_number=10_969_000_000_000 + minutes,
        changed=changed,
        **kwargs,
    )


# ---- opportunities ---------------------------------------------------------------------------


async def test_an_opportunity_created_then_changed_maps_each_change(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    changes = [
        change_event("Opportunity", "CREATE", CREATED_OPP),
        update("Opportunity", {"StageName": "Qualification"}, 1),
        update("Opportunity", {"Amount": 60000}, 2),
        update("Opportunity", {"CloseDate": "2027-01-15"}, 3),
        update("Opportunity", {"OwnerId": USER_2}, 4, user=USER_2),
        update("Opportunity", {"StageName": "Closed Lost", "Loss_Reason__c": "Timing"}, 5),
    ]
    for change in changes:
        response = await post(client, change)
        assert response.status_code == 200, response.text
    assert events_of(sink) == [
        (
            "opportunity.created",
            {
                "name": "Initech renewal",
                "stage": "Prospecting",
                "amount": "45000.00",
                "currency": "EUR",
                "close_date": "2026-12-31",
                "pipeline": "default",
            },
        ),
        ("opportunity.stage_changed", {"from_stage": "Prospecting", "to_stage": "Qualification"}),
        (
            "opportunity.amount_changed",
            {"from_amount": "45000.00", "to_amount": "60000.00", "currency": "EUR"},
        ),
        ("opportunity.close_date_changed", {"from_date": "2026-12-31", "to_date": "2027-01-15"}),
        ("opportunity.owner_changed", {"from_rep_id": "rep-1", "to_rep_id": "rep-2"}),
        ("opportunity.closed_lost", {"reason": "Timing"}),
    ]
    # The owner, not the committing user, is the rep once the owner is known.
    assert [e.rep_id for e in sink.events] == ["rep-1"] * 4 + ["rep-2"] * 2
    assert [e.occurred_at for e in sink.events] == [AT + timedelta(minutes=m) for m in range(6)]
    delivery = f"{ORG[:15]}:tx-0001:1:{OPP}"
    assert sink.events[0].source.delivery_id == delivery
    assert sink.events[0].event_id == derive_event_id("salesforce", delivery, "opportunity.created")


async def test_without_a_known_state_from_values_are_null_and_the_committer_is_the_rep(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    change = update("Opportunity", {"StageName": "Qualification", "Amount": 10}, 1, user=USER_2)
    assert (await post(client, change)).status_code == 200
    assert events_of(sink) == [
        ("opportunity.stage_changed", {"from_stage": None, "to_stage": "Qualification"}),
        (
            "opportunity.amount_changed",
            {"from_amount": None, "to_amount": "10.00", "currency": "USD"},
        ),
    ]
    assert {e.rep_id for e in sink.events} == {"rep-2"}


async def test_a_nulled_amount_yields_nothing_and_edits_of_other_fields_neither(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, change_event("Opportunity", "CREATE", CREATED_OPP))
    await post(client, update("Opportunity", {}, 1, nulled=["Amount"]))
    await post(client, update("Opportunity", {"Description": "notes"}, 2))
    assert [t for t, _ in events_of(sink)] == ["opportunity.created"]


async def test_one_change_to_several_records_maps_once_per_record(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    other = "0068W00000Opp02AAA"
    change = update("Opportunity", {"StageName": "Qualification"}, 1, record_ids=[OPP, other])
    await post(client, change)
    assert [e.opportunity_id for e in sink.events] == [OPP, other]
    assert len({e.event_id for e in sink.events}) == 2


async def test_a_redelivery_under_a_new_cloudevent_id_maps_to_the_same_ids(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, change_event("Opportunity", "CREATE", CREATED_OPP))
    change = update("Opportunity", {"StageName": "Qualification"}, 1)
    await post(client, change)
    await post(client, {**change, "id": "ce-redelivered"})
    ids = [e.event_id for e in sink.events]
    assert ids[1] == ids[2]


# ---- tasks and meetings ------------------------------------------------------------------------


async def test_a_completed_task_maps_on_create_and_later_edits_do_not_repeat_it(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, change_event("Task", "CREATE", DONE_TASK, record_ids=[TASK]))
    await post(client, update("Task", {"Subject": "Call: notes"}, 5, record_ids=[TASK]))
    assert events_of(sink) == [("call.made", {"connected": True, "duration_seconds": 300})]
    event = sink.events[0]
    assert (event.rep_id, event.account_id, event.opportunity_id, event.contact_id) == (
        "rep-1",
        ACCOUNT,
        OPP,
        CONTACT,
    )


async def test_a_task_created_open_maps_when_it_is_completed(
    client: httpx.AsyncClient, sink: InMemoryEventSink, store: InMemorySnapshotStore
) -> None:
    planned = {**DONE_TASK, "IsClosed": False, "Status": "Not Started"}
    del planned["CompletedDateTime"]
    await post(client, change_event("Task", "CREATE", planned, record_ids=[TASK]))
    assert sink.events == []
    done = {"IsClosed": True, "Status": "Completed", "CompletedDateTime": sf_time(AT)}
    await post(client, update("Task", done, 30, record_ids=[TASK]))
    assert events_of(sink) == [("call.made", {"connected": True, "duration_seconds": 300})]
    assert sink.events[0].occurred_at == AT
    assert store.snapshots == {} or all(
        not s.record_id.startswith("00T") or s.fields["IsClosed"] is False
        for s in store.snapshots.values()
    )


async def test_a_meeting_booked_then_held_keeps_its_kind_from_the_booking(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, change_event("Event", "CREATE", BOOKED, record_ids=[MEETING]))
    await post(client, update("Event", {"Subject": "Renamed"}, 1, record_ids=[MEETING]))
    held = {"Meeting_Status__c": "Held", "DurationInMinutes": 50}
    await post(client, update("Event", held, 60, record_ids=[MEETING], user=USER_1))
    starts = (NOW + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert events_of(sink) == [
        ("meeting.scheduled", {"meeting_id": MEETING, "starts_at": starts, "kind": "follow_up"}),
        ("meeting.held", {"meeting_id": MEETING, "kind": "follow_up", "duration_minutes": 50}),
    ]
    # Booked by its owner; held by the rep who recorded it held (an AE, for an SDR's booking).
    assert [e.rep_id for e in sink.events] == ["rep-2", "rep-1"]


async def test_a_meeting_marked_held_by_an_integration_user_counts_for_its_owner(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, change_event("Event", "CREATE", BOOKED, record_ids=[MEETING]))
    held = {"Meeting_Status__c": "Held"}
    await post(client, update("Event", held, 60, record_ids=[MEETING], user=STRANGER))
    assert [e.rep_id for e in sink.events] == ["rep-2", "rep-2"]


async def test_a_held_meeting_whose_booking_was_never_seen_parks_naming_the_kind(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    held = {"Meeting_Status__c": "Held", "DurationInMinutes": 50}
    response = await post(client, update("Event", held, 60, record_ids=[MEETING]))
    assert response.status_code == 200
    (letter,) = sink.dead_letters
    assert (letter.vendor, letter.reason.value) == ("salesforce-cdc", "missing_field")
    assert letter.detail == "Meeting_Kind__c is missing"


# ---- change types and objects ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entity", "change_type"),
    [
        ("Opportunity", "DELETE"),
        ("Opportunity", "UNDELETE"),
        ("Account", "CREATE"),
        ("Contact", "UPDATE"),
        ("Lead", "GAP_UPDATE"),
    ],
)
async def test_untracked_objects_and_deletions_are_ignored(
    client: httpx.AsyncClient, sink: InMemoryEventSink, entity: str, change_type: str
) -> None:
    response = await post(client, change_event(entity, change_type, {}))
    assert response.json() == {"accepted": 0, "parked": 0, "ignored": 1, "event_ids": []}
    assert sink.dead_letters == []


@pytest.mark.parametrize(
    "change_type", ["GAP_CREATE", "GAP_UPDATE", "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW"]
)
async def test_gap_events_are_parked_so_the_lost_change_shows(
    client: httpx.AsyncClient, sink: InMemoryEventSink, change_type: str
) -> None:
    record_ids = [] if change_type == "GAP_OVERFLOW" else [OPP]
    change = change_event("Opportunity", change_type, {}, record_ids=record_ids)
    assert (await post(client, change)).json()["parked"] == 1
    (letter,) = sink.dead_letters
    assert letter.reason.value == "missing_field"
    assert letter.detail.startswith(f"{change_type} of Opportunity")
    assert "re-sync" in letter.detail


# ---- content modes ------------------------------------------------------------------------------


async def test_batched_binary_and_plain_json_modes_are_accepted(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    first = change_event("Opportunity", "CREATE", CREATED_OPP)
    second = update("Opportunity", {"StageName": "Qualification"}, 1)
    batch = await post(
        client, [first, second], {"Content-Type": "application/cloudevents-batch+json"}
    )
    assert batch.json()["accepted"] == 2
    plain = await post(client, [second], {"Content-Type": "application/json; charset=utf-8"})
    assert plain.json()["event_ids"] == batch.json()["event_ids"][1:]
    attributes = {f"ce-{k}": v for k, v in second.items() if k != "data" and v is not None}
    binary = await client.post(
        CDC_URL,
        content=orjson.dumps(second["data"]),
        headers={"Content-Type": "application/json", **attributes},
    )
    assert binary.json()["event_ids"] == batch.json()["event_ids"][1:]


# ---- auth and refusals ------------------------------------------------------------------------


async def test_an_unconfigured_org_list_refuses_naming_the_setting(
    tmp_path: Path, sink: InMemoryEventSink
) -> None:
    settings = settings_for(tmp_path, mapping_document(), salesforce_org_id="")
    async with client_of(build(settings), sink, settings) as client:
        response = await post(client, change_event("Opportunity", "CREATE", CREATED_OPP))
    assert response.status_code == 401
    assert "SALESFORCE_ORG_ID" in response.json()["detail"]


async def test_a_batch_naming_an_organization_not_on_the_list_is_refused_whole(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    batch = [
        change_event("Opportunity", "CREATE", CREATED_OPP),
        change_event("Opportunity", "CREATE", CREATED_OPP, org=OTHER_ORG),
    ]
    response = await post(client, batch, {"Content-Type": "application/cloudevents-batch+json"})
    assert response.status_code == 401
    assert OTHER_ORG in response.json()["detail"]
    assert sink.events == []


async def test_basic_auth_when_a_user_is_set(tmp_path: Path, sink: InMemoryEventSink) -> None:
    settings = settings_for(
        tmp_path, mapping_document(), salesforce_user="relay", salesforce_password="pw-123456"
    )
    adapter = SalesforceCdcAdapter(
        SalesforceAccess.from_settings(settings), InMemorySnapshotStore()
    )
    change = change_event("Opportunity", "CREATE", CREATED_OPP)
    async with client_of(adapter, sink, settings) as client:
        assert (await post(client, change)).status_code == 401
        wrong = await post(client, change, {**CLOUDEVENT, **basic("relay", "nope")})
        right = await post(client, change, {**CLOUDEVENT, **basic("relay", "pw-123456")})
    assert wrong.status_code == 401 and "pw-123456" not in wrong.text
    assert right.status_code == 200


def _drop(document: dict[str, Any], path: str) -> dict[str, Any]:
    copy = orjson.loads(orjson.dumps(document))
    *parents, last = path.split(".")
    node = copy
    for part in parents:
        node = node[part]
    del node[last]
    return copy  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "path",
    [
        "specversion",
        "id",
        "source",
        "type",
        "data",
        "data.payload",
        "data.payload.ChangeEventHeader",
        "data.payload.ChangeEventHeader.entityName",
        "data.payload.ChangeEventHeader.changeType",
        "data.payload.ChangeEventHeader.recordIds",
    ],
)
async def test_a_missing_envelope_field_is_refused_with_422_naming_it(
    client: httpx.AsyncClient, sink: InMemoryEventSink, path: str
) -> None:
    response = await post(client, _drop(change_event("Opportunity", "CREATE", CREATED_OPP), path))
    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"body.{path} ")
    assert sink.events == [] and sink.dead_letters == []


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/cloudevents+json", 400),
        (b"[]", "application/cloudevents-batch+json", 422),
        (b"{}", "application/cloudevents-batch+json", 422),
        (b"[{}]", "application/cloudevents+json", 422),
        (b'"text"', "application/json", 422),
        (b"{}", "text/plain", 415),
        (b"{}", "", 415),
    ],
)
async def test_bodies_of_the_wrong_shape_are_refused(
    client: httpx.AsyncClient, body: bytes, content_type: str, status: int
) -> None:
    response = await client.post(CDC_URL, content=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text


async def test_a_source_naming_no_organization_is_refused(client: httpx.AsyncClient) -> None:
    change = {**change_event("Opportunity", "CREATE", CREATED_OPP), "source": "/relay/cdc"}
    response = await post(client, change)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("body.source names no organization")


@pytest.mark.parametrize(
    ("fields", "kwargs", "reason", "detail"),
    [
        ({**CREATED_OPP, "OwnerId": STRANGER}, {}, "unknown_user", f"user {STRANGER} is not"),
        ({**CREATED_OPP, "StageName": "Haggling"}, {}, "unknown_stage", "stage 'Haggling'"),
        ({**CREATED_OPP, "Amount": "lots"}, {}, "invalid_value", "Amount 'lots' is not a number"),
    ],
)
async def test_unmappable_changes_are_parked_and_the_rest_produced(
    client: httpx.AsyncClient,
    sink: InMemoryEventSink,
    fields: dict[str, Any],
    kwargs: dict[str, Any],
    reason: str,
    detail: str,
) -> None:
    batch = [
        change_event("Opportunity", "CREATE", fields, **kwargs),
        change_event("Task", "CREATE", DONE_TASK, record_ids=[TASK], transaction="tx-2"),
    ]
    response = await post(client, batch, {"Content-Type": "application/cloudevents-batch+json"})
    assert response.json() == {
        "accepted": 1,
        "parked": 1,
        "ignored": 0,
        "event_ids": [sink.events[0].event_id],
    }
    (letter,) = sink.dead_letters
    assert letter.reason.value == reason
    assert letter.detail.startswith(detail), letter.detail
    assert letter.item["record_id"] == OPP


@pytest.mark.parametrize("field", ["transactionKey", "sequenceNumber", "commitTimestamp"])
async def test_a_change_without_its_identity_is_parked(
    client: httpx.AsyncClient, sink: InMemoryEventSink, field: str
) -> None:
    change = _drop(
        change_event("Opportunity", "CREATE", CREATED_OPP),
        f"data.payload.ChangeEventHeader.{field}",
    )
    assert (await post(client, change)).json()["parked"] == 1
    assert sink.dead_letters[0].reason.value == "missing_field"


# A NUL cannot be stored in a PostgreSQL text column: the store answered DataError, which was
# a 503 the relay retried forever. An id of no Salesforce shape parks and never reaches it.
@pytest.mark.parametrize("record_id", ["0068W00000Opp\x0001AAA", "not a record id"])
async def test_a_record_id_of_no_salesforce_shape_is_parked_without_the_store(
    client: httpx.AsyncClient,
    sink: InMemoryEventSink,
    store: InMemorySnapshotStore,
    record_id: str,
) -> None:
    change = change_event("Opportunity", "CREATE", CREATED_OPP, record_ids=[record_id])
    response = await post(client, change)
    assert response.status_code == 200
    assert response.json()["parked"] == 1
    assert sink.dead_letters[0].reason.value == "invalid_value"
    assert sink.events == [] and store.snapshots == {}


async def test_a_store_that_is_down_gives_503(
    client: httpx.AsyncClient, store: InMemorySnapshotStore, sink: InMemoryEventSink
) -> None:
    store.down = True
    response = await post(client, change_event("Opportunity", "CREATE", CREATED_OPP))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert sink.events == []


async def test_parked_changes_replay_with_the_state_they_were_received_with(
    client: httpx.AsyncClient, sink: InMemoryEventSink, adapter: SalesforceCdcAdapter
) -> None:
    await post(client, change_event("Opportunity", "CREATE", CREATED_OPP))
    await post(client, update("Opportunity", {"StageName": "Haggling"}, 1))
    await post(client, update("Opportunity", {"StageName": "Qualification"}, 2))
    (letter,) = sink.dead_letters
    stages = {"Prospecting": "P", "Haggling": "H", "Qualification": "Q"}
    fixed = MappingConfig.model_validate(
        mapping_document(pipelines={"default": {"stages": stages}})
    )
    (item,) = await adapter.enrich([letter.item])
    result = adapter.map(item, fixed)
    assert [e.payload.model_dump() for e in result.events] == [  # type: ignore[union-attr]
        {"from_stage": "P", "to_stage": "H"}
    ]
