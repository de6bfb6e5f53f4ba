"""The canonical SalesEvent contract."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.events import EVENT_ID_NAMESPACE, EventType, SalesEvent, derive_event_id


def raw(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "type": "call.made",
        "occurred_at": "2026-11-02T10:00:00+09:00",
        "source": {"vendor": "canonical", "delivery_id": "d-1"},
        "rep_id": "rep-1",
        "payload": {"connected": True, "duration_seconds": 30},
    }
    return {**base, **overrides}


def errors(data: dict[str, object]) -> list[tuple[tuple[object, ...], str]]:
    with pytest.raises(pydantic.ValidationError) as caught:
        SalesEvent.model_validate(data)
    return [(e["loc"], e["msg"]) for e in caught.value.errors()]


def test_event_id_is_derived_deterministically_from_the_delivery() -> None:
    first, again = SalesEvent.model_validate(raw()), SalesEvent.model_validate(raw())
    assert first.event_id == again.event_id == derive_event_id("canonical", "d-1", "call.made")
    other = SalesEvent.model_validate(raw(source={"vendor": "canonical", "delivery_id": "d-2"}))
    assert other.event_id != first.event_id


def test_an_explicit_event_id_is_kept() -> None:
    assert SalesEvent.model_validate(raw(event_id="given-1")).event_id == "given-1"


def test_event_time_is_normalised_to_utc() -> None:
    event = SalesEvent.model_validate(raw())
    assert event.occurred_at == datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    assert event.occurred_at.utcoffset() is not None


@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({"payload": {"duration_seconds": 3}}, ("payload", "call.made", "connected")),
        ({"occurred_at": "2026-11-02T10:00:00"}, ("occurred_at",)),
        ({"occurred_at": "0001-01-01T00:00+23:59"}, ("occurred_at",)),
        ({"type": "nope"}, ("type",)),
        ({"rep_id": ""}, ("rep_id",)),
        ({"payload": {"connected": True, "extra": 1}}, ("payload", "call.made", "extra")),
        (
            {
                "type": "rep.upserted",
                "payload": {"name": "A", "email": "a@b.c", "role": "AE", "time_zone": "America"},
            },
            ("payload", "rep.upserted", "time_zone"),
        ),
    ],
)
def test_errors_name_the_field(overrides: dict[str, object], where: tuple[str, ...]) -> None:
    assert where in [loc for loc, _ in errors(raw(**overrides))]


def test_opportunity_events_need_an_opportunity_id() -> None:
    messages = [m for _, m in errors(raw(type="opportunity.closed_lost", payload={}))]
    assert any("opportunity_id is required" in m for m in messages)


def test_wire_round_trip_is_exact() -> None:
    event = SalesEvent.model_validate(
        raw(
            type="meeting.scheduled",
            opportunity_id="o",
            payload={"meeting_id": "m", "starts_at": "2026-11-03T09:00:00Z"},
        )
    )
    assert SalesEvent.from_json(event.to_json()) == event
    assert b'"type":"meeting.scheduled"' in event.to_json()


@given(st.sampled_from(list(EventType)), st.text(min_size=1, max_size=40))
def test_ids_are_stable_per_vendor_delivery_and_type(event_type: EventType, delivery: str) -> None:
    assert derive_event_id("hubspot", delivery, event_type.value) == derive_event_id(
        "hubspot", delivery, event_type.value
    )
    assert derive_event_id("hubspot", delivery, event_type.value) != derive_event_id(
        "pipedrive", delivery, event_type.value
    )


@given(
    vendor=st.text(max_size=20), delivery_id=st.text(max_size=60), event_type=st.text(max_size=30)
)
def test_derived_event_ids_are_exactly_uuid5(
    vendor: str, delivery_id: str, event_type: str
) -> None:
    """The fast path computes the same id `uuid.uuid5` would, for any text."""
    name = f"{vendor}\x1f{delivery_id}\x1f{event_type}"
    expected = str(uuid.uuid5(EVENT_ID_NAMESPACE, name))
    assert derive_event_id(vendor, delivery_id, event_type) == expected
