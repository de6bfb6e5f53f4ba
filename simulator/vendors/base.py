"""What every vendor formatter produces: HTTP deliveries, signed at send time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# A canonical event as the simulator writes it: the SalesEvent wire JSON, parsed.
CanonicalEvent = Mapping[str, Any]

# Org-directory events come from the HR system, not the CRM: they always go to the canonical
# endpoint, whatever CRM the org uses.
DIRECTORY_TYPES = frozenset({"rep.upserted", "rep.departed", "pto.set", "goal.set"})


@dataclass(frozen=True)
class Delivery:
    """One HTTP request a CRM would send to ingest."""

    path: str  # e.g. "/v1/webhooks/salesforce"
    body: bytes
    content_type: str
    identity: str  # the vendor's delivery identity; a duplicate delivery repeats it
    occurred_at: datetime  # event time of the newest event in it, for pacing a replay
    # Records the vendor's own API must serve before ingest can hydrate this delivery
    # (HubSpot engagements arrive as ids only). Each: {"object_type": ..., "id": ..., ...}.
    records: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)


class VendorFormatter(Protocol):
    """Turns canonical CRM events into the vendor's webhook deliveries."""

    vendor: str

    def accepts(self, event: CanonicalEvent) -> bool:
        """Whether this CRM would send the event (directory events never are)."""
        ...

    def format(self, events: Sequence[CanonicalEvent]) -> list[Delivery]:
        """Deliveries for events (all accepted, in event-time order), batched as the vendor does."""
        ...

    def sign(self, delivery: Delivery, *, url: str, now: datetime) -> dict[str, str]:
        """Auth and signature headers for sending `delivery` to `url` at wall time `now`."""
        ...
