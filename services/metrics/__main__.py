"""Run the metrics worker: `python -m services.metrics` (settings from the environment)."""

from __future__ import annotations

import asyncio

import faust

from services.metrics.app import create_app
from services.metrics.settings import MetricsSettings
from shared.kafka import ensure_topics
from shared.logging import configure_logging


def main() -> None:
    settings = MetricsSettings()
    configure_logging("metrics", level=settings.log_level, json=settings.log_json)
    asyncio.run(ensure_topics(settings))
    app = create_app(settings)
    worker = faust.Worker(app, loglevel=settings.log_level.lower(), quiet=True)
    worker.execute_from_commandline()


if __name__ == "__main__":
    main()
