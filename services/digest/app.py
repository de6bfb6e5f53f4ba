"""The digest service's FastAPI app: lifespan runs the alerts consumer and the digest
scheduler; routes are health/readiness/metrics and the admin digest trigger."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.digest import unsubscribe
from services.digest.consumer import AlertConsumer
from services.digest.delivery import AlertDelivery, RetryPolicy
from services.digest.digests import DigestSender
from services.digest.notifiers import Channels, build_channels
from services.digest.routes import router
from services.digest.scheduler import DigestScheduler
from services.digest.settings import DigestSettings
from shared.clock import Clock, make_clock
from shared.db.engine import make_engine
from shared.logging import get_logger
from shared.observability import health_router

log = get_logger(__name__)

SHUTDOWN_GRACE_SECONDS = 10.0


def database_answers(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return True


@dataclass(frozen=True)
class Components:
    """The long-lived parts of one digest process."""

    engine: Engine
    consumer: AlertConsumer
    sender: DigestSender
    scheduler: DigestScheduler


def build_components(
    settings: DigestSettings, *, clock: Clock, channels: Channels, engine: Engine
) -> Components:
    """Wire the consumer, the digest sender and the scheduler to one clock and engine."""
    retry = RetryPolicy(
        settings.delivery_retry_initial_seconds, settings.delivery_retry_max_seconds
    )
    delivery = AlertDelivery(engine=engine, notifier=channels.alerts, retry=retry)
    sender = DigestSender(engine=engine, email=channels.email, settings=settings, clock=clock)
    return Components(
        engine=engine,
        consumer=AlertConsumer(settings=settings, delivery=delivery, clock=clock, retry=retry),
        sender=sender,
        scheduler=DigestScheduler(
            engine=engine,
            sender=sender,
            clock=clock,
            digest_hour=settings.digest_hour,
            interval_seconds=settings.digest_interval_seconds,
        ),
    )


def create_app(
    settings: DigestSettings,
    *,
    clock: Clock | None = None,
    channels: Channels | None = None,
    engine: Engine | None = None,
) -> FastAPI:
    """The digest app; clock, channels and engine default to what settings describe."""
    parts = build_components(
        settings,
        clock=clock or make_clock(settings.clock_mode),
        channels=channels or build_channels(settings),
        engine=engine or make_engine(settings.database_url),
    )

    async def database_ready() -> bool:
        return await asyncio.to_thread(database_answers, parts.engine)

    def consumer_ready() -> bool:
        return parts.consumer.started

    app = FastAPI(title="Salescoach digest", lifespan=_lifespan(parts))
    app.state.settings = settings
    app.state.sender = parts.sender
    app.state.engine = parts.engine
    app.include_router(health_router({"consumer": consumer_ready, "database": database_ready}))
    app.include_router(router)
    app.include_router(unsubscribe.router)
    return app


def _lifespan(parts: Components) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Run the consumer and the scheduler for as long as the app serves."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        tasks = [
            asyncio.create_task(parts.consumer.run(stop), name="digest-consumer"),
            asyncio.create_task(parts.scheduler.run(stop), name="digest-scheduler"),
        ]
        try:
            yield
        finally:
            stop.set()
            await _finish(tasks)
            parts.engine.dispose()

    return lifespan


async def _finish(tasks: list[asyncio.Task[None]]) -> None:
    """Let background tasks stop by themselves; cancel what is still running after a grace."""
    _, pending = await asyncio.wait(tasks, timeout=SHUTDOWN_GRACE_SECONDS)
    for task in pending:
        task.cancel()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    for task, outcome in zip(tasks, outcomes, strict=True):
        if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
            log.error("background task failed", task=task.get_name(), error=repr(outcome))
