"""HubSpot webhook signatures (v1, v2, v3), computed and verified exactly as HubSpot specifies.

v3 (`X-HubSpot-Signature-v3`, `X-HubSpot-Request-Timestamp` in epoch ms): base64 of
HMAC-SHA256(client secret, METHOD + URI + raw body + timestamp), where the URI is the full URL
HubSpot called with only `%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B` decoded; requests
older than 5 minutes are refused. v1: hex SHA-256(secret + body). v2: hex SHA-256(secret +
METHOD + URI + body). Shared by the simulator (signing) and ingest (verifying).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import datetime

MAX_AGE_MS = 300_000  # HubSpot's SDKs refuse requests older than 5 minutes
_URI_ESCAPES = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
_URI_ESCAPE = re.compile("|".join(_URI_ESCAPES), re.IGNORECASE)


def decode_signed_uri(uri: str) -> str:
    """The URI as HubSpot signs it: only the listed %-escapes decoded, in one pass."""
    return _URI_ESCAPE.sub(lambda match: _URI_ESCAPES[match.group(0).upper()], uri)


def signature_v3(
    secret: str, method: str, uri: str, body: bytes | str, timestamp_ms: int | str
) -> str:
    """X-HubSpot-Signature-v3: base64(HMAC-SHA256(secret, METHOD + URI + body + timestamp))."""
    message = method.encode() + decode_signed_uri(uri).encode() + _utf8(body)
    digest = hmac.new(secret.encode(), message + str(timestamp_ms).encode(), hashlib.sha256)
    return base64.b64encode(digest.digest()).decode()


def signature_v1(secret: str, body: bytes | str) -> str:
    """X-HubSpot-Signature, version v1: hex(SHA-256(secret + body))."""
    return hashlib.sha256(secret.encode() + _utf8(body)).hexdigest()


def signature_v2(secret: str, method: str, uri: str, body: bytes | str) -> str:
    """X-HubSpot-Signature, version v2: hex(SHA-256(secret + METHOD + URI + body))."""
    return hashlib.sha256((secret + method + uri).encode() + _utf8(body)).hexdigest()


def verify_v3(
    secret: str,
    *,
    method: str,
    uri: str,
    body: bytes,
    timestamp_header: str | None,
    signature_header: str | None,
    now: datetime,
) -> str | None:
    """None when the v3 signature is valid and fresh, else the reason it is refused."""
    if not timestamp_header or not signature_header:
        return "missing X-HubSpot-Signature-v3 or X-HubSpot-Request-Timestamp"
    # ASCII digits only ("²".isdigit() is true, int("²") fails), and few enough for a float.
    digits = timestamp_header.isascii() and timestamp_header.isdigit()
    if not digits or len(timestamp_header) > 20:
        return "X-HubSpot-Request-Timestamp is not epoch milliseconds"
    age_ms = now.timestamp() * 1000 - int(timestamp_header)
    if abs(age_ms) > MAX_AGE_MS:
        return "X-HubSpot-Request-Timestamp is more than 5 minutes from now"
    expected = signature_v3(secret, method, uri, body, timestamp_header)
    if not hmac.compare_digest(expected.encode(), signature_header.encode()):
        return "X-HubSpot-Signature-v3 does not match"
    return None


def _utf8(text: bytes | str) -> bytes:
    return text if isinstance(text, bytes) else text.encode()
