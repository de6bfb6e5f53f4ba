"""Pipedrive webhooks v2 values read as canonical ones: the envelope, times, ids, amounts.

Every reader either returns or raises `Unmappable` naming the field, so a value of the wrong
shape parks its item instead of failing the request. Pure: no clock, no I/O.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from services.ingest.adapters.base import Item, ParkReason, Unmappable
from shared.timezones import is_known_zone

ACTIONS = frozenset({"create", "change", "delete"})
CENT = Decimal("0.01")
# Keys only the legacy v1 envelope has ({v, event, current, previous, meta, retry}).
_V1_KEYS = ("event", "current", "v")


# ---- the envelope ---------------------------------------------------------------------------


def envelope_problem(document: Any) -> str | None:
    """What makes `document` no webhooks v2 envelope (naming the field), or None."""
    if not isinstance(document, dict):
        return "body: expected a JSON object, the webhooks v2 envelope {meta, data, previous}"
    if any(key in document for key in _V1_KEYS) and "data" not in document:
        return "body: a webhooks v1 payload; create the webhook with version 2.0"
    meta = document.get("meta")
    if not isinstance(meta, dict):
        return "meta: required object is missing"
    for key in ("action", "entity"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            return f"meta.{key}: required string is missing"
    version = meta.get("version")
    if version is not None and not str(version).startswith("2"):
        return f"meta.version: expected 2.0 (webhooks v2), got {str(version)[:20]!r}"
    if "data" not in document:
        return "data: required field is missing (null only on delete)"
    data = document["data"]
    if data is None and meta["action"] in ("create", "change"):
        return f"data: required object is null on a {meta['action']}"
    if data is not None and not isinstance(data, dict):
        return "data: expected an object or null"
    if document.get("previous") is not None and not isinstance(document["previous"], dict):
        return "previous: expected an object or null"
    return None


@dataclass(frozen=True)
class Envelope:
    """One webhook's `{meta, data, previous}`, checked."""

    meta: Mapping[str, Any]
    data: Mapping[str, Any]  # the current state; the last state (`previous`) on delete
    previous: Mapping[str, Any]  # on a change, only the changed fields; else empty

    @classmethod
    def of(cls, item: Item) -> Envelope:
        """The envelope of an item, or `Unmappable(MISSING_FIELD)` naming what is wrong."""
        problem = envelope_problem(item)
        if problem is not None:
            raise Unmappable(ParkReason.MISSING_FIELD, problem)
        previous = item.get("previous") or {}
        data = item["data"] if item["data"] is not None else previous
        changed = previous if item["meta"]["action"] == "change" else {}
        return cls(item["meta"], data, changed)

    @property
    def action(self) -> str:
        return str(self.meta["action"])

    @property
    def entity(self) -> str:
        return str(self.meta["entity"])

    def changed(self, *fields: str) -> bool:
        """Whether this change gave any of `fields` a new value (never on create or delete)."""
        return any(
            name in self.previous and self.previous[name] != self.data.get(name) for name in fields
        )

    def before(self, name: str) -> Any:
        """A field's value before this change (its current value when unchanged)."""
        return self.previous[name] if name in self.previous else self.data.get(name)

    def record_id(self) -> str:
        """The record's id: data.id, else meta.entity_id."""
        found = ref(self.data.get("id")) or ref(self.meta.get("entity_id"))
        if found is None:
            raise Unmappable(ParkReason.MISSING_FIELD, f"{self.entity}: data.id is missing")
        return found

    def delivery_id(self) -> str:
        """The change's identity, the same on every retry and duplicate (module docstring)."""
        head = f"{self.entity}:{self.record_id()}:{self.action}"
        if self.action != "change":
            return head
        stamp = self.data.get("update_time") or self.meta.get("timestamp") or ""
        state = {name: self.data.get(name) for name in self.previous}
        digest = hashlib.sha256(orjson.dumps(state, option=orjson.OPT_SORT_KEYS)).hexdigest()
        return f"{head}:{str(stamp)[:40]}:{digest[:16]}"

    def time_of(self, *fields: str) -> datetime:
        """The first of `fields` the record has set, else meta.timestamp, as UTC."""
        for name in fields:
            if self.data.get(name) not in (None, ""):
                return instant(self.data[name], f"data.{name}")
        if self.meta.get("timestamp") in (None, ""):
            raise Unmappable(ParkReason.MISSING_FIELD, f"data.{fields[0]} is missing")
        return instant(self.meta["timestamp"], "meta.timestamp")


