"""Prometheus request metrics, labelled by route template so the label set stays bounded."""

from __future__ import annotations

from prometheus_client import Counter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.clock import monotonic
from shared.observability import NAMESPACE, latency_histogram

UNMATCHED_ROUTE = "unmatched"

REQUESTS = Counter(
    "api_requests",
    "HTTP requests answered by the api service.",
    ("route", "method", "status"),
    namespace=NAMESPACE,
)
LATENCY = latency_histogram(
    "api_request_duration", "Time the api service took to answer a request.", ("route", "method")
)


def route_template(scope: Scope) -> str:
    """The matched route's path template (`/v1/alerts/{fingerprint}`), never the raw path."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else UNMATCHED_ROUTE


class RequestMetricsMiddleware:
    """Counts every HTTP request and times it; unknown paths share one label value."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = monotonic()
        status_code = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route, method = route_template(scope), str(scope["method"])
            REQUESTS.labels(route=route, method=method, status=str(status_code)).inc()
            LATENCY.labels(route=route, method=method).observe(monotonic() - started)
