"""HMAC-SHA256 request signatures for the canonical webhook.

The sender signs `v1:{timestamp}:{raw body}` with the shared secret and sends
`X-Salescoach-Timestamp: <unix seconds>` and `X-Salescoach-Signature: v1=<hex digest>`.
The receiver refuses timestamps more than five minutes from its clock (replays) and
compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

TIMESTAMP_HEADER = "X-Salescoach-Timestamp"
SIGNATURE_HEADER = "X-Salescoach-Signature"
WINDOW_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value for this body at this timestamp."""
    mac = hmac.new(secret.encode(), b"v1:%d:" % timestamp + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, body: bytes, now: datetime) -> dict[str, str]:
    """Headers a sender adds to a request carrying `body`."""
    timestamp = int(now.timestamp())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secret: str,
    timestamp_header: str | None,
    signature_header: str | None,
    body: bytes,
    now: datetime,
    window_seconds: int = WINDOW_SECONDS,
) -> str | None:
    """None when the signature is valid and fresh, else the reason it is refused."""
    if not timestamp_header or not signature_header:
        return "missing signature headers"
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return "timestamp is not an integer"
    if abs(now.timestamp() - timestamp) > window_seconds:
        return "timestamp outside the 5-minute window"
    expected = sign(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature_header.strip().encode()):
        return "signature mismatch"
    return None
