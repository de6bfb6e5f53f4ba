"""HubSpot webhook events: the body's shape, what each event is about, and its identity.

A body is a JSON array of events (HubSpot sends fewer than 100). Each event is one item,
kept as HubSpot sent it; `enrich` adds the record it names under `HYDRATED` (None when
HubSpot answered 404), so a parked item carries everything `map` needs.

**Delivery ids.** HubSpot's `eventId` is "not guaranteed to be unique" and `attemptNumber`
grows with each retry, so neither identifies a change. An event's delivery id is the change
itself: `hubspot:{portalId}:{objectTypeId}:{objectId}:{action}[:{propertyName}={value}]@
{occurredAt}` (legacy `deal.*` events use objectTypeId `0-3`, as the generic ones do). A retried,
duplicated or re-subscribed notification of the same change maps to the same event ids.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, TypeGuard

import orjson

from services.ingest.adapters.base import Item, ParkReason, Unmappable, refuse
from services.ingest.adapters.hubspot_api import Record, RecordKey
from services.ingest.intake import Refused
from services.ingest.models import Outcome

HYDRATED = "_hydrated"  # ours; HubSpot's own fields are camelCase words
DEAL_TYPE_ID = "0-3"
# objectTypeId → CRM API object type, for the objects ingest maps.
API_TYPES = {"0-3": "deals", "0-47": "meetings", "0-48": "calls", "0-49": "emails"}
# Legacy subscription prefixes → objectTypeId.
LEGACY_TYPE_IDS = {
    "contact": "0-1", "company": "0-2", "deal": "0-3", "ticket": "0-5", "product": "0-7",
    "line_item": "0-8",
}  # fmt: skip
TRACKED_DEAL_PROPERTIES = frozenset({"dealstage", "amount", "closedate", "hubspot_owner_id"})
MEETING_OUTCOME, MEETING_HELD = "hs_meeting_outcome", "COMPLETED"
_MAX_EPOCH_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


# ---- the body ---------------------------------------------------------------------------


def parse_events(body: bytes) -> list[Item]:
    """The body's events; 400 when it is not JSON, 422 naming the first missing field."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise refuse(400, Outcome.INVALID, f"body is not valid JSON: {exc}") from exc
    if not isinstance(document, list):
        raise _missing("body", "expected a JSON array of HubSpot events")
    for index, event in enumerate(document):
        _check_event(event, f"body[{index}]")
    # Only enrich attaches records: one arriving in the body is not HubSpot's to send.
    return [{k: v for k, v in event.items() if k != HYDRATED} for event in document]


def _check_event(event: Any, where: str) -> None:
    if not isinstance(event, dict):
        raise _missing(where, "expected an event object")
    if not isinstance(event.get("subscriptionType") or event.get("eventType"), str):
        raise _missing(f"{where}.subscriptionType", "is required (a string; or eventType)")
    if _object_id(event.get("objectId")) is None:
        raise _missing(f"{where}.objectId", "is required (a record id)")
    occurred = event.get("occurredAt")
    if not _is_int(occurred) or not 0 <= occurred <= _MAX_EPOCH_MS:
        raise _missing(f"{where}.occurredAt", "is required (epoch milliseconds)")
    if not _is_int(event.get("portalId")):
        raise _missing(f"{where}.portalId", "is required (an integer)")


def _missing(where: str, what: str) -> Refused:
    return refuse(422, Outcome.INVALID, f"{where}: {what}")


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _object_id(value: Any) -> str | None:
    if _is_int(value) and value >= 0:
        return str(value)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 30:
        return str(int(value))
    return None


# ---- what an event is about -------------------------------------------------------------


def subscription(item: Item) -> str:
    """The subscription type (`eventType` in the docs' own example)."""
    return str(item.get("subscriptionType") or item.get("eventType") or "")


