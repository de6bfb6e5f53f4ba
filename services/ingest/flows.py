"""The one place that combines the pure intake checks with the event sink."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from services.ingest.intake import (
    Limits,
    authenticate,
    distinct,
    parse_events,
    require_json,
)
from services.ingest.metrics import record_produced
from services.ingest.models import Accepted
from services.ingest.producer import EventSink, SinkUnavailable
from services.ingest.settings import IngestSettings
from services.ingest.webhooks import unavailable


def limits_for(settings: IngestSettings) -> Limits:
    """The request limits configured for this process."""
    return Limits(max_batch=settings.ingest_max_batch, max_future_skew=settings.max_future_skew)


async def ingest(
    body: bytes,
    headers: Mapping[str, str],
    *,
    settings: IngestSettings,
    sink: EventSink,
    now: datetime,
) -> Accepted:
    """Authenticate, validate and produce one request body; raises `Refused` otherwise.

    `now` is wall time: it bounds the signature's age and how far in the future an event
    may be, whichever clock the rest of the pipeline runs on.
    """
    authenticate(settings.ingest_secret, headers, body, now)
    require_json(headers.get("content-type"))
    events = parse_events(body, limits=limits_for(settings), now=now)
    unique = distinct(events)
    try:
        await sink.send(unique)
    except SinkUnavailable as exc:
        raise unavailable("events were not stored", exc) from exc
    record_produced("canonical", unique)
    return Accepted(accepted=len(events), event_ids=[event.event_id for event in events])
