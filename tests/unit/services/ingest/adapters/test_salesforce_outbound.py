"""The `salesforce` route: Outbound Messages in, SOAP Ack or Fault out, events and letters."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import canonicalize

import httpx
import pytest
from defusedxml.ElementTree import fromstring

from services.ingest.adapters.base import WebhookRequest
from services.ingest.adapters.salesforce_auth import SalesforceAccess
from services.ingest.adapters.salesforce_outbound import SalesforceOutboundAdapter, build
from services.ingest.adapters.salesforce_store import InMemorySnapshotStore
from services.ingest.intake import Refused
from services.ingest.mapping import MappingConfig
from services.ingest.producer import InMemoryEventSink
from services.ingest.settings import IngestSettings
from shared.events import derive_event_id
from tests.unit.services.ingest.adapters.salesforce_support import (
    ACCOUNT,
    AT,
    CONTACT,
    MEETING,
    OPP,
    ORG,
    OTHER_ORG,
    OUTBOUND_URL,
    SAMPLES,
    STRANGER,
    TASK,
    USER_2,
    XML,
    basic,
    client_of,
    mapping_document,
    meeting,
    opportunity,
    outbound,
    settings_for,
    sf_time,
    task,
)
from tests.unit.services.ingest.support import NOW

SOAP = "{http://schemas.xmlsoap.org/soap/envelope/}"
SAMPLE_ORG, SAMPLE_OWNER = "00D5w000004qGTOEA2", "0055w00000BhqR0AAJ"


@pytest.fixture
def store() -> InMemorySnapshotStore:
    return InMemorySnapshotStore()


@pytest.fixture
def document() -> dict[str, Any]:
    return mapping_document()


@pytest.fixture
def settings(tmp_path: Path, document: dict[str, Any]) -> IngestSettings:
    return settings_for(tmp_path, document)


@pytest.fixture
def adapter(settings: IngestSettings, store: InMemorySnapshotStore) -> SalesforceOutboundAdapter:
    return SalesforceOutboundAdapter(SalesforceAccess.from_settings(settings), store)


@pytest.fixture
async def client(
    adapter: SalesforceOutboundAdapter, sink: InMemoryEventSink, settings: IngestSettings
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_of(adapter, sink, settings) as test_client:
        yield test_client


async def post(client: httpx.AsyncClient, body: bytes, **headers: str) -> httpx.Response:
    return await client.post(OUTBOUND_URL, content=body, headers={**XML, **headers})


def fault(response: httpx.Response) -> tuple[str, str]:
    """(faultcode, faultstring) of a SOAP Fault answer."""
    assert response.headers["content-type"].startswith("text/xml")
    element = fromstring(response.content).find(f"{SOAP}Body/{SOAP}Fault")
    assert element is not None, response.text
    return element.findtext("faultcode") or "", element.findtext("faultstring") or ""


def acked(response: httpx.Response) -> bool:
    ack = (SAMPLES / "salesforce_outbound_ack_response.xml").read_text()
    return response.status_code == 200 and canonicalize(
        response.text, strip_text=True
    ) == canonicalize(ack, strip_text=True)


def events_of(sink: InMemoryEventSink) -> list[tuple[str, dict[str, Any]]]:
    return [(e.type.value, e.payload.model_dump(mode="json")) for e in sink.events]


# ---- the vendor's samples ---------------------------------------------------------------


async def test_the_sample_opportunity_message_maps_to_its_creation_and_is_acked(
    tmp_path: Path, sink: InMemoryEventSink
) -> None:
    document = {"salesforce": {"users": {SAMPLE_OWNER: "rep-7"}}}
    settings = settings_for(tmp_path, document, salesforce_org_id=SAMPLE_ORG[:15])
    adapter = SalesforceOutboundAdapter(
        SalesforceAccess.from_settings(settings), InMemorySnapshotStore()
    )
    body = (SAMPLES / "salesforce_outbound_opportunity.xml").read_bytes()
    async with client_of(adapter, sink, settings) as client:
        response = await post(client, body)
    assert acked(response), response.text
    delivery = "00D5w000004qGTO:0065w000023STAmAAO:" + f"{1588993472000:015d}" + "0" * 26
    (event,) = sink.events
    assert event.model_dump(mode="json") == {
        "schema_version": 1,
        "event_id": derive_event_id("salesforce", delivery, "opportunity.created"),
        "type": "opportunity.created",
        "occurred_at": "2020-05-08T13:40:22Z",
        "source": {"vendor": "salesforce", "delivery_id": delivery},
        "rep_id": "rep-7",
        "account_id": "0015w00002BFDeLAAX",
        "opportunity_id": "0065w000023STAmAAO",
        "contact_id": "0035w000035gg9GAAQ",
        "payload": {
            "name": "Backpackers, Inc. (Sample)",
            "stage": "Negotiation/Review",
            "amount": "45000.00",
            "currency": "USD",
            "close_date": "2020-07-11",
            "pipeline": "default",
        },
    }
    assert sink.dead_letters == []


async def test_the_sample_message_with_a_later_stage_change_gives_stage_changed(
    tmp_path: Path, sink: InMemoryEventSink
) -> None:
    document = {"salesforce": {"users": {SAMPLE_OWNER: "rep-7"}}}
    settings = settings_for(tmp_path, document, salesforce_org_id=SAMPLE_ORG)
    adapter = SalesforceOutboundAdapter(
        SalesforceAccess.from_settings(settings), InMemorySnapshotStore()
    )
    sample = (SAMPLES / "salesforce_outbound_opportunity.xml").read_text()
    later = (
        sample.replace("Negotiation/Review", "Closed Won")
        .replace("<sf:IsWon>false", "<sf:IsWon>true")
        .replace("2020-05-09T03:04:32.000Z", "2020-05-10T09:00:00.000Z")
        .replace("04l5w00005286hAAAQ", "04l5w00005286hBAAQ")
    )
    async with client_of(adapter, sink, settings) as client:
        assert acked(await post(client, sample.encode()))
        assert acked(await post(client, later.encode()))
    assert events_of(sink)[1:] == [("opportunity.closed_won", {"amount": "45000.00"})]
    assert sink.events[1].occurred_at == datetime.fromisoformat("2020-05-10T09:00:00+00:00")


# ---- auth and refusals: SOAP Faults with the status kept ------------------------------


async def test_an_unconfigured_org_list_refuses_everything_naming_the_setting(
    tmp_path: Path, sink: InMemoryEventSink
) -> None:
    settings = settings_for(tmp_path, mapping_document(), salesforce_org_id="")
    async with client_of(build(settings), sink, settings) as client:
        response = await post(client, outbound([("Opportunity", opportunity())]))
    assert response.status_code == 401
    code, reason = fault(response)
    assert code == "soapenv:Client"
    assert "SALESFORCE_ORG_ID" in reason
    assert sink.events == []


async def test_an_organization_not_on_the_list_is_refused(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    response = await post(client, outbound([("Opportunity", opportunity())], org=OTHER_ORG))
    assert response.status_code == 401
    assert OTHER_ORG in fault(response)[1]
    assert sink.events == []


@pytest.mark.parametrize(
    ("allowed", "sent", "status"),
    [
        (ORG, ORG, 200),
        (ORG[:15], ORG, 200),
        (ORG, ORG[:15], 200),
        (f"{OTHER_ORG}, {ORG}", ORG, 200),
        (ORG.lower(), ORG, 401),  # 15-character ids are case-sensitive
    ],
)
async def test_organizations_compare_by_their_15_character_id(
    tmp_path: Path, sink: InMemoryEventSink, allowed: str, sent: str, status: int
) -> None:
    settings = settings_for(tmp_path, mapping_document(), salesforce_org_id=allowed)
    adapter = SalesforceOutboundAdapter(
        SalesforceAccess.from_settings(settings), InMemorySnapshotStore()
    )
    async with client_of(adapter, sink, settings) as client:
        response = await post(client, outbound([("Opportunity", opportunity())], org=sent))
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "headers",
    [{}, basic("sf", "wrong"), basic("other", "s3cret-pass"), {"Authorization": "Bearer x"}],
)
async def test_basic_auth_when_a_user_is_set(
    tmp_path: Path, sink: InMemoryEventSink, headers: dict[str, str]
) -> None:
    settings = settings_for(
        tmp_path, mapping_document(), salesforce_user="sf", salesforce_password="s3cret-pass"
    )
    adapter = SalesforceOutboundAdapter(
        SalesforceAccess.from_settings(settings), InMemorySnapshotStore()
    )
    body = outbound([("Opportunity", opportunity())])
    async with client_of(adapter, sink, settings) as client:
        refused = await post(client, body, **headers)
        accepted = await post(client, body, **basic("sf", "s3cret-pass"))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == 'Basic realm="salesforce"'
    assert "s3cret-pass" not in refused.text
    assert acked(accepted)
    assert len(sink.events) == 1


@pytest.mark.parametrize(
    ("credentials", "headers"),
    [
        ({"salesforce_user": "sf"}, basic("sf", "")),  # no password: not an empty one
        ({"salesforce_password": "s3cret-pass"}, {}),  # a password alone still asks for Basic
    ],
)
async def test_half_configured_basic_auth_refuses_naming_both_settings(
    tmp_path: Path,
    sink: InMemoryEventSink,
    credentials: dict[str, str],
    headers: dict[str, str],
) -> None:
    settings = settings_for(tmp_path, mapping_document(), **credentials)
    adapter = SalesforceOutboundAdapter(
        SalesforceAccess.from_settings(settings), InMemorySnapshotStore()
    )
    async with client_of(adapter, sink, settings) as client:
        response = await post(client, outbound([("Opportunity", opportunity())]), **headers)
    assert response.status_code == 401
    reason = fault(response)[1]
    assert "SALESFORCE_USER" in reason and "SALESFORCE_PASSWORD" in reason
    assert sink.events == []


@pytest.mark.parametrize(
    ("body", "content_type", "status", "named"),
    [
        (b"<notifications", "text/xml", 400, "not well-formed"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
            "text/xml",
            400,
            "not well-formed",
        ),
        # An encoding Python does not know, or a codec that is no text encoding: 400, not 500.
        (b'<?xml version="1.0" encoding="x-unknown"?><a/>', "text/xml", 400, "not well-formed"),
        (b'<?xml version="1.0" encoding="rot13"?><a/>', "text/xml", 400, "not well-formed"),
        (b"<a/>", "text/xml", 422, "soapenv:Envelope"),
        (outbound([("Opportunity", opportunity())]), "application/json", 415, "Content-Type"),
        (outbound([("Opportunity", opportunity())]), "", 415, "Content-Type"),
        (
            outbound([("Opportunity", opportunity())]),
            "text/xml; charset=latin-1",
            415,
            "Content-Type",
        ),
    ],
)
async def test_bodies_of_the_wrong_shape_are_refused_with_a_fault(
    client: httpx.AsyncClient,
    sink: InMemoryEventSink,
    body: bytes,
    content_type: str,
    status: int,
    named: str,
) -> None:
    response = await client.post(OUTBOUND_URL, content=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    code, reason = fault(response)
    assert code == "soapenv:Client"
    assert named.lower() in reason.lower()
    assert sink.events == [] and sink.dead_letters == []


def _without(body: bytes, element: str) -> bytes:
    text = body.decode()
    start = text.index(f"<{element}")
    end = text.index(f"</{element}>", start) + len(f"</{element}>")
    return (text[:start] + text[end:]).encode()


@pytest.mark.parametrize(
    ("element", "named"),
    [
        ("OrganizationId", "notifications/OrganizationId"),
        ("Notification", "notifications/Notification"),
        ("Id", "Notification[1]/Id"),
        ("sObject", "Notification[1]/sObject"),
        ("sf:Id", "Notification[1]/sObject/Id"),
    ],
)
async def test_a_missing_envelope_field_is_refused_with_422_naming_it(
    client: httpx.AsyncClient, element: str, named: str
) -> None:
    response = await post(client, _without(outbound([("Opportunity", opportunity())]), element))
    assert response.status_code == 422
    assert named in fault(response)[1]


async def test_a_body_over_the_limit_gets_a_413_fault(
    tmp_path: Path, sink: InMemoryEventSink, store: InMemorySnapshotStore
) -> None:
    settings = settings_for(tmp_path, mapping_document(), ingest_max_body_bytes=300)
    adapter = SalesforceOutboundAdapter(SalesforceAccess.from_settings(settings), store)
    async with client_of(adapter, sink, settings) as client:
        response = await post(client, outbound([("Opportunity", opportunity())]))
    assert response.status_code == 413
    assert fault(response)[0] == "soapenv:Client"


@pytest.mark.parametrize("step", ["enrich", "commit"])
async def test_a_store_that_is_down_gives_a_503_fault_with_retry_after(
    client: httpx.AsyncClient,
    sink: InMemoryEventSink,
    store: InMemorySnapshotStore,
    adapter: SalesforceOutboundAdapter,
    step: str,
) -> None:
    if step == "commit":
        original = adapter.store.save

        async def save_down(snapshots: Any) -> None:
            store.down = True
            await original(snapshots)

        adapter.store.save = save_down  # type: ignore[method-assign]
    else:
        store.down = True
    response = await post(client, outbound([("Opportunity", opportunity())]))
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    code, reason = fault(response)
    assert code == "soapenv:Server"
    assert "retry later" in reason
    # Before the events were stored (enrich) or after (commit): a retry maps to the same ids.
    assert len(sink.events) == (1 if step == "commit" else 0)


# ---- parking: the rest of the request still goes through --------------------------------


@pytest.mark.parametrize(
    ("sobject", "fields", "reason", "detail"),
    [
        (
            "Opportunity",
            opportunity(owner=STRANGER),
            "unknown_user",
            f"user {STRANGER} is not in the mapping (salesforce.users)",
        ),
        (
            "Opportunity",
            opportunity(stage="Haggling"),
            "unknown_stage",
            "stage 'Haggling' is not in the mapping (salesforce.pipelines.default.stages, "
            "or its won/lost)",
        ),
        (
            "Opportunity",
            opportunity(Amount="lots"),
            "invalid_value",
            "Amount 'lots' is not a number",
        ),
        (
            "Task",
            task("Fax"),
            "unknown_activity_type",
            "activity type 'Fax' is not in the mapping (salesforce.activity_types, or "
            "salesforce.untracked_activity_types)",
        ),
        (
            "Task",
            task("Call", CallDisposition="Left Voicemail"),
            "invalid_value",
            "CallDisposition 'Left Voicemail' is not in the mapping (salesforce.call_dispositions)",
        ),
        ("Task", task(Direction__c=None), "missing_field", "Direction__c is missing"),
        (
            "Event",
            meeting("Canceled"),
            "invalid_value",
            "Meeting_Status__c 'Canceled' is not in the mapping (salesforce.meeting_statuses)",
        ),
        ("Event", meeting(kind="Demo"), "invalid_value", "Meeting_Kind__c 'Demo' is not"),
        ("Task", task(LastModifiedDate=None, CreatedDate=None), "missing_field", "LastModified"),
    ],
)
async def test_unmappable_notifications_are_parked_and_the_rest_produced(
    client: httpx.AsyncClient,
    sink: InMemoryEventSink,
    sobject: str,
    fields: dict[str, Any],
    reason: str,
    detail: str,
) -> None:
    good = task("Call", record_id="00T8W00000Task9AAA")
    response = await post(client, outbound([(sobject, fields), ("Task", good)]))
    assert acked(response), response.text
    assert [e.type.value for e in sink.events] == ["call.made"]
    (letter,) = sink.dead_letters
    assert (letter.vendor, letter.reason.value) == ("salesforce", reason)
    assert letter.detail.startswith(detail), letter.detail
    assert letter.item["record"]["Id"] == fields["Id"]


async def test_a_parked_opportunity_replays_to_the_events_it_would_have_made(
    client: httpx.AsyncClient, sink: InMemoryEventSink, adapter: SalesforceOutboundAdapter
) -> None:
    await post(client, outbound([("Opportunity", opportunity())]))
    later = opportunity(AT + timedelta(hours=1), stage="Haggling", amount="50000.0")
    await post(client, outbound([("Opportunity", later)]))
    # Meanwhile the deal moves on; its next state is diffed against the parked one.
    latest = opportunity(AT + timedelta(hours=2), stage="Qualification", amount="50000.0")
    await post(client, outbound([("Opportunity", latest)]))
    (letter,) = sink.dead_letters
    assert letter.reason.value == "unknown_stage"
    stages = {"Prospecting": "Prospecting", "Haggling": "Haggling", "Qualification": "Qual"}
    fixed = mapping_document(pipelines={"default": {"stages": stages}})
    (item,) = await adapter.enrich([letter.item])
    result = adapter.map(item, MappingConfig.model_validate(fixed))
    assert [(e.type.value, e.payload.model_dump(mode="json")) for e in result.events] == [  # type: ignore[union-attr]
        ("opportunity.stage_changed", {"from_stage": "Prospecting", "to_stage": "Haggling"}),
        (
            "opportunity.amount_changed",
            {"from_amount": "45000.00", "to_amount": "50000.00", "currency": "USD"},
        ),
    ]
    assert events_of(sink)[1:] == [
        ("opportunity.stage_changed", {"from_stage": None, "to_stage": "Qualification"})
    ]


# ---- opportunities: states diffed against the last one seen -----------------------------


async def test_an_opportunity_s_life_maps_to_its_changes_with_from_values(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    t0 = AT - timedelta(hours=6)
    states = [
        opportunity(t0),
        opportunity(t0 + timedelta(hours=1), stage="Qualification"),
        opportunity(t0 + timedelta(hours=2), stage="Qualification", amount="60000.0"),
        opportunity(
            t0 + timedelta(hours=3), stage="Qualification", amount="6.0E4", CloseDate="2027-01-15"
        ),
        opportunity(
            t0 + timedelta(hours=4),
            stage="Qualification",
            amount="6.0E4",
            CloseDate="2027-01-15",
            owner=USER_2,
        ),
        opportunity(
            t0 + timedelta(hours=5),
            stage="Closed Won",
            amount="65000.0",
            CloseDate="2027-01-15",
            owner=USER_2,
            IsClosed="true",
            IsWon="true",
        ),
    ]
    for state in states:
        assert acked(await post(client, outbound([("Opportunity", state)])))
    assert events_of(sink) == [
        (
            "opportunity.created",
            {
                "name": "Initech renewal",
                "stage": "Prospecting",
                "amount": "45000.00",
                "currency": "USD",
                "close_date": "2026-12-31",
                "pipeline": "default",
            },
        ),
        ("opportunity.stage_changed", {"from_stage": "Prospecting", "to_stage": "Qualification"}),
        (
            "opportunity.amount_changed",
            {"from_amount": "45000.00", "to_amount": "60000.00", "currency": "USD"},
        ),
        ("opportunity.close_date_changed", {"from_date": "2026-12-31", "to_date": "2027-01-15"}),
        ("opportunity.owner_changed", {"from_rep_id": "rep-1", "to_rep_id": "rep-2"}),
        ("opportunity.closed_won", {"amount": "65000.00"}),  # the amount rides on the win
    ]
    assert [e.rep_id for e in sink.events] == ["rep-1"] * 4 + ["rep-2"] * 2
    assert sink.events[0].occurred_at == AT - timedelta(days=1)  # CreatedDate
    assert [e.occurred_at for e in sink.events[1:]] == [
        t0 + timedelta(hours=h) for h in range(1, 6)
    ]
    assert {e.opportunity_id for e in sink.events} == {OPP}
    assert {e.account_id for e in sink.events} == {ACCOUNT}


async def test_a_lost_deal_carries_its_loss_reason(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, outbound([("Opportunity", opportunity())]))
    lost = opportunity(AT + timedelta(hours=1), stage="Closed Lost", Loss_Reason__c="Price")
    await post(client, outbound([("Opportunity", lost)]))
    assert events_of(sink)[1:] == [("opportunity.closed_lost", {"reason": "Price"})]


async def test_a_deal_first_seen_closed_is_created_and_closed(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, outbound([("Opportunity", opportunity(stage="Closed Won"))]))
    assert [t for t, _ in events_of(sink)] == ["opportunity.created", "opportunity.closed_won"]
    assert sink.events[0].payload.model_dump()["stage"] == "Closed Won"


async def test_notifications_of_one_record_in_one_request_are_diffed_in_turn(
    client: httpx.AsyncClient, sink: InMemoryEventSink, store: InMemorySnapshotStore
) -> None:
    first = opportunity()
    second = opportunity(AT + timedelta(minutes=1), stage="Qualification")
    third = opportunity(AT + timedelta(minutes=2), stage="Needs Analysis")
    await post(client, outbound([("Opportunity", s) for s in (first, second, third)]))
    stages = [payload.get("to_stage") for _, payload in events_of(sink)]
    assert stages == [None, "Qualification", "Needs Analysis"]
    (snapshot,) = store.snapshots.values()
    assert snapshot.fields["StageName"] == "Needs Analysis"


async def test_a_state_older_than_the_one_seen_is_stale_and_the_same_one_a_duplicate(
    client: httpx.AsyncClient, sink: InMemoryEventSink, store: InMemorySnapshotStore
) -> None:
    older, newer = opportunity(), opportunity(AT + timedelta(hours=1), stage="Qualification")
    await post(client, outbound([("Opportunity", newer)]))
    before = list(sink.events)
    # Delivered out of order, then the same state again under a new notification id.
    assert acked(await post(client, outbound([("Opportunity", older)])))
    assert acked(await post(client, outbound([("Opportunity", newer)], ids=["04l8W00000NewIdAAA"])))
    assert sink.events == before
    (snapshot,) = store.snapshots.values()
    assert snapshot.fields["StageName"] == "Qualification"  # never rolled back


async def test_a_retry_after_a_lost_commit_maps_to_the_same_event_ids(
    client: httpx.AsyncClient, sink: InMemoryEventSink, store: InMemorySnapshotStore
) -> None:
    await post(client, outbound([("Opportunity", opportunity())]))
    saved = dict(store.snapshots)
    change = outbound(
        [("Opportunity", opportunity(AT + timedelta(hours=1), stage="Qualification"))]
    )
    await post(client, change)
    store.snapshots = saved  # as if the commit had failed
    await post(client, change)
    ids = [e.event_id for e in sink.events]
    assert len(ids) == 3 and ids[1] == ids[2]


# ---- tasks and events ---------------------------------------------------------------------


async def test_tasks_map_to_emails_and_calls(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    later = AT + timedelta(minutes=30)
    notifications = [
        ("Task", task()),
        ("Task", task(record_id="00T8W00000Task2AAA", Direction__c="Inbound", Subject="Re: x")),
        ("Task", task("Call", record_id="00T8W00000Task3AAA", at=later)),
        (
            "Task",
            task(
                "Call",
                record_id="00T8W00000Task4AAA",
                CallDisposition="No Answer",
                CallDurationInSeconds=None,
            ),
        ),
    ]
    assert acked(await post(client, outbound(notifications)))
    assert events_of(sink) == [
        ("email.sent", {"subject": "Pricing"}),
        ("email.replied", {"in_reply_to_event_id": None}),
        ("call.made", {"connected": True, "duration_seconds": 300}),
        ("call.made", {"connected": False, "duration_seconds": 0}),
    ]
    first = sink.events[0]
    assert (first.rep_id, first.account_id, first.opportunity_id, first.contact_id) == (
        "rep-1",
        ACCOUNT,
        OPP,
        CONTACT,
    )
    assert [e.occurred_at for e in sink.events] == [AT, AT, later, AT]
    assert first.source.delivery_id == f"{ORG[:15]}:{TASK}"


async def test_an_edited_task_sent_again_maps_to_the_same_event(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, outbound([("Task", task())]))
    edited = task(LastModifiedDate=sf_time(AT + timedelta(days=1)), Description="notes")
    response = await post(client, outbound([("Task", edited)], ids=["04l8W00000NewIdAAA"]))
    assert response.status_code == 200
    assert len({e.event_id for e in sink.events}) == 1


@pytest.mark.parametrize(
    "fields",
    [
        task(IsClosed="false", Status="Not Started"),
        task(IsClosed=None, Status="In Progress"),
        task("Task"),
        task("ListEmail"),
    ],
)
async def test_open_tasks_and_untracked_subtypes_are_ignored(
    client: httpx.AsyncClient, sink: InMemoryEventSink, fields: dict[str, Any]
) -> None:
    response = await post(client, outbound([("Task", fields)]))
    assert acked(response)
    assert sink.events == [] and sink.dead_letters == []


async def test_events_map_to_meetings_booked_then_held(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    held_at = NOW - timedelta(minutes=10)
    await post(client, outbound([("Event", meeting())]))
    await post(client, outbound([("Event", meeting(at=AT + timedelta(minutes=1)))]))  # re-sent
    await post(client, outbound([("Event", meeting("Held", kind="Follow-up", at=held_at))]))
    starts = (NOW + timedelta(days=2)).isoformat().replace("+00:00", "Z")
    assert events_of(sink) == [
        ("meeting.scheduled", {"meeting_id": MEETING, "starts_at": starts, "kind": "initial"}),
        ("meeting.scheduled", {"meeting_id": MEETING, "starts_at": starts, "kind": "initial"}),
        ("meeting.held", {"meeting_id": MEETING, "kind": "follow_up", "duration_minutes": 45}),
    ]
    assert sink.events[0].event_id == sink.events[1].event_id  # one booking
    assert [e.rep_id for e in sink.events] == ["rep-2"] * 3
    assert sink.events[2].occurred_at == held_at.replace(microsecond=0)


async def test_a_moved_meeting_is_a_new_booking(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    await post(client, outbound([("Event", meeting())]))
    moved = meeting(StartDateTime=sf_time(NOW + timedelta(days=3)))
    await post(client, outbound([("Event", moved)]))
    assert len({e.event_id for e in sink.events}) == 2


@pytest.mark.parametrize("sobject", ["Lead", "Account", "Contact", "Case"])
async def test_other_objects_are_ignored_not_parked(
    client: httpx.AsyncClient, sink: InMemoryEventSink, sobject: str
) -> None:
    fields = {"Id": "00Q8W00000Lead1AAA", "LastModifiedDate": sf_time(AT)}
    response = await post(client, outbound([(sobject, fields)]))
    assert acked(response)
    assert sink.events == [] and sink.dead_letters == []


async def test_nil_fields_read_as_absent(
    client: httpx.AsyncClient, sink: InMemoryEventSink
) -> None:
    body = outbound([("Opportunity", opportunity(amount=None))]).replace(
        b"<sf:Name>", b'<sf:Amount xsi:nil="true"/><sf:Name>'
    )
    assert acked(await post(client, body))
    assert sink.events[0].payload.model_dump()["amount"] == Decimal(0)


# ---- build and lifecycle --------------------------------------------------------------------


async def test_build_never_touches_the_database_when_salesforce_is_off(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, mapping_document(), salesforce_org_id="")
    adapter = build(settings)
    await adapter.start()
    await adapter.stop()
    assert not (tmp_path / "never-used").exists()
    request = WebhookRequest.of("POST", "http://x", XML, b"", NOW)
    with pytest.raises(Refused) as refused:
        adapter.authenticate(request)
    assert refused.value.status == 401


class _InterleavingStore(InMemorySnapshotStore):
    """Answers each load a few loop turns after reading, as a database round trip does."""

    async def load(self, keys: Any) -> Any:
        found = await super().load(keys)
        for _ in range(5):
            await asyncio.sleep(0)
        return found


async def test_concurrent_states_of_one_opportunity_are_diffed_one_after_the_other(
    settings: IngestSettings, sink: InMemoryEventSink
) -> None:
    adapter = SalesforceOutboundAdapter(
        SalesforceAccess.from_settings(settings), _InterleavingStore()
    )
    first = outbound([("Opportunity", opportunity(AT))], ids=["04l8W0000NoteA1AAA"])
    later = opportunity(AT + timedelta(minutes=5), stage="Qualification")
    second = outbound([("Opportunity", later)], ids=["04l8W0000NoteB1AAA"])
    async with client_of(adapter, sink, settings) as client:
        answers = await asyncio.gather(post(client, first), post(client, second))
    assert all(acked(answer) for answer in answers)
    # Without the per-record lock both would diff against nothing: two creations.
    assert [kind for kind, _ in events_of(sink)] == [
        "opportunity.created",
        "opportunity.stage_changed",
    ]
