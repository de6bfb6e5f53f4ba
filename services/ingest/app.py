"""Build the ingest FastAPI app: routes, health endpoints, and the sink's lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.ingest.deps import IngestContext
from services.ingest.metrics import declare_routes
from services.ingest.openapi import install_openapi
from services.ingest.producer import EventSink, KafkaEventSink
from services.ingest.routes import events
from services.ingest.settings import IngestSettings
from shared.clock import Clock, WallClock
from shared.observability import health_router


def create_app(
    settings: IngestSettings, *, sink: EventSink | None = None, clock: Clock | None = None
) -> FastAPI:
    """The ingest app; by default it produces to Kafka and checks times on the wall clock."""
    if sink is None:
        sink = KafkaEventSink(settings, timeout_seconds=settings.ingest_send_timeout_seconds)
    # Signature age and future skew are wall-time checks even when the pipeline replays.
    context = IngestContext(settings=settings, sink=sink, clock=clock or WallClock())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await context.sink.start()
        try:
            yield
        finally:
            await context.sink.stop()

    app = FastAPI(
        title="salescoach ingest",
        version="1",
        description="Signed canonical SalesEvents in; Kafka `sales.events` out, keyed by rep.",
        lifespan=lifespan,
    )
    app.state.ingest = context
    app.include_router(events.router)
    app.include_router(health_router({"producer": context.sink.ready}))
    install_openapi(app, max_batch=settings.ingest_max_batch)
    declare_routes(events.ROUTE)
    return app
