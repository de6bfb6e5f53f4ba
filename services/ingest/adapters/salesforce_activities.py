"""Task and Event records → email, call and meeting events (pure, shared by both channels).

Task (`00T`): an activity once done (IsClosed, else Status "Completed"); an open task is a
to-do, ignored until it is completed. Its kind is TaskSubtype (else Type) through
`activity_types`. Emails: the direction field says email.sent or email.replied; the subject
loses the "Email: " Salesforce puts before logged emails. Calls: CallDisposition through
`call_dispositions` (connected or not), CallDurationInSeconds. Time: CompletedDateTime, else
CreatedDate, else the change's time.

Event (`00U`): a meeting; the status field (`meeting_statuses`) says meeting.scheduled (with
StartDateTime) or meeting.held (with DurationInMinutes), the kind field (`meeting_kinds`)
initial or follow-up. Time: the change's. meeting_id is the Event's record id.

References: opportunity_id from WhatId (`006`), account_id from AccountId (or a WhatId that is
an account), contact_id from WhoId (`003`; a lead is no contact). The rep is the OwnerId,
except for meeting.held: the rep who recorded the meeting held (LastModifiedById, CDC
commitUser), so an AE holding a meeting an SDR booked (and owns) gets the held meeting, unless
that user is not in `users` (an integration marking meetings held): then the owner.

`changed` (CDC updates) restricts the events to what the change did: a task completed, a
meeting booked, moved or held; edits to anything else yield nothing. Without it (Outbound
Messages and CDC creates, which carry whole states) the state speaks for itself, and the
delivery ids are the record's own (a task; a meeting's booking at its start time; its
holding), so a re-sent or edited record maps to the events already produced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from services.ingest.adapters import salesforce_fields as f
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
from services.ingest.adapters.salesforce_mapping import SalesforceMapping
from shared.events import SalesEvent

EMAIL_PREFIX = "Email: "
_DONE_FIELDS = frozenset({"IsClosed", "Status"})
_START_FIELDS = frozenset({"StartDateTime", "ActivityDateTime"})


@dataclass(frozen=True)
class ActivityChange:
    """A Task or Event record as one change left it."""

    organization_id: str  # 15 characters
    record_id: str
    record: f.Record
    occurred_at: datetime  # when the change was made
    changed: frozenset[str] | None = None  # CDC update: the fields it set; None: a whole state
    delivery_id: str | None = None  # CDC: the change's identity; None: the record's own
    changed_by: str | None = None  # who made the change (LastModifiedById, CDC commitUser)


def task_result(change: ActivityChange, mapping: SalesforceMapping) -> ItemResult:
    """The email or call a Task records, or why it is ignored."""
    record = change.record
    if change.changed is not None and not change.changed & _DONE_FIELDS:
        return Ignored(IgnoreReason.NOT_TRACKED, "the change completes no task")
    if not task_done(record):
        return Ignored(IgnoreReason.NOT_TRACKED, f"task {change.record_id} is not done")
    subtype = f.text(record, "TaskSubtype") or f.text(record, "Type")
    kind = _activity_kind(subtype, mapping, "TaskSubtype")
    if kind is None:
        return Ignored(IgnoreReason.NOT_TRACKED, f"TaskSubtype {subtype!r} is not tracked")
    at = f.moment(record, "CompletedDateTime") or f.moment(record, "CreatedDate")
    delivery_id = change.delivery_id or f"{change.organization_id}:{change.record_id}"
    if kind == "email":
        event_type, payload = _email(record, mapping)
    elif kind == "call":
        event_type, payload = "call.made", _call(record, mapping)
    else:
        return Ignored(IgnoreReason.NOT_TRACKED, "meetings are Event records, not tasks")
    event = _event(change, mapping, event_type, payload, delivery_id, at or change.occurred_at)
    return Mapped((event,))


def meeting_result(change: ActivityChange, mapping: SalesforceMapping) -> ItemResult:
    """The meeting an Event books or holds, or why it is ignored."""
    record = change.record
    subtype = f.text(record, "EventSubtype") or "Event"
    kind = _activity_kind(subtype, mapping, "EventSubtype")
    if kind is None:
        return Ignored(IgnoreReason.NOT_TRACKED, f"EventSubtype {subtype!r} is not tracked")
    if kind != "meeting":
        raise Unmappable(
            ParkReason.INVALID_VALUE,
            f"EventSubtype {subtype!r} maps to {kind} in salesforce.activity_types; Event "
            "records are meetings",
        )
    status_field = mapping.meeting_status_field
    status = _require(record, status_field)
    if status not in mapping.meeting_statuses:
        raise _unknown_value(status_field, status, "meeting_statuses")
    event_type = mapping.meeting_statuses[status]
    if event_type is None:
        return Ignored(IgnoreReason.NOT_TRACKED, f"{status_field} {status!r} is not tracked")
    if change.changed is not None:
        triggers = {status_field} | (_START_FIELDS if event_type == "meeting.scheduled" else set())
        if not change.changed & triggers:
            return Ignored(IgnoreReason.NOT_TRACKED, "the change books or holds no meeting")
    kind_field = mapping.meeting_kind_field
    kind_value = _require(record, kind_field)
    if kind_value not in mapping.meeting_kinds:
        raise _unknown_value(kind_field, kind_value, "meeting_kinds")
    payload: dict[str, Any] = {
        "meeting_id": change.record_id,
        "kind": mapping.meeting_kinds[kind_value],
    }
    own_id = f"{change.organization_id}:{change.record_id}"
    if event_type == "meeting.scheduled":
        starts_at = f.moment(record, "StartDateTime") or f.moment(record, "ActivityDateTime")
        if starts_at is None:
            raise Unmappable(ParkReason.MISSING_FIELD, "StartDateTime is missing")
        payload["starts_at"] = starts_at
        own_id += f":{f.version(starts_at)}"
    else:
        minutes = f.integer(record, "DurationInMinutes")
        if minutes is not None:
            payload["duration_minutes"] = minutes
    delivery_id = change.delivery_id or own_id
    return Mapped((_event(change, mapping, event_type, payload, delivery_id, change.occurred_at),))


def task_done(record: f.Record) -> bool:
    """Whether a task is done (IsClosed, else Status "Completed")."""
    closed = f.flag(record, "IsClosed")
    if closed is not None:
        return closed
    status = f.text(record, "Status")
    if status is None:
        raise Unmappable(ParkReason.MISSING_FIELD, "IsClosed (or Status) is missing")
    return status == "Completed"


def _activity_kind(subtype: str | None, mapping: SalesforceMapping, field: str) -> str | None:
    if subtype is None:
        raise Unmappable(ParkReason.MISSING_FIELD, f"{field} is missing")
    if subtype in mapping.untracked_activity_types:
        return None
    kind = mapping.activity_types.get(subtype)
    if kind is None:
        raise Unmappable(
            ParkReason.UNKNOWN_ACTIVITY_TYPE,
            f"activity type {subtype!r} is not in the mapping (salesforce.activity_types, or "
            "salesforce.untracked_activity_types)",
        )
    return kind


def _email(record: f.Record, mapping: SalesforceMapping) -> tuple[str, dict[str, Any]]:
    field = mapping.direction_field
    direction = _require(record, field)
    event_type = mapping.email_directions.get(direction)
    if event_type is None:
        raise _unknown_value(field, direction, "email_directions")
    if event_type == "email.replied":
        return event_type, {}
    subject = f.text(record, "Subject")
    if subject is not None and subject.startswith(EMAIL_PREFIX):
        subject = subject[len(EMAIL_PREFIX) :]
    return event_type, {"subject": subject}


def _call(record: f.Record, mapping: SalesforceMapping) -> dict[str, Any]:
    disposition = _require(record, "CallDisposition")
    connected = mapping.call_dispositions.get(disposition)
    if connected is None:
        raise _unknown_value("CallDisposition", disposition, "call_dispositions")
    return {
        "connected": connected,
        "duration_seconds": f.integer(record, "CallDurationInSeconds") or 0,
    }


def _require(record: f.Record, field: str) -> str:
    value = f.text(record, field)
    if value is None:
        raise Unmappable(ParkReason.MISSING_FIELD, f"{field} is missing")
    return value


def _unknown_value(field: str, value: str, key: str) -> Unmappable:
    return Unmappable(
        ParkReason.INVALID_VALUE,
        f"{field} {value!r} is not in the mapping (salesforce.{key})",
    )


def _rep(change: ActivityChange, mapping: SalesforceMapping, event_type: str) -> str:
    """The owner's rep; for a held meeting, the rep who recorded it held (an AE holding the
    meeting an SDR booked and owns), unless that user is no rep (an integration)."""
    if event_type == "meeting.held" and change.changed_by in mapping.users:
        return mapping.users[change.changed_by]
    owner = f.text(change.record, "OwnerId") or change.changed_by
    return rep_for(mapping.users, owner, vendor=f.VENDOR)


def _event(
    change: ActivityChange,
    mapping: SalesforceMapping,
    event_type: str,
    payload: Mapping[str, Any],
    delivery_id: str,
    occurred_at: datetime,
) -> SalesEvent:
    record = change.record
    return build_event(
        vendor=f.VENDOR,
        delivery_id=delivery_id,
        event_type=event_type,
        occurred_at=occurred_at,
        rep_id=_rep(change, mapping, event_type),
        payload=payload,
        account_id=f.account_of(record),
        opportunity_id=f.opportunity_of(record),
        contact_id=f.contact_of(record),
    )
