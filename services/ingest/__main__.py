"""Run ingest: `python -m services.ingest` (settings from the environment)."""

from __future__ import annotations

import asyncio

import uvicorn

from services.ingest.app import create_app
from services.ingest.settings import IngestSettings
from shared.kafka import ensure_topics
from shared.logging import configure_logging, get_logger


def main() -> None:
    """Create the topics if needed, then serve HTTP until SIGINT/SIGTERM."""
    settings = IngestSettings()
    configure_logging("ingest", level=settings.log_level, json=settings.log_json)
    asyncio.run(ensure_topics(settings))
    get_logger(__name__).info(
        "ingest starting", host=settings.ingest_host, port=settings.ingest_port
    )
    uvicorn.run(
        create_app(settings),
        host=settings.ingest_host,
        port=settings.ingest_port,
        log_config=None,  # configure_logging already routes uvicorn's loggers
        access_log=False,  # each request is logged once, with its outcome, by the route
    )


if __name__ == "__main__":
    main()
