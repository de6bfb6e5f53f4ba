"""Opaque keyset cursors for the alert list: the (updated_at, fingerprint) of the last item."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from services.api.params import FINGERPRINT_MAX_LENGTH


@dataclass(frozen=True)
class AlertCursor:
    """Position after which the next page starts (ordering: updated_at desc, fingerprint asc)."""

    updated_at: datetime
    fingerprint: str


def encode_cursor(cursor: AlertCursor) -> str:
    """URL-safe text for `next_cursor`; clients pass it back unchanged."""
    payload = [cursor.updated_at.astimezone(UTC).isoformat(), cursor.fingerprint]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(token: str) -> AlertCursor:
    """The cursor inside `token`; ValueError if it is not one this API handed out."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("cursor is not one this API returned") from exc
    if not (
        isinstance(payload, list)
        and len(payload) == 2
        and all(isinstance(part, str) for part in payload)
    ):
        raise ValueError("cursor is not one this API returned")
    updated_at_text, fingerprint = payload
    if not 0 < len(fingerprint) <= FINGERPRINT_MAX_LENGTH:
        raise ValueError("cursor is not one this API returned")
    return AlertCursor(updated_at=_parse_instant(updated_at_text), fingerprint=fingerprint)


def _parse_instant(text: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text)
        if instant.tzinfo is None:
            raise ValueError("naive")
        return instant.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError("cursor is not one this API returned") from exc
