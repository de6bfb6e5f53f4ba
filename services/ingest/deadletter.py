"""Dead letters of ingest: an authenticated item that could not be mapped, kept for replay.

Wire format on `sales.events.dlq` (JSON, keyed by vendor)::

    {"stage": "ingest", "vendor": "salesforce", "reason": "unknown_user",
     "detail": "user 0058W… is not in the mapping (salesforce.users)",
     "received_at": "2026-12-04T13:00:00+00:00", "attempts": 1, "item": {…}}

`item` is the vendor's own data for the item, as the adapter parsed it (and hydrated it),
which is what `replay-dlq` maps again once the mapping is fixed. An item over 256 KiB of
JSON (a body near INGEST_MAX_BODY_BYTES) is kept as `{"truncated": true, "bytes": n,
"excerpt": …}` instead: whole, it would not fit the broker's message size, and a letter the
broker refuses would turn into a 503 the CRM retries forever. The metrics service writes
entries of its own to the same topic with `"stage": "metrics"`; replay leaves those alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field

from services.ingest.adapters.base import Item, ParkReason

STAGE = "ingest"


class DeadLetter(BaseModel):
    """One parked item."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    stage: Literal["ingest"] = "ingest"
    vendor: str
    reason: ParkReason
    detail: str
    received_at: datetime
    attempts: int = Field(default=1, ge=1)
    item: dict[str, Any]

    def to_json(self) -> bytes:
        return orjson.dumps(self.model_dump(mode="json"))

    def key(self) -> bytes:
        return self.vendor.encode()

    def again(self, reason: ParkReason, detail: str) -> DeadLetter:
        """This entry parked once more, after a replay that still could not map it."""
        return self.model_copy(
            update={"reason": reason, "detail": detail, "attempts": self.attempts + 1}
        )


MAX_ITEM_BYTES = 256 * 1024
_EXCERPT_CHARS = 4096


def dead_letter(
    vendor: str, reason: ParkReason, detail: str, item: Item, received_at: datetime
) -> DeadLetter:
    return DeadLetter(
        vendor=vendor, reason=reason, detail=detail, received_at=received_at, item=_kept(item)
    )


def _kept(item: Item) -> Item:
    """The item, or an excerpt of it when it is too large to park whole."""
    raw = orjson.dumps(item, default=str)
    if len(raw) <= MAX_ITEM_BYTES:
        return item
    excerpt = raw[:_EXCERPT_CHARS].decode("utf-8", errors="replace")
    return {"truncated": True, "bytes": len(raw), "excerpt": excerpt}


def parse_dead_letter(raw: bytes) -> DeadLetter | None:
    """The ingest dead letter in `raw`, or None for another stage's entry or unreadable bytes."""
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(document, dict) or document.get("stage") != STAGE:
        return None
    try:
        return DeadLetter.model_validate(document)
    except ValueError:
        return None
