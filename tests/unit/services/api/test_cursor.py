"""Alert-list cursors round-trip and refuse anything this API did not hand out."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.api.alerts.cursor import AlertCursor, decode_cursor, encode_cursor


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


def test_round_trip_keeps_microseconds_and_is_url_safe() -> None:
    cursor = AlertCursor(datetime(2026, 1, 5, 9, 0, 0, 123456, tzinfo=UTC), "ab" * 16)
    token = encode_cursor(cursor)
    assert decode_cursor(token) == cursor
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_decoded_instant_is_utc_whatever_zone_it_was_encoded_from() -> None:
    local = datetime(2026, 1, 5, 4, 0, tzinfo=timezone(timedelta(hours=-5)))
    decoded = decode_cursor(encode_cursor(AlertCursor(local, "f")))
    assert decoded.updated_at == local
    assert decoded.updated_at.tzinfo is UTC


@given(
    instant=st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    fingerprint=st.text(min_size=1, max_size=64),
)
def test_round_trip_for_any_instant_and_fingerprint(instant: datetime, fingerprint: str) -> None:
    cursor = AlertCursor(instant, fingerprint)
    assert decode_cursor(encode_cursor(cursor)) == cursor


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not base64 !",
        "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        _token({"u": "2026-01-05T09:00:00+00:00", "f": "x"}),
        _token(["2026-01-05T09:00:00+00:00"]),
        _token(["2026-01-05T09:00:00+00:00", 7]),
        _token(["2026-01-05T09:00:00", "naive"]),
        _token(["yesterday", "x"]),
        _token(["2026-01-05T09:00:00+00:00", ""]),
        _token(["2026-01-05T09:00:00+00:00", "x" * 65]),
        _token(["0001-01-01T00:00:00+05:00", "out of range in UTC"]),
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(ValueError, match="cursor"):
        decode_cursor(token)