def subject(item: Item) -> tuple[str | None, str]:
    """(objectTypeId, action) of an event: `deal.propertyChange` → ("0-3", "propertyChange")."""
    prefix, _, action = subscription(item).partition(".")
    if prefix == "object":
        type_id = item.get("objectTypeId")
        return (str(type_id) if type_id not in (None, "") else None), action
    return LEGACY_TYPE_IDS.get(prefix), action


def object_id(item: Item) -> str:
    """The record id, as a canonical id (digits, no leading zeros)."""
    found = _object_id(item.get("objectId"))
    if found is None:  # parse refused it; a hand-made dead letter could still hold one
        raise Unmappable(ParkReason.MISSING_FIELD, "objectId is missing or not a record id")
    return found


def record_key(item: Item) -> RecordKey | None:
    """The record `map` needs for this event, or None when it maps (or ignores) without one."""
    type_id, action = subject(item)
    api_type = API_TYPES.get(type_id or "")
    if api_type is None or _object_id(item.get("objectId")) is None:
        return None
    needed = action == "creation"
    if action == "propertyChange":
        name = item.get("propertyName")
        name = name if isinstance(name, str) else None
        if type_id == DEAL_TYPE_ID:
            needed = name in TRACKED_DEAL_PROPERTIES
        else:
            held = item.get("propertyValue") == MEETING_HELD
            needed = name == MEETING_OUTCOME and held and type_id == "0-47"
    return (api_type, str(_object_id(item.get("objectId")))) if needed else None


def delivery_id(item: Item) -> str:
    """The identity of the change (never eventId or attemptNumber; see the module doc)."""
    type_id, action = subject(item)
    change = f":{item.get('propertyName')}={item.get('propertyValue')}"
    return (
        f"hubspot:{item.get('portalId')}:{type_id}:{object_id(item)}:{action}"
        f"{change if action == 'propertyChange' else ''}@{item.get('occurredAt')}"
    )


def occurred_at(item: Item) -> datetime:
    """When the change happened (`occurredAt`, epoch ms)."""
    value = item.get("occurredAt")
    if not _is_int(value) or not 0 <= value <= _MAX_EPOCH_MS:
        raise Unmappable(ParkReason.MISSING_FIELD, "occurredAt is missing or not epoch ms")
    return datetime.fromtimestamp(value / 1000, UTC)


# ---- the hydrated record ----------------------------------------------------------------


def hydrated(item: Item) -> Record:
    """The record `enrich` loaded for the item; parks it when HubSpot did not have it."""
    record = item.get(HYDRATED)
    key = record_key(item)
    name = f"{key[0][:-1]} {key[1]}" if key else "the record"
    if not isinstance(record, dict):
        raise Unmappable(
            ParkReason.RECORD_NOT_FOUND,
            f"{name} was not found in HubSpot's CRM API (404); replaying re-reads it",
        )
    if not isinstance(record.get("properties"), dict):
        record = {**record, "properties": {}}
    return record


def prop(record: Record, name: str) -> str | None:
    """A property's value; an empty string counts as unset, as HubSpot shows it."""
    value = record["properties"].get(name)
    return None if value is None or value == "" else str(value)


def first_link(record: Record, kind: str) -> str | None:
    """The first associated record of `kind` (deals, companies, contacts)."""
    links = record.get("associations")
    ids = links.get(kind) if isinstance(links, dict) else None
    return str(ids[0]) if isinstance(ids, list) and ids else None


def parse_instant(value: str | None, what: str) -> datetime | None:
    """A datetime property: ISO 8601 as the API returns it, or epoch ms as webhooks send it."""
    if value is None:
        return None
    try:
        if value.isascii() and value.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise Unmappable(ParkReason.INVALID_VALUE, f"{what} {value!r} is not a time") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_day(value: str | None, what: str) -> date | None:
    """A date property (HubSpot stores dates as midnight UTC) as a calendar date."""
    instant = parse_instant(value, what)
    return instant.astimezone(UTC).date() if instant else None
