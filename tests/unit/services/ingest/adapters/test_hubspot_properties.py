"""Properties of the HubSpot route: no 5xx and no crash on any input, ids stable under retries
and redelivery, JSON key order irrelevant."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from services.ingest.adapters.base import Mapped, Parked, ParkReason
from services.ingest.adapters.hubspot import HubSpotAdapter
from services.ingest.mapping import MappingConfig
from services.ingest.settings import IngestSettings
from services.ingest.webhooks import map_item
from tests.unit.services.ingest.adapters.hubspot_fixtures import (
    AT,
    MAPPING,
    PATH,
    PORTAL,
    Harness,
    deal,
    harness,
    iso,
    ms,
    record,
    v3_headers,
)
from tests.unit.services.ingest.strategies import json_values

ADAPTER = HubSpotAdapter(IngestSettings())
CONFIG = MappingConfig.model_validate(MAPPING)
fuzz = hypothesis_settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
fuzz_route = hypothesis_settings(fuzz, max_examples=80)


def _maybe(plausible: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly a plausible value, sometimes any JSON at all."""
    return st.one_of(plausible, plausible, plausible, json_values)


_values = st.one_of(
    st.sampled_from(["appointmentscheduled", "closedwon", "closedlost", "qualifiedtobuy", "101",
                     "102", "999", "1250.5", "", "COMPLETED", "NO_SHOW", "1767225600000",
                     "2026-12-31T00:00:00.000Z"]),
    st.text(max_size=12),
)  # fmt: skip
hubspot_events = st.fixed_dictionaries(
    {
        "subscriptionType": _maybe(
            st.sampled_from(["deal.creation", "deal.propertyChange", "deal.deletion",
                             "object.creation", "object.propertyChange", "object.deletion",
                             "contact.deletion", "company.propertyChange", "conversation.x"])
        ),
        "objectId": _maybe(st.integers(1, 6)),
        "occurredAt": _maybe(st.integers(ms(AT) - 10**9, ms(AT) + 10**9)),
        "portalId": _maybe(st.just(PORTAL)),
    },
    optional={
        "objectTypeId": _maybe(st.sampled_from(["0-1", "0-3", "0-47", "0-48", "0-49", "2-7"])),
        "propertyName": _maybe(st.sampled_from(["dealstage", "amount", "closedate",
                                                "hubspot_owner_id", "dealname",
                                                "hs_meeting_outcome"])),
        "propertyValue": _maybe(_values),
        "eventId": st.integers(1, 2**32),
        "attemptNumber": st.integers(0, 9),
        "changeSource": st.sampled_from(["CRM_UI", "IMPORT"]),
    },
)  # fmt: skip
_properties = st.dictionaries(
    st.sampled_from(["dealstage", "pipeline", "amount", "closedate", "hubspot_owner_id",
                     "deal_currency_code", "closed_lost_reason", "hs_timestamp",
                     "hs_email_direction", "hs_email_status", "hs_call_disposition",
                     "hs_call_duration", "hs_meeting_start_time", "hs_meeting_end_time",
                     "hs_activity_type"]),
    st.none() | _values,
)  # fmt: skip
_records = st.fixed_dictionaries(
    {"id": st.just("1"), "properties": _maybe(_properties)},
    optional={
        "associations": _maybe(
            st.dictionaries(st.sampled_from(["deals", "companies", "contacts"]),
                            st.lists(st.sampled_from(["9", "10"]), max_size=2))
        ),
        "createdAt": _maybe(st.sampled_from([iso(AT), "2019-01-01T00:00:00Z", "garbage"])),
    },
)  # fmt: skip
items = st.builds(
    lambda event, hydrated: event if hydrated is ... else event | {"_hydrated": hydrated},
    hubspot_events,
    st.one_of(st.just(...), st.none(), _records, json_values),
)


# ---- pure: map ------------------------------------------------------------------------


@fuzz
@given(item=items)
def test_map_never_crashes_whatever_the_item_and_its_record(item: dict[str, Any]) -> None:
    result = map_item(ADAPTER, item, CONFIG)
    assert not (isinstance(result, Parked) and result.reason is ParkReason.ADAPTER_ERROR), item


@fuzz
@given(item=items, attempt=st.integers(1, 9), event_id=st.integers(1, 2**32))
def test_retry_counters_and_key_order_do_not_change_the_events(
    item: dict[str, Any], attempt: int, event_id: int
) -> None:
    retried = dict(reversed(list((item | {"attemptNumber": attempt, "eventId": event_id}).items())))
    first, again = map_item(ADAPTER, item, CONFIG), map_item(ADAPTER, retried, CONFIG)
    assert first == again
    if isinstance(first, Mapped):
        assert [e.event_id for e in first.events] == [e.event_id for e in again.events]


# ---- through the route ------------------------------------------------------------------


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Harness]:
    async with harness(tmp_path) as running:
        await running.load(
            deal(1), deal(2, dealstage="closedwon"),
            record("calls", 3, hubspot_owner_id="101", hs_call_duration="5000"),
            record("emails", 4, hubspot_owner_id="102", hs_email_direction="EMAIL"),
            record("meetings", 5, hubspot_owner_id="101", hs_meeting_start_time=iso(AT)),
        )  # fmt: skip
        yield running


_header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
_headers = st.dictionaries(
    st.sampled_from(["Content-Type", "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp",
                     "X-HubSpot-Signature", "X-HubSpot-Signature-Version", "X-Other"]),
    _header_text | st.sampled_from(["application/json", str(ms(AT)), "v1", "v2"]),
)  # fmt: skip


@fuzz_route
@given(
    body=st.binary(max_size=300) | hubspot_events.map(lambda e: json.dumps([e]).encode()),
    headers=_headers,
)
async def test_arbitrary_bodies_and_headers_never_give_a_5xx(
    hub: Harness, body: bytes, headers: dict[str, str]
) -> None:
    before = len(hub.sink.events)
    response = await hub.client.post(PATH, content=body, headers=headers)
    assert response.status_code in {200, 400, 401, 415, 422}, response.text
    if response.status_code != 200:
        assert len(hub.sink.events) == before


@fuzz_route
@given(document=st.lists(hubspot_events, max_size=6) | json_values)
async def test_signed_bodies_never_give_a_5xx_or_an_adapter_error(
    hub: Harness, document: Any
) -> None:
    body = json.dumps(document).encode()
    response = await hub.client.post(PATH, content=body, headers=v3_headers(body))
    assert response.status_code in {200, 400, 422}, response.text
    if response.status_code == 200:
        receipt = response.json()
        assert receipt["accepted"] >= 0 and receipt["parked"] + receipt["ignored"] <= len(document)
        assert all(
            letter.reason is not ParkReason.ADAPTER_ERROR for letter in hub.sink.dead_letters
        )


@fuzz_route
@given(document=st.lists(hubspot_events, min_size=1, max_size=5), seed=st.randoms())
async def test_a_redelivery_reordered_and_retried_gives_the_same_ids(
    hub: Harness, document: list[dict[str, Any]], seed: Any
) -> None:
    first = json.dumps(document).encode()
    response = await hub.client.post(PATH, content=first, headers=v3_headers(first))
    if response.status_code != 200:
        return
    shuffled = [dict(reversed(list((e | {"attemptNumber": 4}).items()))) for e in document]
    seed.shuffle(shuffled)
    again = json.dumps(shuffled).encode()
    retried = await hub.client.post(PATH, content=again, headers=v3_headers(again))
    assert retried.status_code == 200
    assert sorted(retried.json()["event_ids"]) == sorted(response.json()["event_ids"])
