"""Pipedrive webhooks v2: the samples' envelope, only-changed `previous`, both time shapes."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest

from simulator.vendors.pipedrive import (
    DEFAULT_STAGE_IDS,
    INBOUND_SUBJECT_PREFIX,
    PipedriveFormatter,
)
from simulator.vendors.pipedrive_records import MANAGER_USER_ID_BASE, USER_ID_BASE
from tests.unit.simulator.vendor_fixtures import SAMPLES, T0, build_org, directory_event, story

DEAL_SAMPLE = orjson.loads((SAMPLES / "pipedrive_v2_deal_create.json").read_bytes())
ACTIVITY_SAMPLE = orjson.loads((SAMPLES / "pipedrive_v2_activity_change.json").read_bytes())


def _formatter(**kwargs: Any) -> PipedriveFormatter:
    return PipedriveFormatter(
        build_org(), company_id=8087566, http_user="pd-hook", http_password="pw", **kwargs
    )


def _bodies(events: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [orjson.loads(d.body) for d in _formatter().format(events or story())]


def _of(bodies: list[dict[str, Any]], entity: str) -> list[dict[str, Any]]:
    return [b for b in bodies if b["meta"]["entity"] == entity]


def test_envelope_has_the_keys_of_the_samples() -> None:
    bodies = _bodies()
    assert len(bodies) == len(story())  # one request per change
    for body in bodies:
        assert list(body) == list(DEAL_SAMPLE)
        assert list(body["meta"]) == [*DEAL_SAMPLE["meta"]][:-2] + [
            "permitted_user_ids",
            "attempt",
            "host",
        ]
        assert body["meta"]["version"] == "2.0" and body["meta"]["type"] == "general"
        assert body["meta"]["attempt"] == 1
        assert body["meta"]["entity_id"] == str(body["data"]["id"])
        assert all(isinstance(u, str) for u in body["meta"]["permitted_user_ids"])
    for deal in _of(bodies, "deal"):
        assert list(deal["data"]) == list(DEAL_SAMPLE["data"])
    for activity in _of(bodies, "activity"):
        assert list(activity["data"]) == list(ACTIVITY_SAMPLE["data"])


def test_delivery_fields() -> None:
    delivery = _formatter().format(story()[:1])[0]
    body = orjson.loads(delivery.body)
    assert delivery.path == "/v1/webhooks/pipedrive"
    assert delivery.content_type == "application/json"
    assert delivery.identity == body["meta"]["id"]
    assert delivery.occurred_at == T0
    assert body["meta"]["timestamp"].startswith("2026-03-02T14:03:00.")


def test_deal_create_then_changes_with_only_changed_fields_in_previous() -> None:
    deals = _of(_bodies(), "deal")
    created = deals[0]
    assert created["meta"]["action"] == "create" and created["previous"] is None
    assert created["data"]["stage_id"] == 1 and created["data"]["status"] == "open"
    assert (created["data"]["value"], created["data"]["currency"]) == (12000, "USD")
    assert created["data"]["expected_close_date"] == "2026-04-30"
    assert (created["data"]["org_id"], created["data"]["person_id"]) == (12, 45)
    staged = deals[1]
    assert staged["meta"]["action"] == "change"
    assert staged["previous"] == {"stage_change_time": None, "stage_id": 1, "update_time": None}
    assert staged["data"]["stage_id"] == 2
    for change in deals[1:]:
        if change["previous"] is None:
            continue
        for key, old in change["previous"].items():
            assert change["data"][key] != old, key
    assert deals[2]["previous"] == {"update_time": "2026-03-03T14:03:00Z", "value": 12000}
    assert deals[2]["data"]["value"] == 15000.5


def test_won_and_lost_are_statuses_not_stages() -> None:
    deals = _of(_bodies(), "deal")
    won = next(d for d in deals if d["data"]["status"] == "won")
    assert won["data"]["stage_id"] == 2  # stays on the last open stage
    assert won["data"]["won_time"] == won["data"]["close_time"] == "2026-03-07T14:03:00Z"
    assert won["previous"]["status"] == "open"
    assert won["data"]["owner_id"] == USER_ID_BASE + 2  # after the owner change
    lost = next(d for d in deals if d["data"]["status"] == "lost")
    assert (lost["data"]["lost_reason"], lost["previous"]["lost_reason"]) == ("Budget", None)
    assert lost["data"]["value"] == 12000000


def test_logged_activities() -> None:
    activities = _of(_bodies(), "activity")
    sent, reply, connected, missed = activities[:4]
    assert (sent["data"]["type"], sent["data"]["done"]) == ("email", True)
    assert sent["data"]["subject"] == "Pricing follow-up"
    assert reply["data"]["subject"] == INBOUND_SUBJECT_PREFIX + "Re: Pricing follow-up"
    assert reply["data"]["deal_id"] == 123
    assert connected["data"]["type"] == "call"
    assert connected["data"]["subject"] == "Outbound call (connected)"
    assert connected["data"]["duration"] == "00:06"  # 301 s, in whole minutes rounded up
    assert missed["data"]["subject"] == "Outbound call (no answer)"
    assert missed["data"]["duration"] is None
    assert missed["data"]["owner_id"] == USER_ID_BASE + 2
    assert all(a["meta"]["action"] == "create" for a in activities[:4])


def test_due_time_and_duration_come_in_both_shapes() -> None:
    activities = _of(_bodies(), "activity")
    shapes = {type(a["data"]["due_time"]).__name__ for a in activities}
    assert shapes == {"str", "dict"}
    assert any(a["data"]["duration"] is None for a in activities)
    booked = next(a for a in activities if a["data"]["type"] == "meeting")
    assert booked["meta"]["action"] == "create" and booked["data"]["done"] is False
    assert (booked["data"]["due_date"], booked["data"]["due_time"]) == ("2026-03-04", "16:00")
    assert booked["data"]["duration"] == "00:30"
    held = next(a for a in activities if a["meta"]["action"] == "change")
    assert held["data"]["id"] == booked["data"]["id"]
    assert held["data"]["done"] is True
    assert held["data"]["due_time"] == {"timezone_id": None, "value": "16:00"}
    assert held["data"]["duration"] == {"timezone_id": None, "value": "00:45"}
    assert held["previous"] == {
        "done": False,
        "duration": {"timezone_id": None, "value": "00:30"},
        "update_time": "2026-03-02T16:03:00Z",
        "update_user_id": None,
    }


def test_redelivery_bumps_attempt_and_keeps_the_event_id() -> None:
    formatter = _formatter()
    first = formatter.format(story()[:1])[0]
    again = formatter.redeliver(first, 2)
    one, two = orjson.loads(first.body), orjson.loads(again.body)
    assert two["meta"]["attempt"] == 2 and again.identity == first.identity
    two["meta"]["attempt"] = 1
    assert two == one
    with pytest.raises(ValueError):
        formatter.redeliver(first, 5)


def test_output_is_deterministic() -> None:
    assert [d.body for d in _formatter().format(story())] == [
        d.body for d in _formatter().format(story())
    ]


def test_sign_is_basic_auth() -> None:
    delivery = _formatter().format(story()[:1])[0]
    now = datetime(2026, 3, 2, tzinfo=UTC)
    headers = _formatter().sign(delivery, url="https://x/v1/webhooks/pipedrive", now=now)
    assert headers == {"Authorization": "Basic " + base64.b64encode(b"pd-hook:pw").decode()}


def test_directory_events_are_refused() -> None:
    formatter = _formatter()
    assert not formatter.accepts(directory_event())
    assert all(formatter.accepts(e) for e in story())
    with pytest.raises(ValueError):
        formatter.format([directory_event()])


def test_stage_ids() -> None:
    assert DEFAULT_STAGE_IDS == {
        1: "Discovery",
        2: "Qualification",
        3: "Proposal",
        4: "Negotiation",
    }
    formatter = _formatter(pipelines={"default": ["A", "B"], "renewals": ["R1", "R2"]})
    assert formatter.stage_names() == {1: "A", 2: "B", 3: "R1", 4: "R2"}
    stages = formatter.mapping()["stages"]
    assert stages["3"] == {"name": "R1", "pipeline_id": 2, "canonical_stage": "R1", "order": 0}


def test_mapping_round_trips_every_emitted_id() -> None:
    formatter = _formatter()
    bodies = [orjson.loads(d.body) for d in formatter.format(story())]
    mapping = orjson.loads(orjson.dumps(formatter.mapping()))  # plain JSON
    records = mapping["records"]
    for body in bodies:
        data = body["data"]
        for field, entity in (("org_id", "organization"), ("person_id", "person")):
            if data[field] is not None:
                assert str(data[field]) in records[entity]
        for field in ("owner_id", "creator_user_id", "update_user_id"):
            if data.get(field) is not None:
                assert str(data[field]) in mapping["users"]
        assert body["meta"]["user_id"] in mapping["users"]
        if body["meta"]["entity"] == "deal":
            assert records["deal"][str(data["id"])].startswith("opp-")
            assert mapping["stages"][str(data["stage_id"])]["canonical_stage"]
        elif data["type"] == "meeting":
            assert records["activity"][str(data["id"])].startswith("mtg-")
    assert records["deal"]["123"] == "opp-000123"
    assert records["organization"]["12"] == "acc-00012"
    assert records["person"]["47"] == "con-000047"
    assert mapping["users"][str(MANAGER_USER_ID_BASE)] == "mgr-0001"
    assert mapping["statuses"]["won"] == "opportunity.closed_won"
    assert mapping["meeting_subject_prefixes"]["Follow-up meeting"] == "follow_up"


def test_a_rep_outside_the_org_gets_a_hashed_user_id() -> None:
    stray = story()[1] | {"rep_id": "rep-9999", "occurred_at": (T0 + timedelta(1)).isoformat()}
    formatter = _formatter()
    body = orjson.loads(formatter.format([stray])[0].body)
    assert body["data"]["owner_id"] >= 10**9
    assert formatter.mapping()["users"][str(body["data"]["owner_id"])] == "rep-9999"


def test_managers_and_reps_with_the_same_index_get_distinct_user_ids() -> None:
    org = build_org()
    manager = replace(org.teams[0].manager, index=1)  # as the org planner numbers them
    org = replace(org, teams=(replace(org.teams[0], manager=manager),))
    formatter = PipedriveFormatter(org, company_id=1, http_user="u", http_password="p")
    users = formatter.mapping()["users"]
    assert users == {
        str(MANAGER_USER_ID_BASE + 1): "mgr-0001",
        str(USER_ID_BASE + 1): "rep-0001",
        str(USER_ID_BASE + 2): "rep-0002",
    }
