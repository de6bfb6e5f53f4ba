"""Reading Salesforce record fields, whichever channel brought them (pure).

A record is a dict of field name → value: text for Outbound Messages (SOAP leaves, `None`
for `xsi:nil`), JSON scalars for CDC. Each reader takes either form and raises
`Unmappable(INVALID_VALUE)` naming the field when the value is not of the field's type; an
absent, null or empty field reads as None.

Record versions order the states of one record: a fixed-width string of digits
(modification epoch ms, CDC commitNumber, CDC sequenceNumber) that compares the same as text
on every database.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from services.ingest.adapters.base import ParkReason, Unmappable

Record = Mapping[str, Any]

VENDOR = "salesforce"  # the canonical source vendor of both Salesforce routes
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CENT = Decimal("0.01")
# Key prefixes of the record ids canonical events reference.
ACCOUNT, CONTACT, OPPORTUNITY = "001", "003", "006"


def _present(record: Record, field: str) -> Any:
    value = record.get(field)
    return None if value is None or value == "" else value


def _invalid(field: str, value: Any, expected: str) -> Unmappable:
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    return Unmappable(ParkReason.INVALID_VALUE, f"{field} {shown} is not {expected}")


def text(record: Record, field: str) -> str | None:
    """A text field (ids, picklists, names)."""
    value = _present(record, field)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    raise _invalid(field, value, "text")


def flag(record: Record, field: str) -> bool | None:
    """A checkbox: `true`/`false` in SOAP, a JSON boolean in CDC."""
    value = _present(record, field)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    raise _invalid(field, value, "a boolean")


def money(record: Record, field: str) -> Decimal | None:
    """A currency field (Java doubles such as `45000.0` or `1.5E7`), to the cent."""
    value = _present(record, field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _invalid(field, value, "a number")
    try:
        # repr of a float is its shortest exact form: 45000.0, not 45000.00000000001.
        number = Decimal(value.strip() if isinstance(value, str) else repr(value))
    except InvalidOperation as exc:
        raise _invalid(field, value, "a number") from exc
    if not number.is_finite() or abs(number) >= Decimal("1e16"):
        raise _invalid(field, value, "a finite amount")
    return number.quantize(_CENT, rounding=ROUND_HALF_EVEN)


def integer(record: Record, field: str) -> int | None:
    """A whole number (durations); `120.0` reads as 120."""
    number = money(record, field)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _invalid(field, record.get(field), "a whole number")
    return int(number)


def day(record: Record, field: str) -> date | None:
    """A date field: `2026-04-30` (or epoch days, as the Pub/Sub API sends them)."""
    value = _present(record, field)
    if value is None:
        return None
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return (_EPOCH + timedelta(days=value)).date()
        if isinstance(value, str):
            return date.fromisoformat(value.strip()[:10])
    except (ValueError, OverflowError) as exc:
        raise _invalid(field, value, "a date") from exc
    raise _invalid(field, value, "a date")


def moment(record: Record, field: str) -> datetime | None:
    """A datetime field: `2026-03-02T14:03:00.000Z` (or epoch ms), as an aware UTC datetime."""
    value = _present(record, field)
    if value is None:
        return None
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return from_epoch_ms(value)
        if isinstance(value, str):
            parsed = datetime.fromisoformat(value.strip())
            if parsed.tzinfo is None:
                raise ValueError("no time zone")
            return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise _invalid(field, value, "a datetime with a time zone") from exc
    raise _invalid(field, value, "a datetime")


def from_epoch_ms(value: int) -> datetime:
    """Epoch milliseconds as an aware UTC datetime; ValueError/OverflowError when absurd."""
    return _EPOCH + timedelta(milliseconds=value)


def version(at: datetime, commit_number: int = 0, sequence: int = 0) -> str:
    """The sortable version of a record state (see the module docstring)."""
    epoch_ms = (at - _EPOCH) // timedelta(milliseconds=1)
    if not 0 <= epoch_ms < 10**15 or not 0 <= commit_number < 10**20 or not 0 <= sequence < 10**6:
        raise Unmappable(ParkReason.INVALID_VALUE, f"modification time {at} is out of range")
    return f"{epoch_ms:015d}{commit_number:020d}{sequence:06d}"


def key15(record_id: str) -> str:
    """The case-sensitive 15-character form of an 18-character id (identity of a record)."""
    return record_id[:15]


def reference(record: Record, field: str, prefix: str) -> str | None:
    """The id in `field` when it points at an object of `prefix` (WhatId may be either)."""
    value = text(record, field)
    return value if value is not None and value.startswith(prefix) else None


def account_of(record: Record) -> str | None:
    """The record's account: AccountId, else a WhatId that is an account."""
    return reference(record, "AccountId", ACCOUNT) or reference(record, "WhatId", ACCOUNT)


def contact_of(record: Record) -> str | None:
    """The contact a task or event is with (WhoId; a lead is not a contact)."""
    return reference(record, "WhoId", CONTACT)


def opportunity_of(record: Record) -> str | None:
    """The opportunity a task or event is about (WhatId)."""
    return reference(record, "WhatId", OPPORTUNITY)


def modified_at(record: Record) -> datetime | None:
    """When the record was last changed by a user (LastModifiedDate, else SystemModstamp)."""
    return moment(record, "LastModifiedDate") or moment(record, "SystemModstamp")


def stamp_of(record: Record) -> datetime | None:
    """The record's modification stamp, for ordering its states (SystemModstamp first)."""
    return moment(record, "SystemModstamp") or moment(record, "LastModifiedDate")
