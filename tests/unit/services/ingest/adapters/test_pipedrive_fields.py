"""Pipedrive value readers: timestamps, due slots, durations, amounts, ids, the envelope."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from services.ingest.adapters.base import ParkReason, Unmappable
from services.ingest.adapters.pipedrive_fields import (
    Envelope,
    amount,
    day,
    due_slot,
    envelope_problem,
    flag,
    instant,
    minutes,
    ref,
    timed,
)
from tests.unit.services.ingest.adapters.pipedrive_support import deal, envelope


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2022-11-24T13:18:55Z", datetime(2022, 11, 24, 13, 18, 55, tzinfo=UTC)),
        ("2022-11-24T13:18:56.089Z", datetime(2022, 11, 24, 13, 18, 56, 89000, tzinfo=UTC)),
        ("2022-11-24 13:18:55", datetime(2022, 11, 24, 13, 18, 55, tzinfo=UTC)),
        ("2022-11-24T15:18:55+02:00", datetime(2022, 11, 24, 13, 18, 55, tzinfo=UTC)),
        (1_669_295_935, datetime(2022, 11, 24, 13, 18, 55, tzinfo=UTC)),
    ],
)
def test_timestamps_in_every_shape_pipedrive_uses(value: Any, expected: datetime) -> None:
    assert instant(value, "data.add_time") == expected


@pytest.mark.parametrize(
    "value", ["yesterday", "", None, True, [1], 1e20, "9999-12-31T23:59:59-05:00"]
)
def test_unreadable_timestamps_park_naming_the_field(value: Any) -> None:
    with pytest.raises(Unmappable) as parked:
        instant(value, "data.add_time")
    assert parked.value.reason is ParkReason.INVALID_VALUE
    assert parked.value.detail.startswith("data.add_time")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, ("", None)),
        ("15:00", ("15:00", None)),
        ({"timezone_id": None, "value": ""}, ("", None)),
        ({"timezone_id": "Europe/Berlin", "value": "15:00"}, ("15:00", "Europe/Berlin")),
        ({"value": None}, ("", None)),
    ],
)
def test_due_time_and_duration_come_in_two_shapes(value: Any, expected: tuple[str, Any]) -> None:
    assert timed(value, "data.due_time") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("00:30", 30),
        ({"timezone_id": None, "value": "01:15"}, 75),
        ("00:00:30", 1),
        (None, None),
        ("", None),
        ({"timezone_id": None, "value": ""}, None),
    ],
)
def test_durations_are_whole_minutes(value: Any, expected: int | None) -> None:
    assert minutes(value, "data.duration") == expected


@pytest.mark.parametrize("value", ["1:5:3:2", "ab:cd", "10:60", 30, "-1:00"])
def test_unreadable_durations_park(value: Any) -> None:
    with pytest.raises(Unmappable, match="data.duration"):
        minutes(value, "data.duration")


def test_a_due_slot_across_a_daylight_saving_change_uses_the_local_offset() -> None:
    winter = {
        "due_date": "2026-03-28",
        "due_time": {"timezone_id": "Europe/Berlin", "value": "10:00"},
    }
    summer = {
        "due_date": "2026-03-30",
        "due_time": {"timezone_id": "Europe/Berlin", "value": "10:00"},
    }
    assert due_slot(winter, all_day=False) == datetime(2026, 3, 28, 9, tzinfo=UTC)
    assert due_slot(summer, all_day=False) == datetime(2026, 3, 30, 8, tzinfo=UTC)


def test_without_a_due_time_the_slot_is_the_day_or_unknown() -> None:
    data = {"due_date": "2026-03-28", "due_time": None}
    assert due_slot(data, all_day=True) == datetime(2026, 3, 28, tzinfo=UTC)
    assert due_slot(data, all_day=False) is None
    assert due_slot({}, all_day=True) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100, Decimal("100.00")),
        (2500.5, Decimal("2500.50")),
        ("19.999", Decimal("20.00")),
        (None, Decimal("0.00")),
    ],
)
def test_amounts_are_to_the_cent(value: Any, expected: Decimal) -> None:
    assert amount(value, "data.value") == expected


@pytest.mark.parametrize("value", ["NaN", "Infinity", "1e40", True, {"value": 1}, "ten"])
def test_unreadable_amounts_park(value: Any) -> None:
    with pytest.raises(Unmappable, match="data.value"):
        amount(value, "data.value")


@pytest.mark.parametrize(
    ("value", "expected"),
    [(8, "8"), ("8", "8"), ({"value": 8, "name": "Initech"}, "8"), (None, None), (True, None),
     ("", None), (8.5, None), ([8], None)],
)  # fmt: skip
def test_record_ids_are_unprefixed_strings(value: Any, expected: str | None) -> None:
    assert ref(value) == expected


def test_flags_and_dates() -> None:
    assert [flag(v) for v in (True, 1, "1", "true", False, 0, None, "yes")] == [True] * 4 + [
        False
    ] * 4
    assert day("2026-10-31", "x") == date(2026, 10, 31)
    assert day(None, "x") is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"meta": {"action": "create", "entity": "deal"}, "data": {}}, None),
        ({"meta": {"action": "delete", "entity": "deal"}, "data": None, "previous": {}}, None),
        ({"meta": {"action": "create", "entity": "deal"}, "data": {}, "previous": None}, None),
        ({"meta": {"action": "create", "entity": 3}, "data": {}}, "meta.entity"),
        ({"meta": {"action": "", "entity": "deal"}, "data": {}}, "meta.action"),
        ({"meta": {"action": "change", "entity": "deal"}, "data": None}, "data"),
        ({"meta": {"action": "create", "entity": "deal", "version": 1}, "data": {}},
         "meta.version"),
        ("text", "body"),
    ],
)  # fmt: skip
def test_the_envelope_check_names_what_is_missing(document: Any, problem: str | None) -> None:
    found = envelope_problem(document)
    assert found is None if problem is None else found is not None and found.startswith(problem)


def test_a_delete_reads_its_last_state_from_previous() -> None:
    gone = Envelope.of(envelope("deal", "delete", None, deal(id=12)))
    assert gone.record_id() == "12" and gone.previous == {}
    assert gone.delivery_id() == "deal:12:delete"


def test_a_change_knows_what_changed_and_its_value_before() -> None:
    change = Envelope.of(envelope("deal", "change", deal(value=5), {"value": 4, "title": "x"}))
    assert change.changed("value") and not change.changed("stage_id")
    assert (change.before("value"), change.before("stage_id")) == (4, 2)
    unchanged = Envelope.of(envelope("deal", "change", deal(value=5), {"value": 5}))
    assert not unchanged.changed("value")


def test_the_delivery_id_ignores_key_order_and_retry_fields() -> None:
    body = envelope("deal", "change", deal(value=5, update_time="2026-10-07T09:30:00Z"),
                    {"value": 4, "update_time": None})  # fmt: skip
    reordered = {key: body[key] for key in reversed(list(body))}
    reordered["data"] = dict(reversed(list(body["data"].items())))
    reordered["meta"] = {**body["meta"], "attempt": 4, "id": "other"}
    assert Envelope.of(body).delivery_id() == Envelope.of(reordered).delivery_id()
