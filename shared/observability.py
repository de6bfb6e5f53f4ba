"""Health, readiness and Prometheus endpoints, the same on every service.

`/healthz`: the process is alive. `/readyz`: its dependencies answer (503 with the failing
checks otherwise). `/metrics`: Prometheus text format from the process's default registry.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

ReadyCheck = Callable[[], bool | Awaitable[bool]]

NAMESPACE = "salescoach"

# Latency buckets from 1 ms to 10 s: webhook handling and Slack/SMTP calls both fit.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def latency_histogram(name: str, documentation: str, labels: tuple[str, ...] = ()) -> Histogram:
    """A `<namespace>_<name>_seconds` histogram with the project's buckets."""
    return Histogram(
        f"{name}_seconds", documentation, labels, namespace=NAMESPACE, buckets=LATENCY_BUCKETS
    )


async def run_checks(checks: Mapping[str, ReadyCheck]) -> dict[str, bool]:
    """Run every readiness check; a check that raises counts as failed."""
    results: dict[str, bool] = {}
    for name, check in checks.items():
        try:
            outcome = check()
            results[name] = bool(await outcome if inspect.isawaitable(outcome) else outcome)
        except Exception:
            results[name] = False
    return results


def health_router(checks: Mapping[str, ReadyCheck]) -> APIRouter:
    """Routes for /healthz, /readyz and /metrics, excluded from the OpenAPI schema."""
    router = APIRouter(include_in_schema=False)

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        results = await run_checks(checks)
        ready = all(results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": results},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
