"""The one place that runs a vendor adapter's steps against the mapping and the sink.

Nothing is acknowledged that is not stored: events and dead letters are produced (and
acknowledged by the broker) before the adapter commits its state and the vendor gets its
2xx. A dependency that is down (the broker, the vendor API, the state store) gives 503 with
Retry-After, which Salesforce, HubSpot and Pipedrive all retry; the deterministic event ids
make the retried delivery's events duplicates downstream dedupes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.ingest.adapters.base import (
    Adapter,
    Ignored,
    Item,
    ItemResult,
    Mapped,
    Parked,
    ParkReason,
    Receipt,
    Unavailable,
    Unmappable,
    WebhookRequest,
)
from services.ingest.deadletter import DeadLetter, dead_letter
from services.ingest.intake import distinct, refuse
from services.ingest.mapping import MappingConfig
from services.ingest.metrics import record_dispositions, record_produced
from services.ingest.models import Outcome
from services.ingest.producer import EventSink, SinkUnavailable
from shared.events import SalesEvent
from shared.logging import get_logger

log = get_logger(__name__)

RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class Disposition:
    """What became of a request's items: events to produce, letters to park, items dropped."""

    events: list[SalesEvent]
    letters: list[DeadLetter]
    parked: list[Parked]
    ignored: list[Ignored]


def map_item(
    adapter: Adapter, item: Item, mapping: MappingConfig, *, horizon: datetime | None = None
) -> ItemResult:
    """The adapter's result for one item, parked when it has an event later than `horizon`.

    An adapter bug parks the item too, instead of answering 5xx.
    """
    try:
        result = adapter.map(item, mapping)
    except Unmappable as exc:
        return Parked(exc.reason, exc.detail)
    except Exception as exc:
        log.error("adapter failed on an item", vendor=adapter.vendor, exc_info=True)
        return Parked(ParkReason.ADAPTER_ERROR, f"{type(exc).__name__} while mapping")
    if isinstance(result, Mapped) and horizon is not None:
        for event in result.events:
            if event.occurred_at > horizon:
                at = event.occurred_at.isoformat()
                return Parked(ParkReason.FUTURE_EVENT, f"occurred_at {at} is in the future")
    return result


def dispose(
    adapter: Adapter,
    items: Sequence[Item],
    mapping: MappingConfig,
    *,
    received_at: datetime,
    max_future_skew: timedelta,
) -> Disposition:
    """Map every item; park the unmappable ones and events too far in the future."""
    events: list[SalesEvent] = []
    letters: list[DeadLetter] = []
    parked: list[Parked] = []
    ignored: list[Ignored] = []
    horizon = received_at + max_future_skew
    for item in items:
        result = map_item(adapter, item, mapping, horizon=horizon)
        if isinstance(result, Mapped):
            events.extend(result.events)
        elif isinstance(result, Parked):
            parked.append(result)
            letters.append(
                dead_letter(adapter.vendor, result.reason, result.detail, item, received_at)
            )
        else:
            ignored.append(result)
    return Disposition(events, letters, parked, ignored)


def unavailable(what: str, exc: Exception) -> Exception:
    """503 + Retry-After: nothing was acknowledged, the vendor should send it again."""
    return refuse(
        503,
        Outcome.UNAVAILABLE,
        f"{what}, retry later: {exc}",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def receive(
    adapter: Adapter,
    request: WebhookRequest,
    *,
    mapping: MappingConfig,
    sink: EventSink,
    max_batch: int,
    max_future_skew: timedelta,
) -> Receipt:
    """Authenticate, parse, map and store one webhook request; raises `Refused` otherwise."""
    adapter.authenticate(request)
    items = adapter.parse(request)
    if len(items) > max_batch:
        raise refuse(413, Outcome.TOO_LARGE, f"{len(items)} items is over the limit of {max_batch}")
    async with adapter.exclusive(items):
        outcome = await _store(adapter, items, mapping, sink, request.received_at, max_future_skew)
    return Receipt(
        events=tuple(outcome.events),
        parked=tuple(outcome.parked),
        ignored=tuple(outcome.ignored),
        items=len(items),
    )


async def _store(
    adapter: Adapter,
    items: list[Item],
    mapping: MappingConfig,
    sink: EventSink,
    received_at: datetime,
    max_future_skew: timedelta,
) -> Disposition:
    """Enrich, map, produce and commit the items of one request."""
    try:
        items = await adapter.enrich(items)
    except Unavailable as exc:
        raise unavailable(f"{adapter.vendor} records could not be loaded", exc) from exc
    outcome = dispose(
        adapter, items, mapping, received_at=received_at, max_future_skew=max_future_skew
    )
    unique = distinct(outcome.events)
    try:
        await sink.send(unique)
        await sink.park(outcome.letters)
    except SinkUnavailable as exc:
        raise unavailable("events were not stored", exc) from exc
    record_produced(adapter.vendor, unique)
    record_dispositions(adapter.vendor, outcome.parked, outcome.ignored)
    try:
        await adapter.commit(items)
    except Unavailable as exc:
        # The events are stored; the retry maps to the same ids, so answering 503 costs
        # only duplicates downstream dedupes, while a lost commit would repeat changes.
        raise unavailable(f"{adapter.vendor} state was not saved", exc) from exc
    return outcome
