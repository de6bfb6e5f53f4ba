"""Pipedrive activities: emails, calls and meetings, in both due_time/duration shapes."""

from __future__ import annotations

from typing import Any

import pytest

from services.ingest.adapters.base import Ignored, IgnoreReason, ParkReason, Unmappable
from services.ingest.mapping import MappingConfig
from tests.unit.services.ingest.adapters.pipedrive_support import (
    MAPPING,
    activity,
    envelope,
    events,
    mapped,
    summary,
)

LOGGED = "2026-10-05T15:25:44Z"  # add_time; due 15:25 the same day, as Pipedrive logs it


def _logged(**fields: Any) -> dict[str, Any]:
    """An email or call created done, in the create shape (plain strings)."""
    data = activity(
        done=True, due_date="2026-10-05", due_time="15:25", duration=None, add_time=LOGGED
    )
    return envelope("activity", "create", {**data, **fields})


def _timed(value: str, zone: str | None = None) -> dict[str, Any]:
    return {"timezone_id": zone, "value": value}


def _change(previous: dict[str, Any], **now: Any) -> dict[str, Any]:
    """A change delivery: due_time and duration in the object shape a change carries."""
    data = activity(
        due_time=_timed("15:00"), duration=_timed("00:30"), update_time="2026-10-06T15:40:00Z"
    )
    return envelope("activity", "change", {**data, **now}, {**previous, "update_time": LOGGED})


# ---- emails and calls ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"type": "email", "subject": "Pricing"},
         ("email.sent", "2026-10-05T15:25:44+00:00", {"subject": "Pricing"})),
        ({"type": "email", "subject": "[Inbound] Re: Pricing"},
         ("email.replied", "2026-10-05T15:25:44+00:00", {"in_reply_to_event_id": None})),
        ({"type": "email", "subject": ""},
         ("email.sent", "2026-10-05T15:25:44+00:00", {"subject": None})),
        ({"type": "email", "subject": "Logged late", "due_time": "09:00"},
         ("email.sent", "2026-10-05T09:00:00+00:00", {"subject": "Logged late"})),
        ({"type": "email", "subject": "No time", "due_time": None},
         ("email.sent", "2026-10-05T15:25:44+00:00", {"subject": "No time"})),
        ({"type": "call", "subject": "Outbound call (connected)", "duration": "00:02"},
         ("call.made", "2026-10-05T15:25:44+00:00", {"connected": True, "duration_seconds": 120})),
        ({"type": "call", "subject": "outbound call (no answer) ", "duration": None},
         ("call.made", "2026-10-05T15:25:44+00:00", {"connected": False, "duration_seconds": 0})),
        ({"type": "call", "subject": "Discovery call", "duration": "01:05"},
         ("call.made", "2026-10-05T15:25:44+00:00", {"connected": True, "duration_seconds": 3900})),
        ({"type": "call", "subject": "Discovery call", "duration": ""},
         ("call.made", "2026-10-05T15:25:44+00:00", {"connected": False, "duration_seconds": 0})),
        ({"type": "call", "subject": "Tried", "duration": _timed("00:04"), "done": 1},
         ("call.made", "2026-10-05T15:25:44+00:00", {"connected": True, "duration_seconds": 240})),
    ],
)  # fmt: skip
def test_a_logged_email_or_call_is_its_event(
    fields: dict[str, Any], expected: tuple[str, str, dict[str, Any]]
) -> None:
    (event,) = events(_logged(**fields))
    kind, rep, at, payload = summary(event)
    assert (kind, at, payload) == expected and rep == "rep-pd-1"
    assert (event.opportunity_id, event.account_id, event.contact_id) == ("10", "3", "10")
    assert event.source.delivery_id == "activity:2:create"


def test_a_planned_call_counts_once_it_is_marked_done() -> None:
    planned = _logged(type="call", done=False, subject="Call back")
    assert isinstance(mapped(planned), Ignored)
    done = _change(
        {"done": False},
        type="call",
        done=True,
        subject="Call back",
        due_date="2026-10-06",
        due_time=_timed("15:40"),
        duration=_timed("00:10"),
    )
    (event,) = events(done)
    assert summary(event)[::2] == ("call.made", "2026-10-06T15:40:00+00:00")
    edited = _change({"subject": "Call back"}, type="call", done=True, subject="Called back")
    assert isinstance(mapped(edited), Ignored)


# ---- meetings -----------------------------------------------------------------------------


def test_a_booked_meeting_is_scheduled_at_its_due_slot() -> None:
    (event,) = events(envelope("activity", "create", activity()))
    assert summary(event) == (
        "meeting.scheduled",
        "rep-pd-1",
        "2026-10-05T15:25:44+00:00",  # when it was booked
        {"meeting_id": "2", "starts_at": "2026-10-06T15:00:00Z", "kind": "initial"},
    )


@pytest.mark.parametrize(
    ("subject", "kind"),
    [
        ("Follow-up meeting: Initech", "follow_up"),
        ("follow-up MEETING", "follow_up"),
        ("Intro meeting: Initech", "initial"),
        ("Lunch and learn", "initial"),
    ],
)
def test_the_meeting_kind_comes_from_the_subject(subject: str, kind: str) -> None:
    (event,) = events(envelope("activity", "create", activity(subject=subject)))
    assert summary(event)[3]["kind"] == kind


