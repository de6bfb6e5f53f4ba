"""Prometheus metrics of ingest and the one function that records a handled request."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import Counter

from services.ingest.models import Outcome
from shared.events import EventType, SalesEvent
from shared.logging import get_logger
from shared.observability import NAMESPACE, latency_histogram

log = get_logger(__name__)

REQUESTS = Counter(
    "ingest_requests",
    "Requests to ingest by route and outcome.",
    ("route", "outcome"),
    namespace=NAMESPACE,
)
EVENTS_PRODUCED = Counter(
    "ingest_events_produced",
    "Events acknowledged by the broker, by event type.",
    ("type",),
    namespace=NAMESPACE,
)
REQUEST_LATENCY = latency_histogram(
    "ingest_request_duration", "Time to answer an ingest request, by route.", ("route",)
)


def declare_routes(*routes: str) -> None:
    """Export every (route, outcome) series at zero, so rates exist before the first hit."""
    for route in routes:
        REQUEST_LATENCY.labels(route=route)
        for outcome in Outcome:
            REQUESTS.labels(route=route, outcome=outcome.value)


def record_request(
    route: str, outcome: Outcome, *, status: int, count: int, seconds: float, reason: str = ""
) -> None:
    """Count, time and log one answered request (never its headers or body)."""
    REQUESTS.labels(route=route, outcome=outcome.value).inc()
    REQUEST_LATENCY.labels(route=route).observe(seconds)
    log.info(
        "ingest request",
        route=route,
        outcome=outcome.value,
        status=status,
        count=count,
        duration_ms=round(seconds * 1000, 1),
        reason=reason or None,
    )


def record_produced(events: Iterable[SalesEvent]) -> None:
    """Count events the broker acknowledged."""
    for event in events:
        EVENTS_PRODUCED.labels(type=event.type.value).inc()


for _type in EventType:
    EVENTS_PRODUCED.labels(type=_type.value)
