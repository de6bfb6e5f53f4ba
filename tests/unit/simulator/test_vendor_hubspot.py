"""The HubSpot formatter: signatures, event and record shapes, batching, ids and the mapping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from shared.hubspot_signature import decode_signed_uri, signature_v1, signature_v2, signature_v3
from simulator.vendors.base import Delivery
from simulator.vendors.hubspot import MAX_EVENTS_PER_REQUEST, WEBHOOK_PATH, HubSpotFormatter
from simulator.vendors.hubspot_wire import (
    CONNECTED,
    NO_ANSWER,
    moment,
)
from tests.unit.simulator.vendor_fixtures import (
    SAMPLES,
    T0,
    build_org,
    directory_event,
    emails,
    event,
    of_type,
    story,
)

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
SDK_BODY = "{'example_field':'example_value'}"
SDK_URL = "https://www.example.com/webhook_uri"
ENGAGEMENT_TYPES = {"0-47": "meetings", "0-48": "calls", "0-49": "emails"}


def formatter(**overrides: Any) -> HubSpotFormatter:
    options: dict[str, Any] = {"portal_id": 5799819, "app_id": 186886, "client_secret": SECRET}
    return HubSpotFormatter(build_org(), **(options | overrides))


def events_of(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    return [hs_event for d in deliveries for hs_event in orjson.loads(d.body)]


@pytest.fixture
def delivered() -> tuple[HubSpotFormatter, list[Delivery]]:
    hubspot = formatter()
    return hubspot, hubspot.format(story())


# ---- signatures -------------------------------------------------------------------------


def test_v3_signature_matches_the_published_vector() -> None:
    expected = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
    assert signature_v3(SECRET, "POST", SDK_URL, SDK_BODY, 15000000) == expected
    assert signature_v3(SECRET, "POST", SDK_URL, SDK_BODY.encode(), "15000000") == expected


@pytest.mark.parametrize(
    ("method", "body", "expected"),
    [
        ("POST", SDK_BODY, "4fe4e3a7d3cf09db53be39d0a58130e2aaba074ec123a9e355b876a689a1c383"),
        ("GET", "", "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"),
    ],
)
def test_v2_signature_matches_the_sdk_vectors(method: str, body: str, expected: str) -> None:
    assert signature_v2(SECRET, method, SDK_URL, body) == expected


def test_v1_signature_matches_the_sdk_vector() -> None:
    expected = "69fc6631a867edd4f9e9e627fc5c1148e3fbdd8b21837b6d2b8901c1fa57f750"
    assert signature_v1(SECRET, SDK_BODY) == signature_v1(SECRET, SDK_BODY.encode()) == expected


def test_v3_signs_the_uri_with_only_the_listed_escapes_decoded() -> None:
    encoded = "https%3A%2F%2Fwww.example.com%2fwebhook_uri"
    assert decode_signed_uri(encoded) == SDK_URL
    plain = signature_v3(SECRET, "POST", SDK_URL, SDK_BODY, 15000000)
    assert signature_v3(SECRET, "POST", encoded, SDK_BODY, 15000000) == plain
    assert decode_signed_uri("/h?a=%28x%29%2C%3B%40%21%24%27%2A%3F") == "/h?a=(x),;@!$'*?"
    # Unlisted escapes stay, and decoding is one pass: %253A is not a colon.
    assert decode_signed_uri("/a%20b%26c%253A") == "/a%20b%26c%253A"


def test_sign_gives_the_headers_ingest_verifies(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    hubspot, deliveries = delivered
    url, now = "http://127.0.0.1:8001/v1/webhooks/hubspot", datetime(2026, 3, 9, 8, tzinfo=UTC)
    headers = hubspot.sign(deliveries[0], url=url, now=now)
    timestamp = int(now.timestamp() * 1000)
    assert headers["X-HubSpot-Request-Timestamp"] == str(timestamp)
    expected = signature_v3(SECRET, "POST", url, deliveries[0].body, timestamp)
    assert headers["X-HubSpot-Signature-v3"] == expected
    assert headers["X-HubSpot-Signature"] == signature_v1(SECRET, deliveries[0].body)
    assert headers["X-HubSpot-Signature-Version"] == "v1"
    assert headers["User-Agent"].startswith("HubSpot Connect 2.0")
    with pytest.raises(ValueError, match="naive"):
        hubspot.sign(deliveries[0], url=url, now=datetime(2026, 3, 9, 8))


# ---- event shapes -----------------------------------------------------------------------


def test_directory_events_are_never_sent() -> None:
    hubspot = formatter()
    assert not hubspot.accepts(directory_event())
    assert all(hubspot.accepts(e) for e in story())
    with pytest.raises(ValueError, match="does not send"):
        hubspot.format([directory_event()])


def test_a_stage_change_has_the_field_set_of_a_real_delivery(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    [sample] = orjson.loads((SAMPLES / "hubspot_deal_propertychange_closedwon.json").read_bytes())
    [ours] = [e for e in events_of(delivered[1]) if e.get("propertyValue") == "closedwon"]
    assert set(ours) == set(sample) | {"sourceId"}
    assert {k: type(v) for k, v in ours.items() if k in sample} == {
        k: type(v) for k, v in sample.items()
    }
    assert ours["subscriptionType"] == "deal.propertyChange" and ours["attemptNumber"] == 0
    assert ours["changeSource"] == "CRM_UI" and ours["sourceId"].startswith("userId:")


def test_a_deal_creation_is_followed_by_its_initial_properties(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    first = orjson.loads(delivered[1][0].body)
    creation, *changes = first[:6]
    assert creation["subscriptionType"] == "deal.creation" and creation["changeFlag"] == "CREATED"
    assert [(c["propertyName"], c["propertyValue"]) for c in changes] == [
        ("dealname", "Initech platform rollout"),
        ("dealstage", "appointmentscheduled"),
        ("amount", "12000"),
        ("closedate", str(int(datetime(2026, 4, 30, tzinfo=UTC).timestamp() * 1000))),
        ("hubspot_owner_id", delivered[0].owner_id("rep-0001")),
    ]
    assert {(e["objectId"], e["occurredAt"]) for e in first[:6]} == {
        (creation["objectId"], int(T0.timestamp() * 1000))
    }
    # A deal created without a close date reports no closedate.
    second = [e for e in events_of(delivered[1]) if e["objectId"] != creation["objectId"]]
    names = {e.get("propertyName") for e in second if e["subscriptionType"].startswith("deal.")}
    assert "closedate" not in names and "amount" in names


def test_engagements_are_generic_creations_carrying_only_ids(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    engagements = [e for e in events_of(delivered[1]) if "objectTypeId" in e]
    creations = [e for e in engagements if e["subscriptionType"] == "object.creation"]
    assert sorted(e["objectTypeId"] for e in creations) == ["0-47", "0-48", "0-48", "0-49", "0-49"]
    assert all("propertyName" not in e and e["changeFlag"] == "CREATED" for e in creations)
    held = [e for e in engagements if e["subscriptionType"] == "object.propertyChange"]
    assert [(e["propertyName"], e["propertyValue"], e["isSensitive"]) for e in held] == [
        ("hs_meeting_outcome", "COMPLETED", False)
    ] * 2
    scheduled = next(e for e in creations if e["objectTypeId"] == "0-47")
    assert held[0]["objectId"] == scheduled["objectId"]  # the booked meeting, now held


# ---- records ----------------------------------------------------------------------------


def test_every_delivery_carries_the_records_its_events_need(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    for delivery in delivered[1]:
        served = {(r["object_type"], r["id"]) for r in delivery.records}
        for hs_event in orjson.loads(delivery.body):
            object_type = ENGAGEMENT_TYPES.get(hs_event.get("objectTypeId", ""), "deals")
            assert (object_type, str(hs_event["objectId"])) in served


def records_by_type(deliveries: list[Delivery]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for delivery in deliveries:
        for record in delivery.records:
            found.setdefault(str(record["object_type"]), []).append(dict(record))
    return found


def test_engagement_records_hold_what_ingest_hydrates(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    records = records_by_type(delivered[1])
    connected, missed = (r["properties"] for r in records["calls"])
    assert (
        connected["hs_call_disposition"] == CONNECTED and connected["hs_call_duration"] == "301000"
    )
    assert (missed["hs_call_disposition"], missed["hs_call_status"]) == (NO_ANSWER, "NO_ANSWER")
    sent, reply = (r["properties"] for r in records["emails"])
    assert (sent["hs_email_direction"], sent["hs_email_subject"]) == ("EMAIL", "Pricing follow-up")
    assert reply["hs_email_direction"] == "INCOMING_EMAIL"
    booked, held, unbooked = records["meetings"]
    assert booked["properties"]["hs_meeting_outcome"] == "SCHEDULED"
    assert booked["properties"]["hs_meeting_start_time"] == "2026-03-04T16:00:00.000Z"
    assert held["id"] == booked["id"] and held["properties"]["hs_meeting_outcome"] == "COMPLETED"
    assert held["properties"]["hs_meeting_end_time"] == "2026-03-04T17:30:00.000Z"
    assert "createdAt" in booked and "createdAt" not in held  # an update, merged into the booking
    assert unbooked["properties"]["hs_activity_type"] == "Follow-up meeting"
    assert set(booked["associations"]) == {"deals", "companies", "contacts"}
    assert set(records["calls"][1]["associations"]) == {"companies", "contacts"}


def test_deal_records_carry_associations_and_what_closing_needs(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    deals = records_by_type(delivered[1])["deals"]
    created = deals[0]
    assert created["properties"]["closedate"] == "2026-04-30T00:00:00.000Z"
    assert created["properties"]["deal_currency_code"] == "USD"
    assert set(created["associations"]) == {"companies", "contacts"}
    won = next(r for r in deals if r["properties"].get("dealstage") == "closedwon")
    assert won["properties"]["amount"] == "15000.5"
    lost = next(r for r in deals if r["properties"].get("dealstage") == "closedlost")
    assert lost["properties"]["closed_lost_reason"] == "Budget"


# ---- batching, determinism --------------------------------------------------------------


def test_batches_hold_fewer_than_100_events_and_never_split_an_event() -> None:
    hubspot = formatter()
    created = {"name": "x", "stage": "Discovery", "amount": "1.00", "close_date": "2026-05-01"}
    deals = [
        event("opportunity.created", T0, created, opportunity=f"opp-{n:06d}", key=str(n))
        for n in range(40)
    ]
    for batch_input, per_event in ((emails(250), 1), (deals, 6)):
        deliveries = hubspot.format(batch_input)
        sizes = [len(orjson.loads(d.body)) for d in deliveries]
        assert max(sizes) <= MAX_EVENTS_PER_REQUEST < 100
        assert sum(sizes) == len(batch_input) * per_event and all(s % per_event == 0 for s in sizes)
        for delivery in deliveries:
            ids = [str(e["eventId"]) for e in orjson.loads(delivery.body)]
            assert delivery.identity == ",".join(ids)
            assert delivery.path == WEBHOOK_PATH and delivery.content_type == "application/json"


def test_only_events_close_in_time_share_a_request() -> None:
    spread = emails(5, gap=timedelta(minutes=1))
    assert len(formatter().format(spread)) == 5
    [together] = formatter(batch_window=timedelta(minutes=10)).format(spread)
    assert together.occurred_at == T0 + timedelta(minutes=4)


def test_the_same_events_give_byte_identical_deliveries() -> None:
    first, again = formatter().format(story()), formatter().format(story())
    assert [d.body for d in first] == [d.body for d in again]
    assert [orjson.dumps(d.records) for d in first] == [orjson.dumps(d.records) for d in again]
    reused = formatter()
    assert [d.body for d in reused.format(story())] == [d.body for d in reused.format(story())]


# ---- ids and the mapping ----------------------------------------------------------------


def test_ids_are_numeric_and_distinct(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    ids = delivered[0].mapping()["ids"]
    every = [hs_id for table in ids.values() for hs_id in table]
    assert all(hs_id.isdigit() for hs_id in every)
    engagements = [*ids["emails"], *ids["calls"], *ids["meetings"]]
    assert len(set(engagements)) == len(engagements) == 6
    watched = {
        (e["subscriptionType"], e.get("objectTypeId"), e.get("propertyName")): e["subscriptionId"]
        for e in events_of(delivered[1])
    }
    assert len(set(watched.values())) == len(watched) == 10


def test_the_mapping_reads_every_delivery_back() -> None:
    hubspot, canonical_events = formatter(), story()
    deliveries = hubspot.format(canonical_events)
    mapping = orjson.loads(orjson.dumps(hubspot.mapping()))  # plain JSON
    # Every story event has its own time, so occurredAt finds the event behind a HubSpot one.
    by_time = {int(moment(e["occurred_at"]).timestamp() * 1000): e for e in canonical_events}
    for hs_event in events_of(deliveries):
        source = by_time[hs_event["occurredAt"]]
        assert mapping["owners"][hs_event["sourceId"].removeprefix("userId:")] == source["rep_id"]
        object_type = mapping["object_types"][hs_event.get("objectTypeId", "0-3")]["object_type"]
        canonical = mapping["ids"][object_type][str(hs_event["objectId"])]
        expected = {
            "deals": source["opportunity_id"],
            "meetings": source["payload"].get("meeting_id"),
        }.get(object_type, source["event_id"])
        assert canonical == expected
        if hs_event.get("propertyName") == "dealstage":
            stage = mapping["stages"][hs_event["propertyValue"]]
            assert stage["stage"] == source["payload"].get("to_stage", stage["stage"])
            assert stage["is_won"] == (source["type"] == "opportunity.closed_won")


def test_record_associations_map_to_the_canonical_account_and_contact(
    delivered: tuple[HubSpotFormatter, list[Delivery]],
) -> None:
    ids = delivered[0].mapping()["ids"]
    for record in records_by_type(delivered[1])["calls"]:
        canonical = next(
            e for e in of_type(story(), "call.made") if e["event_id"] == ids["calls"][record["id"]]
        )
        assert [ids["companies"][c] for c in record["associations"]["companies"]] == [
            canonical["account_id"]
        ]
        assert [ids["contacts"][c] for c in record["associations"]["contacts"]] == [
            canonical["contact_id"]
        ]


def test_stages_map_to_default_pipeline_ids_with_order() -> None:
    table = formatter().mapping()
    assert {k: v["stage"] for k, v in table["stages"].items() if v["order"] < 4} == {
        "appointmentscheduled": "Discovery",
        "qualifiedtobuy": "Qualification",
        "presentationscheduled": "Proposal",
        "decisionmakerboughtin": "Negotiation",
        "contractsent": "Negotiation",
    }
    assert (table["won_stage_ids"], table["lost_stage_ids"]) == (["closedwon"], ["closedlost"])
    assert table["call_dispositions"][CONNECTED] == {"label": "Connected", "connected": True}
    assert table["object_types"]["0-48"] == {"kind": "call", "object_type": "calls"}


def test_other_stage_names_get_guid_ids_and_unknown_ones_fail() -> None:
    custom = formatter(stages=("Discovery", "Security review"))
    guid = custom.stages.id_of("Security review")
    assert uuid.UUID(guid) and custom.mapping()["stages"][guid]["order"] == 1
    assert custom.stages.id_of("Closed Won") == "closedwon"
    with pytest.raises(ValueError, match="not in the pipeline"):
        custom.stages.id_of("Proposal")
