"""Pipedrive activities as canonical email, call and meeting events (pure).

- The type key maps through `pipedrive.activity_types`; a type in `ignored_activity_types`
  (task, deadline, lunch) is ignored, any other unknown type is parked.
- Emails and calls count once they are done: created done, or changed to done. An email whose
  subject starts with `inbound_subject_prefix` is a reply received (email.replied), else one
  sent. A call is connected per `call_subjects`, else when a duration was logged; its duration
  is whole minutes (Pipedrive's "HH:MM").
- A meeting not done is `meeting.scheduled` (created, or its due date/time changed), starting
  at its due slot; one done is `meeting.held` (created done, or changed to done), with its
  duration. The kind comes from `meeting_subject_prefixes` (initial otherwise).
- When a done activity happened: its due slot (due_date + due_time, in due_time's timezone_id
  when given, else UTC), to the second when the record's own timestamp (add_time on create,
  update_time on change) falls within that minute, which is how Pipedrive's email sync and
  caller log them; the timestamp when no due time is set.
- The rep: the activity's owner (v1: user_id); on a change, the user who made it
  (update_user_id) when the mapping knows them, as when an AE marks a meeting an SDR booked
  as held. An unknown owner parks the activity.
- A deleted activity, a planned email or call, or an edit of nothing above is ignored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.ingest.adapters.base import (
    Ignored,
    IgnoreReason,
    ItemResult,
    Mapped,
    ParkReason,
    Unmappable,
    build_event,
    rep_for,
)
from services.ingest.adapters.pipedrive_fields import (
    Envelope,
    due_slot,
    flag,
    minutes,
    ref,
    text,
)
from services.ingest.adapters.pipedrive_mapping import PipedriveMapping
from shared.events import MeetingKind, SalesEvent

VENDOR = "pipedrive"
MAX_SUBJECT = 1000
_SCHEDULE_FIELDS = ("due_date", "due_time")


def map_activity(envelope: Envelope, mapping: PipedriveMapping) -> ItemResult:
    """The events of one activity create, change or delete."""
    if envelope.action == "delete":
        return Ignored(IgnoreReason.NOT_TRACKED, "activity deleted: no event retracts one")
    data = envelope.data
    type_key = text(data.get("type"))
    if type_key in mapping.ignored_activity_types:
        return Ignored(IgnoreReason.NOT_TRACKED, f"activity type {type_key!r} is not tracked")
    kind = mapping.activity_types.get(type_key)
    if kind is None:
        raise Unmappable(
            ParkReason.UNKNOWN_ACTIVITY_TYPE,
            f"activity type {type_key!r} is not in the mapping (pipedrive.activity_types)",
        )
    done = flag(data.get("done"))
    became_done = done and (envelope.action == "create" or not flag(envelope.before("done")))
    if kind == "meeting":
        return _meeting(envelope, mapping, done=done, became_done=became_done)
    if not became_done:
        what = "planned, not done yet" if not done else "edited after it was logged"
        return Ignored(IgnoreReason.NOT_TRACKED, f"{kind} activity {what}")
    if kind == "call":
        return Mapped((_call(envelope, mapping),))
    return Mapped((_email(envelope, mapping),))


def _email(envelope: Envelope, mapping: PipedriveMapping) -> SalesEvent:
    subject = text(envelope.data.get("subject"))
    prefix = mapping.inbound_subject_prefix
    if prefix and subject.casefold().startswith(prefix.casefold()):
        return _event(envelope, mapping, "email.replied", {}, at=_done_at(envelope))
    payload = {"subject": subject[:MAX_SUBJECT] or None}
    return _event(envelope, mapping, "email.sent", payload, at=_done_at(envelope))


def _call(envelope: Envelope, mapping: PipedriveMapping) -> SalesEvent:
    length = minutes(envelope.data.get("duration"), "data.duration")
    subject = text(envelope.data.get("subject")).strip().casefold()
    outcomes = {known.strip().casefold(): ok for known, ok in mapping.call_subjects.items()}
    connected = outcomes.get(subject, bool(length))
    payload = {"connected": connected, "duration_seconds": (length or 0) * 60}
    return _event(envelope, mapping, "call.made", payload, at=_done_at(envelope))


def _meeting(
    envelope: Envelope, mapping: PipedriveMapping, *, done: bool, became_done: bool
) -> ItemResult:
    meeting = {"meeting_id": envelope.record_id(), "kind": _kind(envelope, mapping)}
    if became_done:
        length = minutes(envelope.data.get("duration"), "data.duration")
        payload = meeting if length is None else {**meeting, "duration_minutes": length}
        return Mapped((_event(envelope, mapping, "meeting.held", payload, at=_done_at(envelope)),))
    if done or not (envelope.action == "create" or envelope.changed(*_SCHEDULE_FIELDS)):
        return Ignored(IgnoreReason.NOT_TRACKED, "meeting edited, not booked, moved or held")
    starts_at = due_slot(envelope.data, all_day=True)
    if starts_at is None:
        raise Unmappable(ParkReason.MISSING_FIELD, "meeting: data.due_date is missing")
    payload = {**meeting, "starts_at": starts_at}
    at = envelope.time_of(_stamp_field(envelope))
    return Mapped((_event(envelope, mapping, "meeting.scheduled", payload, at=at),))


def _kind(envelope: Envelope, mapping: PipedriveMapping) -> MeetingKind:
    subject = text(envelope.data.get("subject")).casefold()
    for prefix, kind in mapping.meeting_subject_prefixes.items():
        if prefix and subject.startswith(prefix.casefold()):
            return kind
    return MeetingKind.INITIAL


def _stamp_field(envelope: Envelope) -> str:
    """The record's own time of this change: added on create, updated on change."""
    return "add_time" if envelope.action == "create" else "update_time"


def _done_at(envelope: Envelope) -> datetime:
    """When a done activity happened (see the module docstring)."""
    stamp = envelope.time_of(_stamp_field(envelope))
    slot = due_slot(envelope.data, all_day=False)
    if slot is None or slot <= stamp < slot + timedelta(minutes=1):
        return stamp
    return slot


def _rep(envelope: Envelope, mapping: PipedriveMapping) -> str:
    """Who did it: on a change, the user who made it (update_user_id) when the mapping knows
    them (a rep marking a meeting booked for them as held); else the activity's owner."""
    data = envelope.data
    if envelope.action == "change":
        actor = mapping.users.get(ref(data.get("update_user_id")) or "")
        if actor is not None:
            return actor
    owner = data.get("owner_id") if data.get("owner_id") is not None else data.get("user_id")
    return rep_for(mapping.users, ref(owner), vendor=VENDOR)


def _event(
    envelope: Envelope,
    mapping: PipedriveMapping,
    event_type: str,
    payload: dict[str, Any],
    *,
    at: datetime,
) -> SalesEvent:
    data = envelope.data
    return build_event(
        vendor=VENDOR,
        delivery_id=envelope.delivery_id(),
        event_type=event_type,
        occurred_at=at,
        rep_id=_rep(envelope, mapping),
        payload=payload,
        account_id=ref(data.get("org_id")),
        opportunity_id=ref(data.get("deal_id")),
        contact_id=ref(data.get("person_id")),
    )
