"""Run ingest: `python -m services.ingest` serves HTTP (settings from the environment).

`python -m services.ingest replay-dlq [--dry-run]` maps the parked items on the dead-letter
topic again with the current mapping file (see `services.ingest.replay`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from services.ingest.adapters.base import Unavailable
from services.ingest.adapters.registry import build_adapters
from services.ingest.app import create_app
from services.ingest.mapping import MappingError, load_mapping
from services.ingest.producer import KafkaEventSink, SinkUnavailable
from services.ingest.replay import GROUP, replay_dead_letters
from services.ingest.settings import IngestSettings
from shared.clock import WallClock
from shared.kafka import ensure_topics, make_consumer
from shared.logging import configure_logging, get_logger
from shared.topics import Topic, topic_name


def serve(settings: IngestSettings) -> None:
    """Create the topics if needed, then serve HTTP until SIGINT/SIGTERM."""
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


async def replay(settings: IngestSettings, *, dry_run: bool) -> list[str]:
    """One replay run; the summary's lines."""
    mapping = load_mapping(settings.ingest_mapping_file)
    adapters = {adapter.vendor: adapter for adapter in build_adapters(settings)}
    sink = KafkaEventSink(settings, timeout_seconds=settings.ingest_send_timeout_seconds)
    consumer = make_consumer(settings, group_id=GROUP)
    await sink.start()
    for adapter in adapters.values():
        await adapter.start()
    await consumer.start()
    try:
        summary = await replay_dead_letters(
            consumer,
            topic_name(Topic.SALES_EVENTS_DLQ, settings.topic_prefix),
            sink=sink,
            adapters=adapters,
            mapping=mapping,
            now=WallClock().now(),
            max_future_skew=settings.max_future_skew,
            dry_run=dry_run,
        )
    finally:
        await consumer.stop()
        for adapter in adapters.values():
            await adapter.stop()
        await sink.stop()
    prefix = "dry run: " if dry_run else ""
    return [prefix + line for line in summary.lines()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.ingest")
    commands = parser.add_subparsers(dest="command")
    replay_parser = commands.add_parser(
        "replay-dlq", help="map parked items again with the current mapping file"
    )
    replay_parser.add_argument(
        "--dry-run", action="store_true", help="say what would be replayed; change nothing"
    )
    args = parser.parse_args(argv)
    settings = IngestSettings()
    configure_logging("ingest", level=settings.log_level, json=settings.log_json)
    if args.command is None:
        serve(settings)
        return 0
    try:
        lines = asyncio.run(replay(settings, dry_run=args.dry_run))
    except MappingError as exc:
        print(f"replay-dlq: {exc}", file=sys.stderr)
        return 2
    except (SinkUnavailable, Unavailable) as exc:
        print(f"replay-dlq: {exc}; nothing was committed, run it again", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
