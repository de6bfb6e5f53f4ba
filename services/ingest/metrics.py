"""Prometheus metrics of ingest and the functions that record a handled request.

Every label set is bounded: `vendor` is one of the routes' vendors, `outcome` one of
`Outcome`, `reason` one of `ParkReason` / `IgnoreReason`, `type` one of `EventType`.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from typing import Any

from prometheus_client import Counter

from services.ingest.adapters.base import Ignored, IgnoreReason, Parked, ParkReason
from services.ingest.models import Outcome
from shared.events import EventType, SalesEvent
from shared.logging import get_logger
from shared.observability import NAMESPACE, latency_histogram

log = get_logger(__name__)

REQUESTS = Counter(
    "ingest_requests",
    "Requests to ingest by vendor (route) and outcome.",
    ("vendor", "outcome"),
    namespace=NAMESPACE,
)
EVENTS_PRODUCED = Counter(
    "ingest_events_produced",
    "Events acknowledged by the broker, by vendor and event type.",
    ("vendor", "type"),
    namespace=NAMESPACE,
)
DEAD_LETTERS = Counter(
    "ingest_dead_letters",
    "Authenticated items parked on the dead-letter topic, by vendor and reason.",
    ("vendor", "reason"),
    namespace=NAMESPACE,
)
IGNORED = Counter(
    "ingest_items_ignored",
    "Items understood and deliberately dropped (untracked objects, stale snapshots).",
    ("vendor", "reason"),
    namespace=NAMESPACE,
)
REQUEST_LATENCY = latency_histogram(
    "ingest_request_duration", "Time to answer an ingest request, by vendor.", ("vendor",)
)
HYDRATION_CALLS = Counter(
    "ingest_hydration_calls",
    "Calls to a vendor API to load records a webhook only names, by vendor and outcome "
    "(ok, not_found, throttled, error).",
    ("vendor", "outcome"),
    namespace=NAMESPACE,
)
HYDRATION_FAILURES = Counter(
    "ingest_hydration_failures",
    "Hydrations given up after every retry (the request was answered 503).",
    ("vendor",),
    namespace=NAMESPACE,
)
HYDRATION_LATENCY = latency_histogram(
    "ingest_hydration_duration", "Time of one vendor API call, by vendor.", ("vendor",)
)
HYDRATION_OUTCOMES = ("ok", "not_found", "throttled", "error")


# Label children bound once: `labels()` on every request costs more than the request's
# other bookkeeping (benchmarks/ingest_http.py).
_REQUESTS: dict[tuple[str, Outcome], Any] = {}
_LATENCY: dict[str, Any] = {}
_PRODUCED: dict[tuple[str, EventType], Any] = {}


def declare_vendors(*vendors: str) -> None:
    """Export every bounded series at zero, so rates exist before the first hit."""
    for vendor in vendors:
        _LATENCY[vendor] = REQUEST_LATENCY.labels(vendor=vendor)
        for outcome in Outcome:
            _REQUESTS[vendor, outcome] = REQUESTS.labels(vendor=vendor, outcome=outcome.value)
        for event_type in EventType:
            _PRODUCED[vendor, event_type] = EVENTS_PRODUCED.labels(
                vendor=vendor, type=event_type.value
            )
        for reason in ParkReason:
            DEAD_LETTERS.labels(vendor=vendor, reason=reason.value)
        for ignore in IgnoreReason:
            IGNORED.labels(vendor=vendor, reason=ignore.value)


def declare_hydration(vendor: str) -> None:
    """Export the hydration series of a vendor whose webhooks are hydrated."""
    HYDRATION_LATENCY.labels(vendor=vendor)
    HYDRATION_FAILURES.labels(vendor=vendor)
    for outcome in HYDRATION_OUTCOMES:
        HYDRATION_CALLS.labels(vendor=vendor, outcome=outcome)


def record_request(
    vendor: str,
    outcome: Outcome,
    *,
    status: int,
    count: int,
    seconds: float,
    reason: str = "",
    parked: int = 0,
    ignored: int = 0,
) -> None:
    """Count, time and log one answered request (never its headers or body).

    Refusals and requests with parked items are logged at INFO; plain acceptances at DEBUG
    (the counters already have them, and a log line costs as much as the Kafka send).
    """
    requests = _REQUESTS.get((vendor, outcome))
    if requests is None:
        requests = _REQUESTS[vendor, outcome] = REQUESTS.labels(vendor=vendor, outcome=outcome)
    requests.inc()
    latency = _LATENCY.get(vendor)
    if latency is None:
        latency = _LATENCY[vendor] = REQUEST_LATENCY.labels(vendor=vendor)
    latency.observe(seconds)
    quiet = outcome is Outcome.ACCEPTED and not parked
    (log.debug if quiet else log.info)(
        "ingest request",
        vendor=vendor,
        outcome=outcome.value,
        status=status,
        count=count,
        parked=parked or None,
        ignored=ignored or None,
        duration_ms=round(seconds * 1000, 1),
        reason=reason or None,
    )


def record_produced(vendor: str, events: Iterable[SalesEvent]) -> None:
    """Count events the broker acknowledged, one increment per type."""
    for event_type, count in Tally(event.type for event in events).items():
        produced = _PRODUCED.get((vendor, event_type))
        if produced is None:
            produced = EVENTS_PRODUCED.labels(vendor=vendor, type=event_type.value)
            _PRODUCED[vendor, event_type] = produced
        produced.inc(count)


def record_dispositions(vendor: str, parked: Iterable[Parked], ignored: Iterable[Ignored]) -> None:
    """Count parked and ignored items once the dead letters are acknowledged."""
    for letter in parked:
        DEAD_LETTERS.labels(vendor=vendor, reason=letter.reason.value).inc()
        log.warning("item parked", vendor=vendor, reason=letter.reason.value, detail=letter.detail)
    for item in ignored:
        IGNORED.labels(vendor=vendor, reason=item.reason.value).inc()
