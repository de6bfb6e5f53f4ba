"""The canonical JSON endpoint (`POST /v1/events`): signed batches of SalesEvents."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime

import orjson

from shared.signing import signed_headers
from simulator.vendors.base import CanonicalEvent, Delivery

PATH = "/v1/events"
MAX_BATCH = 500  # ingest accepts up to 1000 by default; stay well under it


class CanonicalJsonFormatter:
    """Every event, CRM or directory, as the canonical JSON ingest natively speaks."""

    vendor = "canonical"

    def __init__(self, *, secret: str, max_batch: int = MAX_BATCH) -> None:
        self._secret = secret
        self.max_batch = max_batch

    def accepts(self, event: CanonicalEvent) -> bool:  # noqa: ARG002 - every event is welcome
        return True

    def format(self, events: Sequence[CanonicalEvent]) -> list[Delivery]:
        deliveries = []
        for first in range(0, len(events), self.max_batch):
            batch = events[first : first + self.max_batch]
            newest = max(datetime.fromisoformat(str(e["occurred_at"])) for e in batch)
            deliveries.append(batch_delivery([orjson.dumps(e) for e in batch], newest))
        return deliveries

    def sign(self, delivery: Delivery, *, url: str, now: datetime) -> dict[str, str]:  # noqa: ARG002
        return signed_headers(self._secret, delivery.body, now)


def batch_delivery(lines: Sequence[bytes], newest: datetime) -> Delivery:
    """One batch from already-serialised events (the stream's lines, never re-parsed)."""
    body = b"[" + b",".join(lines) + b"]"
    return Delivery(
        path=PATH,
        body=body,
        content_type="application/json",
        identity=hashlib.sha256(body).hexdigest()[:32],
        occurred_at=newest,
    )
