"""Run the alerts service: `python -m services.alerts` (settings from the environment)."""

from __future__ import annotations

import asyncio

import uvicorn

from services.alerts.app import create_app
from services.alerts.settings import AlertsSettings
from shared.kafka import ensure_topics
from shared.logging import configure_logging


def main() -> None:
    settings = AlertsSettings()
    configure_logging("alerts", level=settings.log_level, json=settings.log_json)
    asyncio.run(ensure_topics(settings))
    uvicorn.run(
        create_app(settings),
        host=settings.alerts_host,
        port=settings.alerts_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


if __name__ == "__main__":
    main()
