"""Properties of both Salesforce routes: no 5xx and no exception whatever arrives, event ids
stable under redelivery, and the order of fields irrelevant."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import tostring

import httpx
import orjson
import pytest
from defusedxml.ElementTree import fromstring
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from services.ingest.adapters.base import Ignored, Mapped, Parked, ParkReason, Unmappable
from services.ingest.adapters.salesforce_auth import SalesforceAccess
from services.ingest.adapters.salesforce_cdc import SalesforceCdcAdapter
from services.ingest.adapters.salesforce_outbound import SalesforceOutboundAdapter
from services.ingest.adapters.salesforce_store import InMemorySnapshotStore
from services.ingest.producer import InMemoryEventSink
from shared.events import SalesEvent
from tests.unit.services.ingest.adapters.salesforce_support import (
    AT,
    CDC_URL,
    CLOUDEVENT,
    MEETING,
    OPP,
    ORG,
    OUTBOUND_URL,
    TASK,
    USER_1,
    USER_2,
    XML,
    change_event,
    client_of,
    mapping,
    mapping_document,
    meeting,
    opportunity,
    outbound,
    settings_for,
    sf_time,
    task,
)
from tests.unit.services.ingest.strategies import json_values

fuzz = hypothesis_settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OK_OR_REFUSED = {200, 400, 401, 413, 415, 422}
FIELDS = [
    "Id", "StageName", "Amount", "CloseDate", "OwnerId", "LastModifiedDate", "SystemModstamp",
    "CreatedDate", "IsClosed", "Status", "TaskSubtype", "Type", "Direction__c",
    "CallDisposition", "CallDurationInSeconds", "Meeting_Status__c", "Meeting_Kind__c",
    "StartDateTime", "ActivityDateTime", "DurationInMinutes", "EventSubtype", "WhatId", "WhoId",
    "AccountId", "ContactId", "Subject", "CompletedDateTime", "Loss_Reason__c",
    "CurrencyIsoCode", "LastModifiedById", "Name",
]  # fmt: skip
PLAUSIBLE = [
    OPP, TASK, MEETING, USER_1, USER_2, "Prospecting", "Closed Won", "Closed Lost", "Email",
    "Call", "Event", "Task", "Outbound", "Inbound", "Connected", "No Answer", "Scheduled",
    "Held", "Initial", "Follow-up", "true", "false", "45000.0", "1.5E7", "-3", "NaN", "1e999",
    "2026-12-31", "2026-02-30", sf_time(AT), "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+01:00", "12", "0", "86401", "USD", "",
]  # fmt: skip
_scalar = st.sampled_from(PLAUSIBLE) | st.text(max_size=12)
_json_scalar = (
    _scalar
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.booleans()
    | st.none()
)
records = st.dictionaries(st.sampled_from(FIELDS), _scalar | st.none(), max_size=14)
json_records = st.dictionaries(st.sampled_from(FIELDS), _json_scalar | json_values, max_size=14)
sobjects = st.sampled_from(["Opportunity", "Task", "Event", "Lead"])


@dataclass
class Harness:
    """A client of an app serving one adapter, and its store and sink, shared by the
    examples of one test: `reset` empties them where an example needs a fresh start."""

    client: httpx.AsyncClient
    sink: InMemoryEventSink
    store: InMemorySnapshotStore

    def reset(self) -> InMemoryEventSink:
        self.store.snapshots.clear()
        self.sink.events.clear()
        self.sink.dead_letters.clear()
        return self.sink

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> list[SalesEvent]:
        """The events of posting `body` to a fresh app."""
        self.reset()
        response = await self.client.post(url, content=body, headers=headers)
        assert response.status_code == 200, response.text
        return list(self.sink.events)


@asynccontextmanager
async def harness(tmp_path: Path, kind: type[Any]) -> AsyncIterator[Harness]:
    settings = settings_for(tmp_path, mapping_document(), ingest_max_body_bytes=16 * 1024)
    sink, store = InMemoryEventSink(), InMemorySnapshotStore()
    adapter = kind(SalesforceAccess.from_settings(settings), store)
    async with client_of(adapter, sink, settings) as client:
        yield Harness(client, sink, store)


@pytest.fixture
async def outbound_app(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, SalesforceOutboundAdapter) as running:
        yield running


@pytest.fixture
async def cdc_app(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path, SalesforceCdcAdapter) as running:
        yield running


def _no_adapter_errors(sink: InMemoryEventSink) -> None:
    assert all(letter.reason is not ParkReason.ADAPTER_ERROR for letter in sink.dead_letters), [
        letter.detail for letter in sink.dead_letters
    ]


# ---- never a 5xx, never an exception -------------------------------------------------------


_xml_bodies = st.builds(
    lambda notes: outbound(notes),
    st.lists(st.tuples(sobjects, records.map(lambda r: {"Id": OPP, **r})), min_size=1, max_size=4),
)


@fuzz
@given(
    body=_xml_bodies | st.binary(max_size=300) | st.text(max_size=300).map(str.encode),
    content_type=st.sampled_from(["text/xml", "text/xml; charset=utf-8", "application/json", ""]),
    extra=st.dictionaries(
        st.sampled_from(["Authorization", "SOAPAction", "X-Anything"]),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    ),
)
async def test_outbound_never_answers_5xx_nor_raises(
    outbound_app: Harness, body: bytes, content_type: str, extra: dict[str, str]
) -> None:
    headers = {**extra, "Content-Type": content_type}
    response = await outbound_app.client.post(OUTBOUND_URL, content=body, headers=headers)
    event(f"status {response.status_code}")
    assert response.status_code in OK_OR_REFUSED, response.text
    assert response.headers["content-type"].startswith("text/xml")
    _no_adapter_errors(outbound_app.sink)


_cloudevents = st.builds(
    lambda entity, change_type, fields, header: _with_header(
        change_event(entity, change_type, fields), header
    ),
    sobjects | st.text(max_size=8),
    st.sampled_from(["CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_UPDATE", "GAP_OVERFLOW", "?"]),
    json_records,
    st.dictionaries(
        st.sampled_from(
            [
                "commitTimestamp",
                "sequenceNumber",
                "transactionKey",
                "commitNumber",
                "commitUser",
                "nulledFields",
                "changedFields",
                "recordIds",
            ]
        ),  # fmt: skip
        _json_scalar | json_values,
        max_size=3,
    ),
)


def _with_header(envelope: dict[str, Any], header: dict[str, Any]) -> dict[str, Any]:
    envelope["data"]["payload"]["ChangeEventHeader"].update(header)
    return envelope


@fuzz
@given(
    document=_cloudevents | st.lists(_cloudevents, max_size=3) | json_values,
    content_type=st.sampled_from(
        [
            "application/cloudevents+json",
            "application/cloudevents-batch+json",
            "application/json",
            "text/plain",
        ]
    ),  # fmt: skip
)
async def test_cdc_never_answers_5xx_nor_raises(
    cdc_app: Harness, document: Any, content_type: str
) -> None:
    body = json.dumps(document).encode()  # integers beyond 64 bits included
    headers = {"Content-Type": content_type}
    response = await cdc_app.client.post(CDC_URL, content=body, headers=headers)
    event(f"status {response.status_code}")
    assert response.status_code in OK_OR_REFUSED, response.text
    _no_adapter_errors(cdc_app.sink)


@fuzz
@given(
    sobject=sobjects,
    record=json_records,
    previous=st.none() | st.fixed_dictionaries({"version": st.text(), "fields": json_records}),
)
def test_outbound_map_of_any_item_maps_parks_or_ignores(
    sobject: str, record: dict[str, Any], previous: dict[str, Any] | None
) -> None:
    adapter = SalesforceOutboundAdapter(
        SalesforceAccess(frozenset({ORG[:15]})), InMemorySnapshotStore()
    )
    item = {"organization_id": ORG, "sobject": sobject, "record": record, "previous": previous}
    try:
        result = adapter.map(item, mapping())
    except Unmappable as exc:
        result = Parked(exc.reason, exc.detail)
    assert isinstance(result, Mapped | Ignored | Parked)


@fuzz
@given(envelope=_cloudevents, record_id=st.none() | st.sampled_from([OPP, TASK, MEETING, "001*"]))
def test_cdc_map_of_any_item_maps_parks_or_ignores(
    envelope: dict[str, Any], record_id: str | None
) -> None:
    adapter = SalesforceCdcAdapter(SalesforceAccess(frozenset({ORG[:15]})), InMemorySnapshotStore())
    item = {"organization_id": ORG, "record_id": record_id, "cloudevent": envelope}
    try:
        result = adapter.map(item, mapping())
    except Unmappable as exc:
        result = Parked(exc.reason, exc.detail)
    assert isinstance(result, Mapped | Ignored | Parked)


# ---- event ids stable under redelivery -----------------------------------------------------

_stages = st.sampled_from(["Prospecting", "Qualification", "Needs Analysis", "Closed Won"])
_states = st.lists(
    st.tuples(
        _stages, st.sampled_from(["45000.0", "60000.0", "6.0E4"]), st.sampled_from([USER_1, USER_2])
    ),
    min_size=1,
    max_size=5,
)


def _opportunity_states(states: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    start = AT - timedelta(hours=len(states))
    return [
        opportunity(start + timedelta(hours=i), stage=stage, amount=amount, owner=owner)
        for i, (stage, amount, owner) in enumerate(states)
    ]


@fuzz
@given(states=_states)
async def test_outbound_redelivery_under_new_notification_ids_maps_to_the_same_ids(
    outbound_app: Harness, states: list[tuple[str, str, str]]
) -> None:
    notifications = [("Opportunity", s) for s in _opportunity_states(states)]
    notifications += [("Task", task()), ("Event", meeting())]
    first_ids = [f"04l8W0000First{i:02d}A" for i in range(len(notifications))]
    again_ids = [f"04l8W0000Again{i:02d}A" for i in range(len(notifications))]
    first = await outbound_app.post(OUTBOUND_URL, outbound(notifications, ids=first_ids), XML)
    again = await outbound_app.post(OUTBOUND_URL, outbound(notifications, ids=again_ids), XML)
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert len(first) >= 3  # at least the opportunity's creation, the email and the booking


@fuzz
@given(stage=_stages, amount=st.integers(0, 10**9), replay=st.integers(1, 10**6))
async def test_cdc_redelivery_by_the_relay_maps_to_the_same_ids(
    cdc_app: Harness, stage: str, amount: int, replay: int
) -> None:
    change = change_event("Opportunity", "UPDATE", {"StageName": stage, "Amount": amount})
    redelivered = {**change, "id": f"ce-retry-{replay}", "time": sf_time(AT + timedelta(seconds=5))}
    redelivered["data"] = {**change["data"], "event": {"replayId": replay}}
    first = [e.event_id for e in await cdc_app.post(CDC_URL, orjson.dumps(change), CLOUDEVENT)]
    # Redelivered once the first was committed, and to a process that never saw the first.
    body = orjson.dumps(redelivered)
    response = await cdc_app.client.post(CDC_URL, content=body, headers=CLOUDEVENT)
    assert response.status_code == 200
    assert [e.event_id for e in cdc_app.sink.events] == first + first
    again = [e.event_id for e in await cdc_app.post(CDC_URL, body, CLOUDEVENT)]
    assert first and first == again


# ---- field order does not matter -------------------------------------------------------------


def _shuffled_xml(body: bytes, rng: random.Random) -> bytes:
    """The same message with each element's children in another order, except that the
    Notifications keep theirs (the order of a record's states is Salesforce's)."""
    root = fromstring(body)
    for element in root.iter():
        children = list(element)
        notifications = [child for child in children if child.tag.endswith("}Notification")]
        rng.shuffle(children)
        slots = iter(notifications)
        element[:] = [
            next(slots) if child.tag.endswith("}Notification") else child for child in children
        ]
    return tostring(root)


def _shuffled_json(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled_json(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled_json(v, rng) for v in value]
    return value


@fuzz
@given(states=_states, seed=st.integers(0, 10**6))
async def test_outbound_element_order_does_not_matter(
    outbound_app: Harness, states: list[tuple[str, str, str]], seed: int
) -> None:
    body = outbound(
        [("Opportunity", s) for s in _opportunity_states(states)] + [("Task", task("Call"))]
    )
    shuffled = _shuffled_xml(body, random.Random(seed))  # noqa: S311 - test data
    in_order = await outbound_app.post(OUTBOUND_URL, body, XML)
    reordered = await outbound_app.post(OUTBOUND_URL, shuffled, XML)
    assert in_order and in_order == reordered


@fuzz
@given(
    fields=st.sampled_from([{"StageName": "Qualification"}, {"Amount": 1.5e7}]),
    seed=st.integers(0, 10**6),
)
async def test_cdc_key_order_does_not_matter(
    cdc_app: Harness, fields: dict[str, Any], seed: int
) -> None:
    created = change_event(
        "Opportunity", "CREATE", {"StageName": "Prospecting", "OwnerId": USER_1, "Amount": 1}
    )
    changed = change_event(
        "Opportunity", "UPDATE", fields, transaction="tx-2", at=AT + timedelta(minutes=1)
    )
    batch = [created, changed]
    shuffled = _shuffled_json(batch, random.Random(seed))  # noqa: S311 - test data
    headers = {"Content-Type": "application/cloudevents-batch+json"}
    in_order = await cdc_app.post(CDC_URL, orjson.dumps(batch), headers)
    reordered = await cdc_app.post(CDC_URL, orjson.dumps(shuffled), headers)
    assert in_order and in_order == reordered
