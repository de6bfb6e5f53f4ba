"""The api application: `create_app(settings)` wires routes, auth, health and metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio.to_thread
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.api.alerts.routes import router as alerts_router
from services.api.deps import ApiKeyDep
from services.api.errors import UNAUTHORIZED, InvalidParam, invalid_param_handler
from services.api.opportunities.routes import router as opportunities_router
from services.api.reps.routes import router as reps_router
from services.api.settings import ApiSettings
from services.api.telemetry import RequestMetricsMiddleware
from shared.clock import Clock, WallClock
from shared.db.engine import make_engine
from shared.observability import health_router

API_VERSION = "1.0.0"

DESCRIPTION = """\
Read-only gateway to salescoach: alerts and their history, reps' daily activity, and
opportunities. Every `/v1` route needs the API key, in `X-API-Key` or as
`Authorization: Bearer <key>`. Times are ISO 8601 in UTC with an offset; amounts are exact
decimal strings. `/healthz`, `/readyz` and `/metrics` (Prometheus) need no key.
"""

TAGS = [
    {"name": "alerts", "description": "Alerts raised by the rules, with their lifecycle."},
    {"name": "reps", "description": "The org directory and each rep's daily activity."},
    {"name": "opportunities", "description": "Latest opportunity snapshots and their alerts."},
]


def ping_database(engine: Engine) -> bool:
    """Readiness: the database answers `SELECT 1`."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True


async def database_ready(engine: Engine) -> bool:
    """`ping_database` off the event loop."""
    return await anyio.to_thread.run_sync(ping_database, engine)


# Routers carry their full `/v1/...` prefix themselves, so each route's `path` is the whole
# template the request metrics are labelled with.
V1_ROUTERS = (alerts_router, reps_router, opportunities_router)


def create_app(
    settings: ApiSettings, *, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """The application; it disposes of the engine on shutdown only if it made it."""
    database = engine if engine is not None else make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        if engine is None:
            database.dispose()

    app = FastAPI(
        title="salescoach api",
        version=API_VERSION,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = database
    app.state.clock = clock or WallClock()
    app.add_middleware(RequestMetricsMiddleware)
    app.add_exception_handler(InvalidParam, invalid_param_handler)
    app.include_router(health_router({"database": partial(database_ready, database)}))
    for router in V1_ROUTERS:
        app.include_router(router, dependencies=[ApiKeyDep], responses=UNAUTHORIZED)
    return app
