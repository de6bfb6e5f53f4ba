"""HubSpot v3 verification: the published vector, the 5-minute window, the URI rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.hubspot_signature import decode_signed_uri, signature_v3, verify_v3

# HubSpot/hubspot-api-python tests/spec/utils/test_signature.py
SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://www.example.com/webhook_uri"
BODY = b"{'example_field':'example_value'}"
VECTOR = "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
SENT_MS = 15_000_000
SENT = datetime.fromtimestamp(SENT_MS / 1000, UTC)


def check(**overrides: object) -> str | None:
    arguments: dict[str, object] = {
        "method": "POST",
        "uri": URI,
        "body": BODY,
        "timestamp_header": str(SENT_MS),
        "signature_header": VECTOR,
        "now": SENT + timedelta(seconds=30),
    }
    return verify_v3(SECRET, **{**arguments, **overrides})  # type: ignore[arg-type]


def test_the_published_vector_verifies() -> None:
    assert signature_v3(SECRET, "POST", URI, BODY, SENT_MS) == VECTOR
    assert check() is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"body": BODY + b" "}, "does not match"),
        ({"method": "GET"}, "does not match"),
        ({"uri": URI + "/other"}, "does not match"),
        ({"signature_header": VECTOR.lower()}, "does not match"),
        ({"now": SENT + timedelta(minutes=5, seconds=1)}, "more than 5 minutes"),
        ({"now": SENT - timedelta(minutes=6)}, "more than 5 minutes"),
        ({"timestamp_header": None}, "missing"),
        ({"signature_header": ""}, "missing"),
        ({"timestamp_header": "15e6"}, "not epoch milliseconds"),
        ({"timestamp_header": "\u00b2"}, "not epoch milliseconds"),  # isdigit, not int
        ({"timestamp_header": "9" * 400}, "not epoch milliseconds"),  # too large for a float
        ({"timestamp_header": "9" * 5000}, "not epoch milliseconds"),  # over int's digit limit
    ],
)
def test_a_bad_or_stale_request_is_refused_with_its_reason(
    overrides: dict[str, object], reason: str
) -> None:
    refusal = check(**overrides)
    assert refusal is not None and reason in refusal


def test_only_the_listed_escapes_are_decoded_before_signing() -> None:
    assert decode_signed_uri("https://h/p%3Fa%3Db%2c%2A?x=%20%3a") == "https://h/p?a%3Db,*?x=%20:"
    escaped = "https://www.example.com/webhook%3Furi"
    signature = signature_v3(SECRET, "POST", "https://www.example.com/webhook?uri", BODY, SENT_MS)
    assert check(uri=escaped, signature_header=signature) is None