# ---- values ---------------------------------------------------------------------------------


def invalid(what: str, value: Any) -> Unmappable:
    return Unmappable(ParkReason.INVALID_VALUE, f"{what}: unexpected value {str(value)[:60]!r}")


def ref(value: Any) -> str | None:
    """A record id as a canonical id string (v1's `{"value": id, …}` objects too), or None."""
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()[:128]
    return None


def text(value: Any) -> str:
    """A string field, or "" when it is null or not a string."""
    return value if isinstance(value, str) else ""


def flag(value: Any) -> bool:
    """Pipedrive's booleans: true/false, and 1/0 or "1"/"0" in older payloads."""
    return value is True or value == 1 or value in ("1", "true")


def instant(value: Any, what: str) -> datetime:
    """An ISO timestamp, Pipedrive's "YYYY-MM-DD HH:MM:SS" (UTC) or epoch seconds, in UTC."""
    try:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return datetime.fromtimestamp(value, UTC)
        if isinstance(value, str):
            moment = datetime.fromisoformat(value.strip())
            if moment.tzinfo is None:  # Pipedrive's own format carries no offset: it is UTC
                return moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise invalid(what, value) from exc
    raise invalid(what, value)


def day(value: Any, what: str) -> date | None:
    """A "YYYY-MM-DD" date, or None when unset."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise invalid(what, value) from exc


def timed(value: Any, what: str) -> tuple[str, str | None]:
    """due_time/duration in either shape: a plain "HH:MM" string or null (on create), or a
    `{"timezone_id", "value"}` object (on change); (value, time zone or None)."""
    if value is None:
        return "", None
    if isinstance(value, str):
        return value.strip(), None
    if isinstance(value, dict):
        zone = value.get("timezone_id")
        return text(value.get("value")).strip(), str(zone) if zone not in (None, "") else None
    raise invalid(what, value)


def _clock(value: str, what: str) -> timedelta | None:
    """ "HH:MM" or "HH:MM:SS" as a span from midnight, or None when empty."""
    if not value:
        return None
    parts = value.split(":")
    if len(parts) not in (2, 3) or not all(part.isdigit() for part in parts):
        raise invalid(what, value)
    hours, minutes, seconds = (int(part) for part in [*parts, "0"][:3])
    if minutes >= 60 or seconds >= 60:
        raise invalid(what, value)
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def minutes(value: Any, what: str) -> int | None:
    """A duration ("HH:MM", either shape) in whole minutes, rounded up; None when unset."""
    span = _clock(timed(value, what)[0], what)
    return None if span is None else math.ceil(span.total_seconds() / 60)


def due_slot(data: Mapping[str, Any], *, all_day: bool) -> datetime | None:
    """When an activity is due: due_date at due_time (UTC, or in due_time's timezone_id).

    Without a due_time the slot is the day's start when `all_day`, else None (unknown).
    """
    due_date = day(data.get("due_date"), "data.due_date")
    if due_date is None:
        return None
    clock, zone_name = timed(data.get("due_time"), "data.due_time")
    span = _clock(clock, "data.due_time")
    if span is None and not all_day:
        return None
    if span is not None and span >= timedelta(days=1):
        raise invalid("data.due_time", clock)
    if zone_name is not None and not is_known_zone(zone_name):
        raise invalid("data.due_time.timezone_id", zone_name)
    zone = ZoneInfo(zone_name) if zone_name is not None else UTC
    try:
        # Aware arithmetic is wall-clock arithmetic: the offset is the one of the local time.
        local = datetime.combine(due_date, time(), zone) + (span or timedelta())
        return local.astimezone(UTC)
    except (OverflowError, ValueError) as exc:  # past year 9999 or before year 1 in UTC
        raise invalid("data.due_date", due_date) from exc


def amount(value: Any, what: str) -> Decimal:
    """A deal value as a Decimal to the cent; an unset value is 0, as Pipedrive shows it."""
    if value is None or value == "":
        return Decimal("0.00")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid(what, value)
    try:
        number = Decimal(str(value))
        if not number.is_finite():
            raise invalid(what, value)
        return number.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise invalid(what, value) from exc
