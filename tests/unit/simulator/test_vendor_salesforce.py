"""Salesforce formatters: Outbound Messages shaped like the real sample, CDC through a relay."""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET  # parses only our own output and the vetted samples
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest

from simulator.vendors.base import Delivery
from simulator.vendors.ids import KEY_PREFIXES, salesforce_id
from simulator.vendors.salesforce import (
    OUTBOUND_NS,
    SOBJECT_NS,
    SalesforceCdcFormatter,
    SalesforceOutboundFormatter,
    java_double,
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

ORG_ID = salesforce_id("00D", "simulated-org")
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
SF_DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
Record = tuple[str, str, dict[str, str]]  # notification id, sObject type, fields (with Id)


def _parse(body: bytes) -> ET.Element:
    return ET.fromstring(body)  # noqa: S314 - our own output or a vetted sample


def _namespaces(body: bytes) -> set[tuple[str, str]]:
    events = ET.iterparse(io.BytesIO(body), events=("start-ns",))  # noqa: S314 - as above
    return {ns for _, ns in events}


def _paths(element: ET.Element, prefix: str = "") -> set[str]:
    path = f"{prefix}/{element.tag}"
    return {path}.union(*(_paths(child, path) for child in element))


def _records(delivery: Delivery) -> list[Record]:
    root = _parse(delivery.body)
    out = []
    for notification in root.iter(f"{{{OUTBOUND_NS}}}Notification"):
        notification_id = notification.findtext(f"{{{OUTBOUND_NS}}}Id") or ""
        sobject = notification.find(f"{{{OUTBOUND_NS}}}sObject")
        assert sobject is not None
        fields = {child.tag.split("}")[1]: child.text or "" for child in sobject}
        out.append((notification_id, sobject.get(XSI_TYPE, "").removeprefix("sf:"), fields))
    return out


def _outbound(**kwargs: Any) -> SalesforceOutboundFormatter:
    return SalesforceOutboundFormatter(build_org(), organization_id=ORG_ID, **kwargs)


def _all_records(events: list[dict[str, Any]]) -> list[Record]:
    return [rec for d in _outbound().format(events) for rec in _records(d)]


def _opportunity_states(events: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [fields for _, kind, fields in _all_records(events) if kind == "Opportunity"]


# ---- outbound messages: shape -----------------------------------------------------------


def test_outbound_message_has_the_structure_and_namespaces_of_the_real_sample() -> None:
    sample = (SAMPLES / "salesforce_outbound_opportunity.xml").read_bytes()
    ours = _outbound().format(story()[:1])[0].body
    sobject = f"{{{OUTBOUND_NS}}}sObject"

    def skeleton(body: bytes) -> set[str]:
        return {p for p in _paths(_parse(body)) if sobject + "/" not in p}

    assert skeleton(ours) == skeleton(sample)
    assert _namespaces(ours) == _namespaces(sample)
    ours_fields = _records(Delivery("/", ours, "", "", T0))[0][2]
    sample_fields = _records(Delivery("/", sample, "", "", T0))[0][2]
    shared = {"Id", "AccountId", "Amount", "CloseDate", "IsClosed", "IsWon", "LastModifiedDate"}
    shared |= {"Name", "OwnerId", "StageName", "Probability", "CreatedDate", "CreatedById"}
    assert shared <= set(ours_fields) & set(sample_fields)
    # Every field is in the sObject namespace; Id first, the rest alphabetical, as Salesforce.
    children = list(_parse(ours).iter(sobject))[0]
    names = [child.tag for child in children]
    assert all(name.startswith(f"{{{SOBJECT_NS}}}") for name in names)
    assert names[0].endswith("}Id") and names[1:] == sorted(names[1:])


def test_outbound_values_are_written_as_salesforce_writes_them() -> None:
    opportunity = _opportunity_states(story()[:1])[0]
    assert opportunity["Amount"] == "12000.0"
    assert opportunity["CloseDate"] == "2026-04-30"
    assert opportunity["IsClosed"] == "false"
    assert opportunity["LastModifiedDate"] == "2026-03-02T14:03:00.000Z"
    for _, _, fields in _all_records(story()):
        for name in ("LastModifiedDate", "CreatedDate", "CompletedDateTime", "StartDateTime"):
            assert name not in fields or SF_DATETIME.fullmatch(fields[name])
        for value in fields.values():
            assert value  # nulls are left out, never sent empty


@pytest.mark.parametrize(
    ("amount", "text"),
    [("45000.00", "45000.0"), ("15000.50", "15000.5"), ("12000000.00", "1.2E7"), ("0", "0.0")],
)
def test_java_double(amount: str, text: str) -> None:
    assert java_double(Decimal(amount)) == text


def test_ack_body_is_the_envelope_salesforce_expects() -> None:
    sample = (SAMPLES / "salesforce_outbound_ack_response.xml").read_bytes()
    ack = _outbound().ack_body()
    assert _paths(_parse(ack)) == _paths(_parse(sample))
    assert _parse(ack).findtext(f".//{{{OUTBOUND_NS}}}Ack") == "true"


def test_delivery_envelope() -> None:
    delivery = _outbound().format(story()[:1])[0]
    assert delivery.path == "/v1/webhooks/salesforce"
    assert delivery.content_type == "text/xml; charset=utf-8"
    assert delivery.occurred_at == T0
    root = _parse(delivery.body)
    assert root.findtext(f".//{{{OUTBOUND_NS}}}OrganizationId") == ORG_ID
    assert delivery.identity == _records(delivery)[0][0]
    assert delivery.identity.startswith(KEY_PREFIXES["Notification"])


# ---- outbound messages: batching --------------------------------------------------------


def test_batches_hold_at_most_100_notifications_of_one_object_type() -> None:
    deliveries = _outbound().format(emails(250))
    sizes = [len(_records(d)) for d in deliveries]
    assert sizes == [100, 100, 50]
    ids = [rec[0] for d in deliveries for rec in _records(d)]
    assert len(set(ids)) == 250
    assert deliveries[0].identity == ",".join(ids[:100])


def test_batches_close_after_the_window_and_never_mix_object_types() -> None:
    spread = emails(3, gap=timedelta(minutes=5))
    assert [len(_records(d)) for d in _outbound().format(spread)] == [1, 1, 1]
    mixed = emails(3) + [story()[0] | {"occurred_at": T0.isoformat()}]
    for delivery in _outbound().format(mixed):
        assert len({kind for _, kind, _ in _records(delivery)}) == 1


def test_directory_events_are_refused() -> None:
    formatter = _outbound()
    assert not formatter.accepts(directory_event())
    assert all(formatter.accepts(e) for e in story())
    with pytest.raises(ValueError, match="not a CRM event"):
        formatter.format([directory_event()])


# ---- outbound messages: current-state semantics -----------------------------------------


def test_opportunity_notifications_carry_the_whole_record_after_each_change() -> None:
    states = _opportunity_states(story())
    created, staged, amount = states[0], states[1], states[2]
    assert staged["StageName"] == "Qualification"
    assert staged["Probability"] == "40.0"
    for unchanged in ("Amount", "CloseDate", "Name", "OwnerId", "AccountId", "CreatedDate"):
        assert staged[unchanged] == created[unchanged]
    assert staged["LastModifiedDate"] == "2026-03-03T14:03:00.000Z"
    assert amount["Amount"] == "15000.5" and amount["StageName"] == "Qualification"


def test_closing_sets_the_closed_stage_and_flags() -> None:
    states = _opportunity_states(story())
    won = next(s for s in states if s["StageName"] == "Closed Won")
    assert (won["IsClosed"], won["IsWon"], won["Amount"]) == ("true", "true", "15000.5")
    assert won["OwnerId"] == salesforce_id("005", "rep-0002")
    lost = next(s for s in states if s["StageName"] == "Closed Lost")
    assert (lost["IsClosed"], lost["IsWon"], lost["Loss_Reason__c"]) == ("true", "false", "Budget")
    assert lost["Amount"] == "1.2E7" and "CloseDate" not in lost


def test_tasks_for_emails_replies_and_calls() -> None:
    tasks = [fields for _, kind, fields in _all_records(story()) if kind == "Task"]
    sent, reply, connected, missed = tasks
    assert (sent["TaskSubtype"], sent["Direction__c"]) == ("Email", "Outbound")
    assert sent["Subject"] == "Email: Pricing follow-up"
    assert sent["WhatId"] == salesforce_id("001", "acc-00012")  # no opportunity: the account
    assert (reply["TaskSubtype"], reply["Direction__c"]) == ("Email", "Inbound")
    assert reply["Subject"] == "Email: Re: Pricing follow-up"
    assert reply["WhatId"] == salesforce_id("006", "opp-000123")
    assert connected["CallDisposition"] == "Connected"
    assert connected["CallDurationInSeconds"] == "301"
    assert (connected["CallType"], connected["Status"]) == ("Outbound", "Completed")
    assert missed["CallDisposition"] == "No Answer"
    assert missed["WhoId"] == salesforce_id("003", "con-000046")
    assert sent["ActivityDate"] == "2026-03-02"


def test_a_meeting_is_one_event_record_scheduled_then_held() -> None:
    meetings = [fields for _, kind, fields in _all_records(story()) if kind == "Event"]
    booked, held, unbooked = meetings
    assert booked["Id"] == held["Id"] == salesforce_id("00U", "mtg-000001")
    assert (booked["Meeting_Status__c"], held["Meeting_Status__c"]) == ("Scheduled", "Held")
    assert booked["StartDateTime"] == held["StartDateTime"] == "2026-03-04T16:00:00.000Z"
    assert (booked["DurationInMinutes"], held["DurationInMinutes"]) == ("30", "45")
    assert held["EndDateTime"] == "2026-03-04T16:45:00.000Z"
    assert held["Subject"] == "Intro meeting: Initech"
    assert unbooked["Meeting_Kind__c"] == "Follow-up"
    assert unbooked["StartDateTime"] == "2026-03-05T10:30:00.000Z"


# ---- determinism, auth, mapping ---------------------------------------------------------


def test_output_is_deterministic() -> None:
    first = [d.body for d in _outbound().format(story())]
    assert first == [d.body for d in _outbound().format(story())]
    cdc = [d.body for d in _cdc().format(story())]
    assert cdc == [d.body for d in _cdc().format(story())]


def test_sign_sends_basic_auth_only_when_configured() -> None:
    now = datetime(2026, 3, 2, tzinfo=UTC)
    delivery = _outbound().format(story()[:1])[0]
    plain = _outbound().sign(delivery, url="https://x/v1/webhooks/salesforce", now=now)
    assert plain == {"SOAPAction": '""'}
    authed = _outbound(basic_auth=("sf-user", "s3cret"))
    headers = authed.sign(delivery, url="https://x/v1/webhooks/salesforce", now=now)
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"sf-user:s3cret").decode()


def test_mapping_round_trips_every_emitted_id() -> None:
    formatter = _outbound()
    records = [rec for d in formatter.format(story()) for rec in _records(d)]
    mapping = orjson.loads(orjson.dumps(formatter.mapping()))  # plain JSON
    lookups = mapping["records"]
    for _, _, fields in records:
        for name in ("AccountId", "WhoId", "WhatId", "OwnerId", "CreatedById"):
            if name in fields:
                sobject = mapping["key_prefixes"][fields[name][:3]]
                assert fields[name] in lookups[sobject], (name, fields[name])
    assert lookups["Opportunity"][salesforce_id("006", "opp-000123")] == "opp-000123"
    assert lookups["Event"][salesforce_id("00U", "mtg-000001")] == "mtg-000001"
    assert lookups["Contact"][salesforce_id("003", "con-000047")] == "con-000047"
    assert mapping["users"][salesforce_id("005", "mgr-0001")] == "mgr-0001"
    assert mapping["stages"]["Negotiation"] == {
        "canonical_stage": "Negotiation",
        "order": 3,
        "is_closed": False,
        "is_won": False,
    }
    assert mapping["stages"]["Closed Won"]["is_won"] is True
    assert mapping["tasks"]["directions"]["Inbound"] == "email.replied"
    assert mapping["events"]["kinds"]["Follow-up"] == "follow_up"


# ---- change data capture ----------------------------------------------------------------


def _cdc() -> SalesforceCdcFormatter:
    return SalesforceCdcFormatter(build_org(), organization_id=ORG_ID)


def _changes(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [orjson.loads(d.body) for d in _cdc().format(events)]


def test_cdc_delivery_is_a_cloudevent_around_a_cometd_change_event() -> None:
    deliveries = _cdc().format(story())
    assert len(deliveries) == len(story())
    first = orjson.loads(deliveries[0].body)
    assert deliveries[0].path == "/v1/webhooks/salesforce-cdc"
    assert deliveries[0].content_type == "application/cloudevents+json"
    assert deliveries[0].identity == first["id"]
    assert first["specversion"] == "1.0"
    assert {"id", "source", "type", "time", "datacontenttype", "data"} <= set(first)
    assert list(first["data"]) == ["schema", "payload", "event"]
    header = first["data"]["payload"]["ChangeEventHeader"]
    assert header["entityName"] == "Opportunity"
    assert header["recordIds"] == [salesforce_id("006", "opp-000123")]
    assert header["changeType"] == "CREATE" and header["changedFields"] == []
    assert header["commitTimestamp"] == int(T0.timestamp()) * 1000
    assert first["data"]["payload"]["StageName"] == "Discovery"
    replays = [orjson.loads(d.body)["data"]["event"]["replayId"] for d in deliveries]
    assert replays == sorted(set(replays))


def test_cdc_update_carries_only_the_changed_fields() -> None:
    changes = _changes(story())
    staged = changes[6]["data"]["payload"]
    header = staged.pop("ChangeEventHeader")
    assert header["changeType"] == "UPDATE"
    assert header["changedFields"] == ["LastModifiedDate", "Probability", "StageName"]
    assert staged == {
        "LastModifiedDate": "2026-03-03T14:03:00.000Z",
        "Probability": 40.0,
        "StageName": "Qualification",
    }
    held = changes[9]["data"]["payload"]
    assert held["ChangeEventHeader"]["entityName"] == "Event"
    assert held["ChangeEventHeader"]["changeType"] == "UPDATE"
    assert held["Meeting_Status__c"] == "Held" and "StartDateTime" not in held


def test_cdc_lists_nulled_fields_and_the_mapping_learns_new_stages() -> None:
    formatter = _cdc()
    odd = event(
        "opportunity.stage_changed",
        T0 + timedelta(hours=1),
        {"from_stage": "Discovery", "to_stage": "Legal Review"},
        opportunity="opp-000123",
    )
    change = orjson.loads(formatter.format([story()[0], odd])[1].body)["data"]["payload"]
    assert change["ChangeEventHeader"]["nulledFields"] == ["Probability"]
    assert "Probability" not in change
    assert formatter.mapping()["stages"]["Legal Review"]["order"] == 4


def test_tasks_and_meetings_reach_cdc_as_their_own_entities() -> None:
    changes = _changes(story())
    entities = [c["data"]["payload"]["ChangeEventHeader"]["entityName"] for c in changes]
    assert entities.count("Task") == len(of_type(story(), "call.made")) + 2
    assert entities.count("Event") == 3
