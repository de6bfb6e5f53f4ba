"""Wire formats shared by every response: money strings and UTC timestamps with an offset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import BaseModel

from services.api.schemas import MONEY_PATTERN, Money, Timestamp, money_text, to_utc


class _Sample(BaseModel):
    amount: Money
    at: Timestamp
    maybe: Timestamp | None = None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal(0), "0.00"),
        (Decimal("12.5"), "12.50"),
        (Decimal("1E+3"), "1000.00"),
        (Decimal("-3.10"), "-3.10"),
        (Decimal("9999999999999999.99"), "9999999999999999.99"),
    ],
)
def test_money_text(value: Decimal, text: str) -> None:
    assert money_text(value) == text
    assert re.fullmatch(MONEY_PATTERN, text)


def test_json_uses_exact_strings_and_explicit_offsets() -> None:
    local = datetime(2026, 1, 5, 4, 30, tzinfo=timezone(timedelta(hours=-5)))
    sample = _Sample(amount=Decimal("10000"), at=local)
    assert sample.model_dump(mode="json") == {
        "amount": "10000.00",
        "at": "2026-01-05T09:30:00+00:00",
        "maybe": None,
    }
    assert sample.model_dump()["amount"] == Decimal("10000")


def test_response_schema_documents_the_wire_format() -> None:
    schema = _Sample.model_json_schema(mode="serialization")
    assert schema["properties"]["amount"]["type"] == "string"
    assert schema["properties"]["amount"]["pattern"] == MONEY_PATTERN
    assert schema["properties"]["at"]["format"] == "date-time"


def test_to_utc_converts_and_refuses_overflow() -> None:
    local = datetime(2026, 1, 5, 4, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert to_utc(local) == local
    assert to_utc(local).tzinfo is UTC
    with pytest.raises(ValueError, match="out of range"):
        to_utc(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))
