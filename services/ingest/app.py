"""Build the ingest FastAPI app: routes, health endpoints, and the sink's lifecycle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.ingest.adapters.base import Adapter
from services.ingest.adapters.registry import build_adapters
from services.ingest.deps import IngestContext
from services.ingest.mapping import MappingSource
from services.ingest.metrics import declare_vendors
from services.ingest.openapi import install_openapi
from services.ingest.producer import EventSink, KafkaEventSink
from services.ingest.routes import events
from services.ingest.routes.webhooks import webhook_router
from services.ingest.settings import IngestSettings
from shared.clock import Clock, WallClock
from shared.observability import health_router


def create_app(
    settings: IngestSettings,
    *,
    sink: EventSink | None = None,
    clock: Clock | None = None,
    adapters: Sequence[Adapter] | None = None,
) -> FastAPI:
    """The ingest app; by default it produces to Kafka and checks times on the wall clock."""
    if sink is None:
        sink = KafkaEventSink(settings, timeout_seconds=settings.ingest_send_timeout_seconds)
    if adapters is None:
        adapters = build_adapters(settings)
    mapping = MappingSource(settings.ingest_mapping_file)
    mapping.current()  # an unreadable or invalid mapping file stops the start, naming why
    # Signature age and future skew are wall-time checks even when the pipeline replays.
    context = IngestContext(
        settings=settings, sink=sink, clock=clock or WallClock(), mapping=mapping
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await context.sink.start()
        for adapter in adapters:
            await adapter.start()
        try:
            yield
        finally:
            for adapter in adapters:
                await adapter.stop()
            await context.sink.stop()

    app = FastAPI(
        title="salescoach ingest",
        version="1",
        description="Canonical SalesEvents and CRM webhooks (Salesforce, HubSpot, Pipedrive) "
        "in; Kafka `sales.events` out, keyed by rep; unmappable items on `sales.events.dlq`.",
        lifespan=lifespan,
    )
    app.state.ingest = context
    app.include_router(events.router)
    app.include_router(webhook_router(adapters))
    app.include_router(health_router({"producer": context.sink.ready}))
    install_openapi(app, max_batch=settings.ingest_max_batch)
    declare_vendors(events.VENDOR, *(adapter.vendor for adapter in adapters))
    return app
