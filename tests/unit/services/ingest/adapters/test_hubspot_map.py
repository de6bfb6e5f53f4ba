"""The pure mapping of hydrated HubSpot items: deals and engagements, table by table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.ingest.adapters.base import (
    Ignored,
    ItemResult,
    Mapped,
    Parked,
    ParkReason,
)
from services.ingest.adapters.hubspot import HubSpotAdapter
from services.ingest.adapters.hubspot_events import record_key
from services.ingest.mapping import MappingConfig
from services.ingest.settings import IngestSettings
from services.ingest.webhooks import map_item
from tests.unit.services.ingest.adapters.hubspot_fixtures import (
    AT,
    CUSTOM_PIPELINE,
    MAPPING,
    deal,
    deal_change,
    engagement,
    hs_event,
    iso,
    ms,
    record,
)

ADAPTER = HubSpotAdapter(IngestSettings())
CONFIG = MappingConfig.model_validate(MAPPING)
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"
MEETING_START = AT - timedelta(hours=2)


def hydrate(event: dict[str, Any], loaded: dict[str, Any] | None) -> dict[str, Any]:
    """The item as `enrich` leaves it: the event plus the record (None: HubSpot said 404)."""
    if loaded is None:
        return event | {"_hydrated": None}
    kept = {k: v for k, v in loaded.items() if k != "object_type"}
    return event | {"_hydrated": kept}


def run(item: dict[str, Any], config: MappingConfig = CONFIG) -> ItemResult:
    result = map_item(ADAPTER, item, config)
    assert not (isinstance(result, Parked) and result.reason is ParkReason.ADAPTER_ERROR), result
    return result


def events(item: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    result = run(item)
    assert isinstance(result, Mapped), result
    return [(e.type.value, e.payload.model_dump(exclude={"type"})) for e in result.events]


def parked(item: dict[str, Any]) -> tuple[ParkReason, str]:
    result = run(item)
    assert isinstance(result, Parked), result
    return result.reason, result.detail


def ignored(item: dict[str, Any]) -> str:
    result = run(item)
    assert isinstance(result, Ignored), result
    return result.detail


# ---- deals ------------------------------------------------------------------------------


def test_a_deal_creation_is_an_opportunity_with_the_hydrated_values() -> None:
    loaded = deal(8, amount="12000", closedate="2026-12-31T00:00:00.000Z", dealname="Big one",
                  deal_currency_code="EUR")  # fmt: skip
    loaded["associations"]["contacts"] = ["51", "52"]
    result = run(hydrate(hs_event("deal.creation", 8, changeFlag="CREATED"), loaded))
    assert isinstance(result, Mapped)
    [created] = result.events
    assert created.model_dump(exclude={"event_id", "source", "schema_version"}) == {
        "type": "opportunity.created",
        "occurred_at": AT,
        "rep_id": "rep-1",
        "account_id": "9001",
        "opportunity_id": "8",
        "contact_id": "51",
        "payload": {"name": "Big one", "stage": "Discovery",
                    "amount": Decimal("12000.00"), "currency": "EUR",
                    "close_date": date(2026, 12, 31), "pipeline": "default"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("stage", "extra", "then"),
    [
        ("closedwon", {}, ("opportunity.closed_won", {"amount": Decimal("1000.00")})),
        ("closedlost", {"closed_lost_reason": "Budget"},
         ("opportunity.closed_lost", {"reason": "Budget"})),
    ],
)  # fmt: skip
def test_a_deal_created_closed_is_created_then_closed(
    stage: str, extra: dict[str, str], then: tuple[str, dict[str, Any]]
) -> None:
    item = hydrate(hs_event("deal.creation", 8), deal(8, dealstage=stage, **extra))
    [(created, payload), closed] = events(item)
    assert created == "opportunity.created"
    assert payload["stage"] == {"closedwon": "Closed Won", "closedlost": "Closed Lost"}[stage]
    assert closed == then


def test_a_deal_without_amount_or_currency_gets_zero_and_the_portal_currency() -> None:
    [(_, payload)] = events(hydrate(hs_event("deal.creation", 8), deal(8, amount=None)))
    assert (payload["amount"], payload["currency"], payload["close_date"]) == (0, "USD", None)
    in_custom = deal(8, pipeline=CUSTOM_PIPELINE, dealstage="1f4f1ec1-8174-49f3-a112-4eaa4748e38e")
    [(_, payload)] = events(hydrate(hs_event("deal.creation", 8), in_custom))
    assert (payload["pipeline"], payload["stage"]) == ("renewals", "Renewal review")


def test_property_changes_at_the_creation_are_part_of_it() -> None:
    loaded = deal(8, created=AT)
    for name, value in (("dealstage", "appointmentscheduled"), ("amount", "1000")):
        assert "initial" in ignored(hydrate(deal_change(8, name, value, at=AT), loaded))
    later = deal_change(8, "amount", "5", at=AT + timedelta(milliseconds=1))
    assert events(hydrate(later, loaded))[0][0] == "opportunity.amount_changed"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("dealstage", "qualifiedtobuy",
         ("opportunity.stage_changed", {"from_stage": None, "to_stage": "Qualification"})),
        ("dealstage", "closedlost", ("opportunity.closed_lost", {"reason": "Timing"})),
        ("dealstage", "closedwon", ("opportunity.closed_won", {"amount": Decimal("1000.00")})),
        ("amount", "12.345",
         ("opportunity.amount_changed",
          {"from_amount": None, "to_amount": Decimal("12.35"), "currency": "USD"})),
        ("amount", "", ("opportunity.amount_changed",
                        {"from_amount": None, "to_amount": Decimal("0.00"), "currency": "USD"})),
        ("closedate", str(ms(datetime(2027, 1, 15, tzinfo=UTC))),
         ("opportunity.close_date_changed", {"from_date": None, "to_date": date(2027, 1, 15)})),
        ("closedate", "2027-02-01T00:00:00.000Z",
         ("opportunity.close_date_changed", {"from_date": None, "to_date": date(2027, 2, 1)})),
        ("hubspot_owner_id", "102",
         ("opportunity.owner_changed", {"from_rep_id": None, "to_rep_id": "rep-2"})),
    ],
)  # fmt: skip
def test_a_tracked_deal_property_change(
    name: str, value: str, expected: tuple[str, dict[str, Any]]
) -> None:
    loaded = deal(8, closed_lost_reason="Timing")
    assert events(hydrate(deal_change(8, name, value), loaded)) == [expected]


def test_an_owner_change_is_the_new_owners_event() -> None:
    result = run(hydrate(deal_change(8, "hubspot_owner_id", "102"), deal(8)))
    assert isinstance(result, Mapped) and result.events[0].rep_id == "rep-2"


@pytest.mark.parametrize(
    "event",
    [
        deal_change(8, "dealname", "Renamed"),
        deal_change(8, "closedate", ""),
        deal_change(8, "hubspot_owner_id", ""),
        hs_event("deal.deletion", 8),
        hs_event("deal.merge", 8),
        hs_event("deal.associationChange", 8),
    ],
)
def test_untracked_deal_events_are_ignored(event: dict[str, Any]) -> None:
    ignored(hydrate(event, deal(8)))


def test_deal_values_that_break_the_contract_are_parked() -> None:
    assert (
        parked(hydrate(deal_change(8, "closedate", "soon"), deal(8)))[0] is ParkReason.INVALID_VALUE
    )
    assert parked(hydrate(deal_change(8, "amount", "1e40"), deal(8)))[0] is ParkReason.INVALID_VALUE
    nameless = hydrate(hs_event("deal.creation", 8), deal(8, dealstage=None))
    assert parked(nameless) == (ParkReason.MISSING_FIELD, "the deal's dealstage is missing")
    ownerless = hydrate(deal_change(8, "amount", "3"), deal(8, hubspot_owner_id=None))
    assert parked(ownerless)[0] is ParkReason.MISSING_FIELD
    assert parked(hydrate(deal_change(8, "amount", "3"), None))[0] is ParkReason.RECORD_NOT_FOUND


# ---- engagements ------------------------------------------------------------------------


def _engagement(object_type: str, n: int, **properties: str | None) -> dict[str, Any]:
    links = {"deals": ["70"], "companies": ["9001"], "contacts": ["51"]}
    return record(object_type, n, links=links, hubspot_owner_id="101", **properties)


def test_an_email_sent_has_its_subject_time_and_links() -> None:
    loaded = _engagement(
        "emails", 3, hs_email_direction="EMAIL", hs_email_status="SENT",
        hs_email_subject="Pricing", hs_timestamp=iso(AT - timedelta(hours=1)),
    )  # fmt: skip
    result = run(hydrate(engagement("0-49", 3), loaded))
    assert isinstance(result, Mapped)
    [sent] = result.events
    assert (sent.type.value, sent.payload.model_dump(), sent.occurred_at) == (
        "email.sent", {"subject": "Pricing"}, AT - timedelta(hours=1)
    )  # fmt: skip
    assert (sent.opportunity_id, sent.account_id, sent.contact_id) == ("70", "9001", "51")


@pytest.mark.parametrize(
    ("properties", "outcome"),
    [
        ({"hs_email_direction": "INCOMING_EMAIL"}, "email.replied"),
        ({"hs_email_direction": "FORWARDED_EMAIL"}, "ignored"),
        ({"hs_email_direction": "EMAIL", "hs_email_status": "BOUNCED"}, "ignored"),
        ({"hs_email_direction": "EMAIL", "hs_email_status": "FAILED"}, "ignored"),
        ({}, ParkReason.MISSING_FIELD),
        ({"hs_email_direction": "SIDEWAYS"}, ParkReason.INVALID_VALUE),
    ],
)
def test_email_directions_and_statuses(properties: dict[str, str], outcome: Any) -> None:
    item = hydrate(engagement("0-49", 3), _engagement("emails", 3, **properties))
    if outcome == "ignored":
        ignored(item)
    elif isinstance(outcome, ParkReason):
        assert parked(item)[0] is outcome
    else:
        assert events(item)[0][0] == outcome


@pytest.mark.parametrize(
    ("disposition", "duration", "expected"),
    [
        (CONNECTED, "301000", {"connected": True, "duration_seconds": 301}),
        ("73a0d17f-1163-4015-bdd5-ec830791da20", "0", {"connected": False, "duration_seconds": 0}),
        (None, "1499", {"connected": False, "duration_seconds": 1}),
        (None, None, {"connected": False, "duration_seconds": 0}),
    ],
)
def test_calls_connect_by_disposition_and_last_seconds(
    disposition: str | None, duration: str | None, expected: dict[str, Any]
) -> None:
    loaded = _engagement("calls", 4, hs_call_disposition=disposition, hs_call_duration=duration)
    assert events(hydrate(engagement("0-48", 4), loaded)) == [("call.made", expected)]


def test_call_values_that_are_not_numbers_are_parked() -> None:
    for duration in ("ten", "nan", "inf", "-5000"):
        loaded = _engagement("calls", 4, hs_call_duration=duration)
        assert parked(hydrate(engagement("0-48", 4), loaded))[0] is ParkReason.INVALID_VALUE


def _meeting(**properties: str | None) -> dict[str, Any]:
    defaults = {
        "hs_meeting_start_time": iso(MEETING_START),
        "hs_meeting_end_time": iso(MEETING_START + timedelta(minutes=45)),
        "hs_meeting_outcome": "SCHEDULED",
        "hs_activity_type": "Follow-up meeting",
    }
    return _engagement("meetings", 6, **(defaults | properties))


def test_a_meeting_booking_is_scheduled_at_the_event_for_its_start() -> None:
    result = run(hydrate(engagement("0-47", 6), _meeting()))
    assert isinstance(result, Mapped)
    [scheduled] = result.events
    assert scheduled.occurred_at == AT
    assert scheduled.payload.model_dump(exclude={"type"}) == {
        "meeting_id": "6", "starts_at": MEETING_START, "kind": "follow_up"
    }  # fmt: skip
    untyped = events(hydrate(engagement("0-47", 6), _meeting(hs_activity_type=None)))
    assert untyped[0][1]["kind"] == "initial"


def test_a_completed_outcome_is_held_at_the_meetings_start() -> None:
    change = engagement("0-47", 6, propertyName="hs_meeting_outcome", propertyValue="COMPLETED")
    result = run(hydrate(change, _meeting(hs_meeting_outcome="COMPLETED")))
    assert isinstance(result, Mapped)
    [held] = result.events
    assert (held.type.value, held.occurred_at) == ("meeting.held", MEETING_START)
    assert held.payload.model_dump(exclude={"type"}) == {
        "meeting_id": "6", "kind": "follow_up", "duration_minutes": 45
    }  # fmt: skip


@pytest.mark.parametrize(
    "event",
    [
        engagement("0-47", 6, propertyName="hs_meeting_outcome", propertyValue="NO_SHOW"),
        engagement("0-47", 6, propertyName="hs_meeting_title", propertyValue="Renamed"),
        engagement("0-48", 6, propertyName="hs_call_duration", propertyValue="1"),
        hs_event("object.deletion", 6, objectTypeId="0-47"),
        hs_event("object.creation", 6, objectTypeId="0-1"),
        hs_event("object.creation", 6, objectTypeId="2-1234"),
        hs_event("object.creation", 6),
        hs_event("contact.propertyChange", 6, propertyName="email", propertyValue="a@b.c"),
        hs_event("conversation.creation", 6),
        hs_event("mystery", 6),
    ],
)
def test_other_objects_and_changes_are_not_tracked(event: dict[str, Any]) -> None:
    ignored(hydrate(event, _meeting()))


def test_an_engagement_type_left_out_of_the_mapping_is_not_tracked() -> None:
    document = {"hubspot": MAPPING["hubspot"] | {"activity_types": {"0-48": "call"}}}
    item = hydrate(engagement("0-49", 3), _engagement("emails", 3, hs_email_direction="EMAIL"))
    assert isinstance(run(item, MappingConfig.model_validate(document)), Ignored)


def test_engagement_parking() -> None:
    stranger = record("calls", 4, hubspot_owner_id="999")
    assert parked(hydrate(engagement("0-48", 4), stranger)) == (
        ParkReason.UNKNOWN_USER, "user 999 is not in the mapping (hubspot.users)"
    )  # fmt: skip
    timeless = _meeting(hs_meeting_start_time=None)
    assert parked(hydrate(engagement("0-47", 6), timeless))[0] is ParkReason.MISSING_FIELD
    backwards = _meeting(hs_meeting_end_time=iso(MEETING_START - timedelta(minutes=5)))
    change = engagement("0-47", 6, propertyName="hs_meeting_outcome", propertyValue="COMPLETED")
    assert parked(hydrate(change, backwards))[0] is ParkReason.INVALID_VALUE
    assert parked(hydrate(engagement("0-49", 3), None)) == (
        ParkReason.RECORD_NOT_FOUND,
        "email 3 was not found in HubSpot's CRM API (404); replaying re-reads it",
    )


def test_fields_of_the_wrong_type_are_never_a_crash() -> None:
    odd = deal_change(8, "amount", "5") | {"propertyName": ["amount"], "objectTypeId": [1]}
    assert record_key(odd) is None
    ignored(hydrate(odd, deal(8)))
    shapeless = {"id": "8", "properties": "x"}  # no properties: no owner
    assert parked(hydrate(deal_change(8, "amount", "5"), shapeless))[0] is ParkReason.MISSING_FIELD
