"""Webhook signatures and the injectable clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.clock import ReplayClock, WallClock, make_clock
from shared.settings import ClockMode
from shared.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, signed_headers, verify

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BODY = b'[{"type": "email.sent"}]'


def test_a_fresh_signature_verifies() -> None:
    headers = signed_headers("s3cret", BODY, NOW)
    assert (
        verify(
            "s3cret",
            headers[TIMESTAMP_HEADER],
            headers[SIGNATURE_HEADER],
            BODY,
            NOW + timedelta(seconds=299),
        )
        is None
    )


@pytest.mark.parametrize(
    ("secret", "body", "skew", "reason"),
    [
        ("other", BODY, 0, "signature mismatch"),
        ("s3cret", BODY + b" ", 0, "signature mismatch"),
        ("s3cret", BODY, 301, "timestamp outside the 5-minute window"),
        ("s3cret", BODY, -301, "timestamp outside the 5-minute window"),
    ],
)
def test_refusals_say_why(secret: str, body: bytes, skew: int, reason: str) -> None:
    headers = signed_headers(secret, BODY, NOW)
    verdict = verify(
        "s3cret",
        headers[TIMESTAMP_HEADER],
        headers[SIGNATURE_HEADER],
        body,
        NOW + timedelta(seconds=skew),
    )
    assert verdict == reason


def test_missing_or_garbled_headers_are_refused() -> None:
    assert verify("s", None, None, BODY, NOW) == "missing signature headers"
    assert verify("s", "soon", sign("s", 1, BODY), BODY, NOW) == "timestamp is not an integer"


def test_signature_covers_the_timestamp() -> None:
    assert sign("s", 1000, BODY) != sign("s", 1001, BODY)


def test_replay_clock_is_the_event_time_watermark_and_never_goes_back() -> None:
    clock = ReplayClock()
    assert not clock.started
    clock.observe(NOW)
    clock.observe(NOW - timedelta(days=3))  # a late event does not move time backwards
    assert clock.now() == NOW and clock.started
    clock.observe(NOW + timedelta(hours=1))
    assert clock.now() == NOW + timedelta(hours=1)


def test_settings_pick_the_clock() -> None:
    assert isinstance(make_clock(ClockMode.LIVE), WallClock)
    assert isinstance(make_clock(ClockMode.REPLAY), ReplayClock)
