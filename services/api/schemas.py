"""Field types every response shares: money as exact strings, timestamps with an offset."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    PlainSerializer,
    WithJsonSchema,
)

MONEY_PATTERN = r"^-?\d+\.\d{2}$"
CENT = Decimal("0.01")
CALENDAR_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def money_text(value: Decimal) -> str:
    """Two decimal places, never exponent notation: `Decimal('1E+3')` -> `'1000.00'`."""
    return f"{value.quantize(CENT):f}"


def utc_isoformat(value: datetime) -> str:
    """ISO 8601 with an explicit `+00:00` offset."""
    return value.astimezone(UTC).isoformat()


def parse_instant(value: object) -> object:
    """An ISO 8601 string as a datetime; refuses what pydantic would otherwise take as a
    Unix timestamp (`since=0.5`)."""
    if not isinstance(value, str):
        return value
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError("expected an ISO 8601 date-time with an offset") from exc


def parse_calendar_date(value: object) -> object:
    """A `YYYY-MM-DD` string as a date; nothing else (no timestamps, no week dates)."""
    if not isinstance(value, str):
        return value
    if not CALENDAR_DATE.fullmatch(value):
        raise ValueError("expected a date as YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{value} is not a calendar date") from exc


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC; refuses instants outside the years 1..9999 once in UTC."""
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("datetime is out of range once converted to UTC") from exc


# Amounts are exact decimal strings (Numeric(18, 2) does not fit a float's 15-16 digits).
Money = Annotated[
    Decimal,
    PlainSerializer(money_text, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONEY_PATTERN,
            "description": "An exact decimal amount as a string with two decimals.",
            "examples": ["12500.00"],
        },
        mode="serialization",
    ),
]

Timestamp = Annotated[
    AwareDatetime,
    PlainSerializer(utc_isoformat, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "description": "ISO 8601 in UTC with an explicit offset.",
            "examples": ["2026-01-05T09:30:00+00:00"],
        },
        mode="serialization",
    ),
]

# Query-parameter types. An instant must carry an offset and is compared in UTC.
UtcInstant = Annotated[AwareDatetime, BeforeValidator(parse_instant), AfterValidator(to_utc)]
CalendarDate = Annotated[date, BeforeValidator(parse_calendar_date)]
