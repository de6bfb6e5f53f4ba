"""Pipedrive deals: created, each tracked change, won and lost, deletions, unknown values."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest.adapters.base import Ignored, IgnoreReason, ParkReason, Unmappable
from shared.events import derive_event_id
from tests.unit.services.ingest.adapters.pipedrive_support import (
    OWNER,
    deal,
    envelope,
    events,
    mapped,
    summary,
)

AT = "2026-10-07T09:30:00Z"
AT_ISO = "2026-10-07T09:30:00+00:00"


def _change(previous: dict[str, Any], **now: Any) -> dict[str, Any]:
    """A change delivery: the deal now (`now` on top of the defaults), the old values."""
    return envelope(
        "deal", "change", deal(update_time=AT, **now), {**previous, "update_time": None}
    )


def test_a_deal_created_won_is_created_then_won() -> None:
    created = deal(status="won", won_time="2026-10-05T13:20:00Z", value=2500.5, currency="USD")
    assert [summary(e)[::3] for e in events(envelope("deal", "create", created))] == [
        (
            "opportunity.created",
            {
                "name": "Sample Org deal",
                "stage": "Qualification",
                "amount": "2500.50",
                "currency": "USD",
                "close_date": None,
                "pipeline": "default",
            },
        ),
        ("opportunity.closed_won", {"amount": "2500.50"}),
    ]


def test_a_deal_created_lost_carries_its_reason() -> None:
    created = deal(status="lost", lost_time="2026-10-05T13:21:00Z", lost_reason="Budget")
    _, lost = events(envelope("deal", "create", created))
    assert summary(lost)[1:] == ("rep-pd-1", "2026-10-05T13:21:00+00:00", {"reason": "Budget"})


def test_a_created_deal_without_value_or_currency_is_worth_zero_in_the_default() -> None:
    (event,) = events(envelope("deal", "create", deal(value=None, currency=None)))
    payload = summary(event)[3]
    assert (payload["amount"], payload["currency"]) == ("0.00", "USD")


@pytest.mark.parametrize(
    ("previous", "now", "expected"),
    [
        (
            {"stage_id": 1, "stage_change_time": None},
            {"stage_id": 3, "stage_change_time": "2026-10-07T09:29:59Z"},
            [("opportunity.stage_changed", "2026-10-07T09:29:59+00:00",
              {"from_stage": "Discovery", "to_stage": "Proposal"})],
        ),
        (
            {"stage_id": None},
            {"stage_id": 1},
            [("opportunity.stage_changed", AT_ISO, {"from_stage": None, "to_stage": "Discovery"})],
        ),
        (
            {"stage_id": 4, "pipeline_id": 1},
            {"stage_id": 7, "pipeline_id": 2},
            [("opportunity.stage_changed", AT_ISO,
              {"from_stage": "Negotiation", "to_stage": "Renewal due"})],
        ),
        (
            {"value": 100},
            {"value": 150},
            [("opportunity.amount_changed", AT_ISO,
              {"from_amount": "100.00", "to_amount": "150.00", "currency": "EUR"})],
        ),
        (
            {"currency": "EUR"},
            {"currency": "USD"},
            [("opportunity.amount_changed", AT_ISO,
              {"from_amount": "100.00", "to_amount": "100.00", "currency": "USD"})],
        ),
        (
            {"expected_close_date": "2026-11-30"},
            {"expected_close_date": "2026-12-15"},
            [("opportunity.close_date_changed", AT_ISO,
              {"from_date": "2026-11-30", "to_date": "2026-12-15"})],
        ),
        (
            {"status": "open", "won_time": None},
            {"status": "won", "won_time": "2026-10-07T09:29:00Z"},
            [("opportunity.closed_won", "2026-10-07T09:29:00+00:00", {"amount": "100.00"})],
        ),
        (
            {"status": "open", "value": 100},
            {"status": "won", "value": 120},  # the amount goes with the win
            [("opportunity.closed_won", AT_ISO, {"amount": "120.00"})],
        ),
        (
            {"status": "open", "lost_reason": None},
            {"status": "lost", "lost_reason": "Went with a competitor", "lost_time": AT},
            [("opportunity.closed_lost", AT_ISO, {"reason": "Went with a competitor"})],
        ),
        (
            {"status": "open"},
            {"status": "lost", "lost_reason": None, "close_time": "2026-10-07T09:00:00Z"},
            [("opportunity.closed_lost", "2026-10-07T09:00:00+00:00", {"reason": None})],
        ),
        (
            {"stage_id": 4, "status": "open", "value": 90, "expected_close_date": None},
            {"stage_id": 4, "status": "lost", "value": 80, "expected_close_date": "2026-10-31"},
            [("opportunity.amount_changed", AT_ISO,
              {"from_amount": "90.00", "to_amount": "80.00", "currency": "EUR"}),
             ("opportunity.close_date_changed", AT_ISO,
              {"from_date": None, "to_date": "2026-10-31"}),
             ("opportunity.closed_lost", AT_ISO, {"reason": None})],
        ),
        (
            {"stage_id": 9, "pipeline_id": 3},
            {"stage_id": 10, "pipeline_id": 3},  # the partner pipeline's won stage
            [("opportunity.closed_won", AT_ISO, {"amount": "100.00"})],
        ),
    ],
)  # fmt: skip
def test_each_tracked_change_is_its_event(
    previous: dict[str, Any], now: dict[str, Any], expected: list[tuple[str, str, Any]]
) -> None:
    got = [summary(event) for event in events(_change(previous, **now))]
    assert [(kind, at, payload) for kind, _, at, payload in got] == expected
    assert {rep for _, rep, _, _ in got} == {"rep-pd-1"}


def test_an_owner_change_is_told_by_the_new_owner() -> None:
    (event,) = events(_change({"owner_id": OWNER}, owner_id=12415299))
    assert summary(event) == (
        "opportunity.owner_changed",
        "rep-pd-2",
        AT_ISO,
        {"from_rep_id": "rep-pd-1", "to_rep_id": "rep-pd-2"},
    )
    assert (event.opportunity_id, event.account_id, event.contact_id) == ("8", "1", "8")


def test_a_v1_style_user_id_owner_works_too() -> None:
    body = _change({"user_id": OWNER}, owner_id=None, user_id=12415299)
    (event,) = events(body)
    assert event.rep_id == "rep-pd-2" and summary(event)[3]["from_rep_id"] == "rep-pd-1"


@pytest.mark.parametrize(
    ("previous", "now"),
    [
        ({"title": "Old name"}, {"title": "New name"}),
        ({"status": "won"}, {"status": "open"}),  # reopened
        ({"expected_close_date": "2026-11-30"}, {"expected_close_date": None}),  # cleared
        ({"label_ids": []}, {"label_ids": [3]}),
        ({}, {}),
    ],
)
def test_a_change_of_nothing_tracked_is_ignored(
    previous: dict[str, Any], now: dict[str, Any]
) -> None:
    result = mapped(_change(previous, **now))
    assert isinstance(result, Ignored) and result.reason is IgnoreReason.NOT_TRACKED


def test_an_untracked_change_never_parks_on_an_unknown_owner() -> None:
    result = mapped(_change({"title": "Old"}, title="New", owner_id=424242))
    assert isinstance(result, Ignored)


def test_a_deleted_deal_is_ignored() -> None:
    result = mapped(envelope("deal", "delete", None, deal()))
    assert isinstance(result, Ignored) and result.reason is IgnoreReason.NOT_TRACKED


@pytest.mark.parametrize(
    ("body", "reason", "detail"),
    [
        (_change({"stage_id": 1}, stage_id=66), ParkReason.UNKNOWN_STAGE, "stage 66 of pipeline 1"),
        (_change({"stage_id": 66}, stage_id=2), ParkReason.UNKNOWN_STAGE, "stage 66 of pipeline 1"),
        (_change({"owner_id": 5}, owner_id=OWNER), ParkReason.UNKNOWN_USER, "user 5 "),
        (_change({"value": 1}, owner_id=None), ParkReason.MISSING_FIELD, "owner"),
        (envelope("deal", "create", deal(stage_id=None)), ParkReason.MISSING_FIELD, "stage_id"),
        (envelope("deal", "create", deal(value="lots")), ParkReason.INVALID_VALUE, "data.value"),
        (envelope("deal", "create", deal(value=-5)), ParkReason.INVALID_VALUE, "amount"),
        (envelope("deal", "create", deal(currency="EURO")), ParkReason.INVALID_VALUE, "currency"),
        (envelope("deal", "create", deal(add_time="yesterday")), ParkReason.INVALID_VALUE,
         "data.add_time"),
        (envelope("deal", "create", deal(expected_close_date="soon")), ParkReason.INVALID_VALUE,
         "expected_close_date"),
        (envelope("deal", "create", deal(id=None), entity_id=None), ParkReason.MISSING_FIELD,
         "data.id"),
        (envelope("deal", "create", deal(pipeline_id=None, stage_id=44)),
         ParkReason.UNKNOWN_PIPELINE, "pipeline (none)"),
    ],
)  # fmt: skip
def test_values_the_mapping_or_the_contract_cannot_take_park_the_change(
    body: dict[str, Any], reason: ParkReason, detail: str
) -> None:
    with pytest.raises(Unmappable) as parked:
        mapped(body)
    assert parked.value.reason is reason
    assert detail in parked.value.detail


def test_a_stage_without_its_pipeline_is_found_by_id() -> None:
    (event,) = events(envelope("deal", "create", deal(pipeline_id=None, stage_id=8)))
    assert summary(event)[3]["pipeline"] == "renewals"


def test_ids_come_from_the_change_not_from_meta_id_or_attempt() -> None:
    body = _change({"value": 100}, value=150)
    (first,) = events(body)
    body["meta"].update(id="another-uuid", attempt=3, timestamp="2026-10-07T09:31:00Z")
    (retried,) = events(body)
    assert first == retried
    delivery = first.source.delivery_id
    assert delivery.startswith("deal:8:change:2026-10-07T09:30:00Z:")
    assert first.event_id == derive_event_id("pipedrive", delivery, "opportunity.amount_changed")


def test_two_edits_within_one_second_get_different_ids() -> None:
    (to_150,) = events(_change({"value": 100}, value=150))
    (to_175,) = events(_change({"value": 150}, value=175))
    assert to_150.event_id != to_175.event_id
