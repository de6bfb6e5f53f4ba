"""HubSpot engagements (generic `object.*` events: emails, calls, meetings) as activity events.

The events carry ids only; every fact comes from the record `enrich` hydrated. The rep is the
record's `hubspot_owner_id`; the opportunity, account and contact are its first associated
deal, company and contact. Pure: no clock.

- Email creation (0-49): `hs_email_direction` EMAIL → email.sent (with its subject),
  INCOMING_EMAIL → email.replied; forwarded, bounced and failed emails are not tracked.
- Call creation (0-48) → call.made: `connected` from `hs_call_disposition` through the
  mapping's `call_dispositions` (a call with no outcome recorded did not connect; an outcome
  the mapping does not know parks the call), `hs_call_duration` ms → seconds.
- Meeting creation (0-47) → meeting.scheduled at the booking, starting at
  `hs_meeting_start_time`; the `hs_meeting_outcome` change to COMPLETED → meeting.held at the
  meeting's start, lasting end − start. Other outcomes (RESCHEDULED, NO_SHOW, CANCELED…) are not
  tracked. The kind comes from `hs_activity_type` through `meeting_types`.
- Emails and calls happen at `hs_timestamp` (a logged call may be older than its record).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.ingest.adapters.base import (
    Ignored,
    IgnoreReason,
    Item,
    ItemResult,
    Mapped,
    ParkReason,
    Unmappable,
    build_event,
    rep_for,
)
from services.ingest.adapters.hubspot_api import Record
from services.ingest.adapters.hubspot_events import (
    MEETING_HELD,
    MEETING_OUTCOME,
    delivery_id,
    first_link,
    hydrated,
    object_id,
    occurred_at,
    parse_instant,
    prop,
    subject,
)
from services.ingest.adapters.hubspot_mapping import HubSpotMapping
from services.ingest.mapping_base import ActivityKind
from shared.events import MeetingKind, SalesEvent

VENDOR = "hubspot"
EMAIL_TYPES = {"EMAIL": "email.sent", "INCOMING_EMAIL": "email.replied"}
UNTRACKED_EMAILS = frozenset({"FORWARDED_EMAIL"})
UNDELIVERED = frozenset({"BOUNCED", "FAILED"})


def map_engagement(item: Item, kind: ActivityKind, mapping: HubSpotMapping) -> ItemResult:
    """The activity event of one engagement event."""
    _, action = subject(item)
    if action == "propertyChange" and kind == "meeting":
        if item.get("propertyName") != MEETING_OUTCOME:
            return Ignored(
                IgnoreReason.NOT_TRACKED, f"meeting property {item.get('propertyName')!r}"
            )
        if item.get("propertyValue") != MEETING_HELD:
            return Ignored(
                IgnoreReason.NOT_TRACKED, f"meeting outcome {item.get('propertyValue')!r}"
            )
        return Mapped((_meeting_held(item, hydrated(item), mapping),))
    if action != "creation":
        return Ignored(IgnoreReason.NOT_TRACKED, f"{kind} {action or 'event'} is not tracked")
    record = hydrated(item)
    if kind == "email":
        return _email(item, record, mapping)
    if kind == "call":
        return Mapped((_call(item, record, mapping),))
    return Mapped((_meeting_scheduled(item, record, mapping),))


def _email(item: Item, record: Record, mapping: HubSpotMapping) -> ItemResult:
    direction = prop(record, "hs_email_direction")
    status = prop(record, "hs_email_status")
    if direction in UNTRACKED_EMAILS or status in UNDELIVERED:
        return Ignored(IgnoreReason.NOT_TRACKED, f"email {direction} {status or ''}".strip())
    if direction is None:
        raise Unmappable(ParkReason.MISSING_FIELD, "the email's hs_email_direction is missing")
    event_type = EMAIL_TYPES.get(direction)
    if event_type is None:
        raise Unmappable(ParkReason.INVALID_VALUE, f"hs_email_direction {direction[:50]!r}")
    payload: dict[str, Any] = {}
    if event_type == "email.sent":
        payload["subject"] = (prop(record, "hs_email_subject") or "")[:1000] or None
    return Mapped((_event(item, record, mapping, event_type, _timestamp(item, record), payload),))


def _call(item: Item, record: Record, mapping: HubSpotMapping) -> SalesEvent:
    disposition = prop(record, "hs_call_disposition")
    connected = False
    if disposition is not None:
        known = mapping.call_dispositions.get(disposition)
        if known is None:
            raise Unmappable(
                ParkReason.UNKNOWN_ACTIVITY_TYPE,
                f"call disposition {disposition[:60]!r} is not in the mapping "
                "(hubspot.call_dispositions)",
            )
        connected = known.connected
    payload = {
        "connected": connected,
        "duration_seconds": _seconds(prop(record, "hs_call_duration")),
    }
    return _event(item, record, mapping, "call.made", _timestamp(item, record), payload)


def _meeting_scheduled(item: Item, record: Record, mapping: HubSpotMapping) -> SalesEvent:
    starts = parse_instant(prop(record, "hs_meeting_start_time"), "hs_meeting_start_time")
    starts = starts or parse_instant(prop(record, "hs_timestamp"), "hs_timestamp")
    if starts is None:
        raise Unmappable(ParkReason.MISSING_FIELD, "the meeting's hs_meeting_start_time is missing")
    payload = {"meeting_id": object_id(item), "starts_at": starts, "kind": _kind(record, mapping)}
    return _event(item, record, mapping, "meeting.scheduled", occurred_at(item), payload)


def _meeting_held(item: Item, record: Record, mapping: HubSpotMapping) -> SalesEvent:
    starts = parse_instant(prop(record, "hs_meeting_start_time"), "hs_meeting_start_time")
    ends = parse_instant(prop(record, "hs_meeting_end_time"), "hs_meeting_end_time")
    payload: dict[str, Any] = {"meeting_id": object_id(item), "kind": _kind(record, mapping)}
    if starts is not None and ends is not None:
        payload["duration_minutes"] = round((ends - starts).total_seconds() / 60)
    return _event(item, record, mapping, "meeting.held", starts or occurred_at(item), payload)


def _event(
    item: Item,
    record: Record,
    mapping: HubSpotMapping,
    event_type: str,
    at: datetime,
    payload: dict[str, Any],
) -> SalesEvent:
    return build_event(
        vendor=VENDOR,
        delivery_id=delivery_id(item),
        event_type=event_type,
        occurred_at=at,
        rep_id=rep_for(mapping.users, prop(record, "hubspot_owner_id"), vendor=VENDOR),
        payload=payload,
        opportunity_id=first_link(record, "deals"),
        account_id=first_link(record, "companies"),
        contact_id=first_link(record, "contacts"),
    )


def _timestamp(item: Item, record: Record) -> datetime:
    return parse_instant(prop(record, "hs_timestamp"), "hs_timestamp") or occurred_at(item)


def _kind(record: Record, mapping: HubSpotMapping) -> MeetingKind:
    label = prop(record, "hs_activity_type")
    if label is None:
        return MeetingKind.INITIAL
    kind = mapping.meeting_types.get(label)
    if kind is None:
        raise Unmappable(
            ParkReason.UNKNOWN_ACTIVITY_TYPE,
            f"meeting type {label[:60]!r} is not in the mapping (hubspot.meeting_types)",
        )
    return kind


def _seconds(milliseconds: str | None) -> int:
    if milliseconds is None:
        return 0
    try:
        return round(float(milliseconds) / 1000)
    except (ValueError, OverflowError) as exc:
        raise Unmappable(
            ParkReason.INVALID_VALUE, f"hs_call_duration {milliseconds[:30]!r} is not ms"
        ) from exc
