"""Drive the engine from rep.metrics: consume, evaluate, persist, produce, then commit.

At-least-once: offsets are committed only after the alerts table and the alerts topic have
the result, and re-evaluation after a crash reproduces the same fingerprints, so a replayed
change updates alerts rather than duplicating them.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from prometheus_client import Counter, Gauge
from sqlalchemy.engine import Engine

from services.alerts import store
from services.alerts.engine import AlertEngine
from services.alerts.settings import AlertsSettings
from shared.alerting import AlertMessage
from shared.clock import Clock
from shared.kafka import key_for, make_consumer, make_producer
from shared.logging import get_logger
from shared.observability import NAMESPACE, latency_histogram
from shared.settings import ClockMode
from shared.state import change_from_json
from shared.topics import Topic, topic_name
from shared.watermark import LowWatermark

log = get_logger(__name__)
Batch = dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]

CHANGES = Counter("alerts_metric_changes", "rep.metrics messages consumed", namespace=NAMESPACE)
TRANSITIONS = Counter(
    "alerts_transitions",
    "Alert versions emitted, by rule and state",
    ["rule", "state"],
    namespace=NAMESPACE,
)
ACTIVE = Gauge("alerts_active", "Pending or firing alerts held in memory", namespace=NAMESPACE)
WATERMARK = Gauge(
    "alerts_watermark_timestamp_seconds",
    "Replay clock: event time every rep.metrics partition has reached (the low watermark)",
    namespace=NAMESPACE,
)
EVALUATION = latency_histogram("alerts_batch", "Time to evaluate and persist one batch")


class AlertsRunner:
    """Owns the consumer and producer; the engine and clock are passed in."""

    def __init__(
        self, settings: AlertsSettings, *, engine: AlertEngine, db: Engine, clock: Clock
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.db = db
        self.clock = clock
        self.watermarks = LowWatermark(idle_after=settings.alerts_partition_idle_seconds)
        self._rep_partition: dict[str, int] = {}
        self.consumer: AIOKafkaConsumer | None = None
        self.producer: AIOKafkaProducer | None = None
        self.alerts_topic = topic_name(Topic.ALERTS, settings.topic_prefix)
        self.started = False
        self._swept_marks: dict[int, datetime] = {}  # partition progress at the last sweep
        self._last_sweep_wall = 0.0

    async def start(self) -> None:
        opportunities, reps = await asyncio.to_thread(store.load_state, self.db)
        alerts = await asyncio.to_thread(store.load_active_alerts, self.db)
        self.engine.load(opportunities=opportunities, reps=reps, alerts=alerts)
        # aiokafka clients bind to the running loop, so they are built here, not in __init__.
        self.producer = make_producer(self.settings)
        self.consumer = make_consumer(self.settings, Topic.REP_METRICS, group_id="alerts")
        await self.producer.start()
        await self.consumer.start()
        self.started = True
        log.info("alerts runner started", opportunities=len(opportunities), alerts=len(alerts))

    async def stop(self) -> None:
        self.started = False
        if self.consumer is not None:
            await self.consumer.stop()
        if self.producer is not None:
            await self.producer.stop()

    def assigned(self) -> bool:
        """True once the consumer group has given this worker partitions."""
        return self.consumer is not None and bool(self.consumer.assignment())

    async def run(self) -> None:
        """Consume until cancelled."""
        assert self.consumer is not None, "start() first"
        while True:
            batch = await self.consumer.getmany(timeout_ms=500, max_records=500)
            with EVALUATION.time():
                messages = self._evaluate(batch)
                self._advance_clock(time.monotonic())
                messages += self._sweep_if_due()
                await self._publish(messages)
            if batch:
                await self.consumer.commit()

    def _evaluate(self, batch: Batch) -> list[AlertMessage]:
        messages: list[AlertMessage] = []
        arrived = time.monotonic()
        for partition, records in batch.items():
            for record in records:
                change = change_from_json(record.value)
                CHANGES.inc()
                # Partitions drain unevenly: a change is judged at its own partition's progress
                # (shared/watermark.py), not at whatever another partition has reached.
                self.watermarks.observe(partition.partition, change.watermark, arrived=arrived)
                self._rep_partition[change.rep_id] = partition.partition
                self._advance_clock(arrived)
                messages += self.engine.apply(change, self._now_for_rep(change.rep_id))
        return messages

    def _now_for_rep(self, rep_id: str) -> datetime:
        """Live: the wall clock. Replay: the progress of the rep's rep.metrics partition."""
        partition = self._rep_partition.get(rep_id)
        if self.settings.clock_mode is ClockMode.REPLAY and partition is not None:
            mark = self.watermarks.mark(partition)
            if mark is not None:
                return mark
        return self.clock.now()

    def _advance_clock(self, arrived: float) -> None:
        """Move the replay clock to the low watermark; also between batches, so that once
        the input goes quiet, idle partitions stop holding the end of a replay back."""
        low = self.watermarks.low(now=arrived)
        if low is not None:
            self.clock.observe(low)
            WATERMARK.set(self.clock.now().timestamp())

    def _sweep_if_due(self) -> list[AlertMessage]:
        now = self.clock.now()
        loop_time = asyncio.get_running_loop().time()
        if self.settings.clock_mode is ClockMode.REPLAY:
            if not self._replay_sweep_due(time.monotonic()):
                return []
        else:
            if loop_time - self._last_sweep_wall < self.settings.alerts_sweep_interval_seconds:
                return []
            self._last_sweep_wall = loop_time
        return self.engine.sweep(now, now_for_rep=self._now_for_rep)

    def _replay_sweep_due(self, arrived: float) -> bool:
        """Sweep when any partition's event time moved a step since the last sweep (deals are
        judged at their own partition's time, so every partition's progress matters), and
        once more when the input goes quiet with progress not yet swept."""
        marks = self.watermarks.marks()
        step = timedelta(hours=self.settings.alerts_replay_sweep_hours)
        swept = self._swept_marks
        moved = any(swept.get(p) is None or t - swept[p] >= step for p, t in marks.items())
        finished = marks != swept and self.watermarks.quiet(now=arrived)
        if marks and (moved or finished):
            self._swept_marks = marks
            return True
        return False

    async def _publish(self, messages: list[AlertMessage]) -> None:
        if not messages:
            return
        assert self.producer is not None
        await asyncio.to_thread(store.save, self.db, messages)
        sends = [
            await self.producer.send(self.alerts_topic, m.to_json(), key=key_for(m.rep_id))
            for m in messages
        ]
        await asyncio.gather(*sends)
        for message in messages:
            TRANSITIONS.labels(message.rule, message.state.value).inc()
        ACTIVE.set(len(self.engine.active))
        log.info("alerts published", count=len(messages))
