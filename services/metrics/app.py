"""The faust worker: a thin driver around the pure MetricsCore.

One agent (concurrency 1: faust #606) reads sales.events, folds each event into state kept
in faust tables (changelogged, so a restarted worker recovers), emits every change on
rep.metrics, and hands snapshots to a writer that a timer flushes to the DB in batches.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import faust
import orjson
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, generate_latest
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from services.metrics.core.reducer import MetricsCore, Outcome, Stores
from services.metrics.settings import MetricsSettings
from services.metrics.snapshots import SnapshotWriter
from shared.db.engine import database_answers, make_engine
from shared.events import SalesEvent
from shared.logging import get_logger
from shared.observability import NAMESPACE, latency_histogram
from shared.state import change_to_json
from shared.topics import Topic, topic_name

log = get_logger(__name__)

EVENTS = Counter(
    "metrics_events", "SalesEvents processed, by outcome", ["outcome"], namespace=NAMESPACE
)
WATERMARK = Gauge(
    "metrics_watermark_timestamp_seconds",
    "Latest event time seen (the replay clock)",
    namespace=NAMESPACE,
)
LOW_WATERMARK = Gauge(
    "metrics_low_watermark_timestamp_seconds",
    "Event time every input partition has reached (the slowest partition's progress)",
    namespace=NAMESPACE,
)
PENDING = Gauge(
    "metrics_snapshots_pending", "Snapshot rows waiting for the DB", namespace=NAMESPACE
)
FLUSH = latency_histogram("metrics_snapshot_flush", "Time to write one batch of snapshots")
FLUSH_ERRORS = Counter(
    "metrics_snapshot_flush_errors", "Snapshot batches that failed to write", namespace=NAMESPACE
)


def faust_app(settings: MetricsSettings) -> faust.App:
    """A faust App configured for this deployment (broker, ports, fast group joins)."""
    session_timeout = settings.kafka_session_timeout_ms / 1000
    app_id = f"{settings.topic_prefix}{settings.metrics_app_id}"
    datadir = settings.var_dir / "faust" / app_id
    datadir.parent.mkdir(parents=True, exist_ok=True)  # faust creates only the last level
    return faust.App(
        app_id,
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap_servers.split(",")],
        store="memory://",
        autodiscover=False,
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=1,
        producer_acks=-1,
        web_host=settings.metrics_host,
        web_bind=settings.metrics_host,
        web_port=settings.metrics_port,
        broker_session_timeout=session_timeout,
        broker_rebalance_timeout=session_timeout,
        broker_heartbeat_interval=max(session_timeout / 4, 0.5),
        datadir=str(datadir),
        table_standby_replicas=0,
    )


def create_app(settings: MetricsSettings, *, engine: Engine | None = None) -> faust.App:
    """The metrics worker app: tables, the agent, the flush timer and the web pages."""
    app = faust_app(settings)
    engine = engine or make_engine(settings.database_url)
    partitions = settings.topic_partitions

    def table(name: str) -> Any:
        return app.Table(name, default=None, partitions=partitions, value_type=None)

    stores = Stores(
        reps=table("reps"),
        opportunities=table("opportunities"),
        account_opportunities=table("account-opportunities"),
        buckets=table("day-buckets"),
        counted=table("counted-events"),
    )
    core = MetricsCore(
        stores,
        retention_days=settings.metrics_retention_days,
        stage_order=settings.pipeline_stages,
    )
    writer = SnapshotWriter(engine)
    source = app.topic(
        topic_name(Topic.SALES_EVENTS, settings.topic_prefix),
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )
    changes = app.topic(
        topic_name(Topic.REP_METRICS, settings.topic_prefix),
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )
    dead_letters = app.topic(
        topic_name(Topic.SALES_EVENTS_DLQ, settings.topic_prefix),
        key_serializer="raw",
        value_serializer="raw",
        partitions=partitions,
    )

    @app.agent(source, concurrency=1)
    async def fold_events(stream: Any) -> None:
        async for key, raw in stream.items():
            partition = stream.current_event.message.partition
            outcome, event = _process(core, raw, partition=partition, arrived=time.monotonic())
            if outcome.dead_letter_reason is not None:
                await dead_letters.send(key=key, value=_dead_letter(raw, outcome, event))
                continue
            for change in outcome.changes:
                writer.add(change)
                await changes.send(key=change.rep_id.encode(), value=change_to_json(change))
            if core.watermark is not None:
                WATERMARK.set(core.watermark.timestamp())
            if core.low_watermark is not None:
                LOW_WATERMARK.set(core.low_watermark.timestamp())

    @app.timer(interval=settings.metrics_flush_interval_seconds)  # type: ignore[untyped-decorator]
    async def flush_snapshots() -> None:
        await flush(writer)

    _add_pages(app, engine, writer)
    return app


def _process(
    core: MetricsCore, raw: bytes, *, partition: int, arrived: float
) -> tuple[Outcome, SalesEvent | None]:
    try:
        event = SalesEvent.from_json(raw)
    except (ValidationError, ValueError) as exc:
        EVENTS.labels("invalid").inc()
        return Outcome(dead_letter_reason=f"not a valid SalesEvent: {exc.__class__.__name__}"), None
    outcome = core.process(event, partition=partition, arrived=arrived)
    if outcome.dead_letter_reason:
        EVENTS.labels("dead_lettered").inc()
    else:
        EVENTS.labels("duplicate" if outcome.duplicate else "processed").inc()
    return outcome, event


def _dead_letter(raw: bytes, outcome: Outcome, event: SalesEvent | None) -> bytes:
    return orjson.dumps(
        {
            "reason": outcome.dead_letter_reason,
            "stage": "metrics",
            "event_id": event.event_id if event else None,
            "raw": raw.decode("utf-8", errors="replace"),
        }
    )


async def flush(writer: SnapshotWriter) -> None:
    """Write pending snapshots in a worker thread; on failure keep them for the next try."""
    rows = writer.take()
    if not rows:
        return
    with FLUSH.time():
        try:
            await asyncio.to_thread(writer.write, rows)
        except Exception:
            FLUSH_ERRORS.inc()
            writer.restore(rows)
            log.exception("snapshot flush failed; will retry", rows=len(rows))
    PENDING.set(writer.pending)


def _add_pages(app: faust.App, engine: Engine, writer: SnapshotWriter) -> None:
    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:  # noqa: ARG001 - faust view signature
        return web.json({"status": "ok"})

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:  # noqa: ARG001 - faust view signature
        checks = {
            "consumer": bool(app.consumer.assignment()) and not app.rebalancing,
            "database": await asyncio.to_thread(database_answers, engine),
            "snapshots_flushing": writer.pending < 100_000,
        }
        ready = all(checks.values())
        body = {"status": "ready" if ready else "not ready", "checks": checks}
        return web.json(body, status=200 if ready else 503)

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:  # noqa: ARG001 - faust view signature
        # As a header: aiohttp refuses a charset inside `content_type`, and Prometheus' type
        # carries one.
        return web.bytes(generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})