@pytest.mark.parametrize(
    ("due_time", "starts_at"),
    [
        (_timed("15:00", "Europe/Berlin"), "2026-10-06T13:00:00Z"),
        (_timed("09:30", "America/New_York"), "2026-10-06T13:30:00Z"),
        (_timed("15:00"), "2026-10-06T15:00:00Z"),
        (_timed(""), "2026-10-06T00:00:00Z"),  # all day
        (None, "2026-10-06T00:00:00Z"),
        ("07:15", "2026-10-06T07:15:00Z"),
    ],
)
def test_due_time_is_read_in_either_shape_and_its_time_zone(due_time: Any, starts_at: str) -> None:
    (event,) = events(envelope("activity", "create", activity(due_time=due_time)))
    assert summary(event)[3]["starts_at"] == starts_at


def test_a_moved_meeting_is_scheduled_again_when_it_moved() -> None:
    body = _change({"due_date": "2026-10-06"}, due_date="2026-10-08")
    (event,) = events(body)
    assert summary(event)[2:] == (
        "2026-10-06T15:40:00+00:00",
        {"meeting_id": "2", "starts_at": "2026-10-08T15:00:00Z", "kind": "initial"},
    )


def test_a_meeting_marked_done_is_held_at_its_slot_for_its_duration() -> None:
    body = _change(
        {"done": False, "duration": _timed("00:30")}, done=True, duration=_timed("00:45")
    )
    (event,) = events(body)
    assert summary(event) == (
        "meeting.held",
        "rep-pd-1",
        "2026-10-06T15:00:00+00:00",  # the slot, not when it was marked done
        {"meeting_id": "2", "kind": "initial", "duration_minutes": 45},
    )


def test_a_meeting_logged_done_is_held() -> None:
    body = envelope("activity", "create", activity(done=True, duration="01:00"))
    (event,) = events(body)
    assert summary(event)[::3] == (
        "meeting.held",
        {"meeting_id": "2", "kind": "initial", "duration_minutes": 60},
    )


@pytest.mark.parametrize(
    "body",
    [
        _change({"subject": "Intro"}, subject="Intro meeting: Initech"),
        _change({"done": True}, done=False),  # reopened
        _change({"duration": _timed("00:30")}, done=True, duration=_timed("00:50")),
        _change({"location": None}, location="Room 4"),
        envelope("activity", "delete", None, activity()),
        envelope("activity", "create", activity(type="task")),
        envelope("activity", "create", activity(type="lunch", done=True)),
    ],
)
def test_what_we_do_not_track_is_ignored(body: dict[str, Any]) -> None:
    result = mapped(body)
    assert isinstance(result, Ignored) and result.reason is IgnoreReason.NOT_TRACKED


@pytest.mark.parametrize(
    ("data", "reason", "detail"),
    [
        (activity(type="webinar"), ParkReason.UNKNOWN_ACTIVITY_TYPE, "'webinar'"),
        (activity(type=None), ParkReason.UNKNOWN_ACTIVITY_TYPE, "''"),
        (activity(owner_id=31337), ParkReason.UNKNOWN_USER, "user 31337"),
        (activity(due_time=_timed("15:00", "Mars/Olympus")), ParkReason.INVALID_VALUE,
         "timezone_id"),
        (activity(due_time="25:00"), ParkReason.INVALID_VALUE, "data.due_time"),
        (activity(due_time="half past"), ParkReason.INVALID_VALUE, "data.due_time"),
        (activity(due_date="someday"), ParkReason.INVALID_VALUE, "data.due_date"),
        (activity(due_date=None), ParkReason.MISSING_FIELD, "due_date"),
        (activity(done=True, duration=[1]), ParkReason.INVALID_VALUE, "data.duration"),
        (activity(done=True, duration="30:00"), ParkReason.INVALID_VALUE, "duration_minutes"),
    ],
)  # fmt: skip
def test_values_that_cannot_be_read_park_the_activity(
    data: dict[str, Any], reason: ParkReason, detail: str
) -> None:
    with pytest.raises(Unmappable) as parked:
        mapped(envelope("activity", "create", data))
    assert parked.value.reason is reason
    assert detail in parked.value.detail


def test_the_subject_conventions_and_types_come_from_the_mapping() -> None:
    section = MAPPING.pipedrive.model_copy(
        update={
            "activity_types": {"mail": "email", "phone": "call"},
            "inbound_subject_prefix": "IN: ",
            "call_subjects": {"Reached": True, "Voicemail": False},
        }
    )
    custom = MappingConfig(pipedrive=section)
    (reply,) = events(_logged(type="mail", subject="in: hello"), custom)
    (voicemail,) = events(_logged(type="phone", subject="Voicemail", duration="00:01"), custom)
    assert reply.type.value == "email.replied"
    assert summary(voicemail)[3] == {"connected": False, "duration_seconds": 60}
    with pytest.raises(Unmappable):
        mapped(_logged(type="email"), custom)


@pytest.mark.parametrize(
    ("update_user_id", "rep"), [(12415299, "rep-pd-2"), (555, "rep-pd-1"), (None, "rep-pd-1")]
)
def test_a_change_is_the_act_of_the_user_who_made_it_when_mapped(
    update_user_id: int | None, rep: str
) -> None:
    body = _change({"done": False}, done=True, update_user_id=update_user_id)
    (event,) = events(body)
    assert (event.type.value, event.rep_id) == ("meeting.held", rep)


def test_a_create_is_the_owners_whoever_logged_it() -> None:
    (event,) = events(_logged(type="email", subject="Hi", update_user_id=12415299))
    assert event.rep_id == "rep-pd-1"
