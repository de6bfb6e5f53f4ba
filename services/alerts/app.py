"""The alerts service process: the runner in the background, health and metrics in front."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator

from fastapi import FastAPI
from sqlalchemy.engine import Engine

from services.alerts.engine import AlertEngine
from services.alerts.rules.config import load_rules
from services.alerts.runner import AlertsRunner
from services.alerts.settings import AlertsSettings
from shared.clock import Clock, make_clock
from shared.db.engine import database_answers, make_engine
from shared.logging import get_logger
from shared.observability import health_router

log = get_logger(__name__)


def create_app(
    settings: AlertsSettings, *, db: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """The alerts app; its lifespan starts and stops the runner."""
    db = db or make_engine(settings.database_url)
    runner = AlertsRunner(
        settings,
        engine=AlertEngine(load_rules(settings.alerts_rules_file)),
        db=db,
        clock=clock or make_clock(settings.clock_mode),
    )

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await runner.start()
        task = asyncio.create_task(runner.run(), name="alerts-runner")
        task.add_done_callback(_crash_loudly)
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await runner.stop()

    app = FastAPI(title="salescoach alerts", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.state.runner = runner
    app.include_router(
        health_router(
            {
                "runner": lambda: runner.started and runner.assigned(),
                "database": lambda: database_answers(db),
            }
        )
    )
    return app


def _crash_loudly(task: asyncio.Task[None]) -> None:
    """A dead runner must not leave a healthy-looking process behind."""
    if task.cancelled():
        return
    if task.exception() is not None:
        log.error("alerts runner crashed; exiting", exc_info=task.exception())
        os.kill(os.getpid(), signal.SIGTERM)
