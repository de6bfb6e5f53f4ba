"""The alerts-topic consumer: reads alert changes in order per partition, hands each to the
delivery stages, and commits an offset only once that message's effect is recorded."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from pydantic import ValidationError

from services.digest.delivery import AlertDelivery, RetryPolicy, wait_or_stop
from services.digest.metrics import ALERT_MESSAGES
from services.digest.settings import DigestSettings
from shared.alerting import AlertMessage, event_time_of
from shared.clock import Clock
from shared.kafka import ensure_topics, make_consumer
from shared.logging import get_logger
from shared.topics import Topic

log = get_logger(__name__)

GROUP_ID = "digest"


class AlertConsumer:
    """One consumer in the `digest` group; `started` feeds readiness."""

    def __init__(
        self,
        *,
        settings: DigestSettings,
        delivery: AlertDelivery,
        clock: Clock,
        retry: RetryPolicy,
    ) -> None:
        self._settings = settings
        self._delivery = delivery
        self._clock = clock
        self._retry = retry
        self.started = False

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; never commits past an unrecorded message.

        Unexpected errors drop the connection and rejoin the group from the last commit.
        """
        failures = 0
        while not stop.is_set():
            consumer = await self._connect(stop)
            if consumer is None:
                return
            try:
                await self._consume(consumer, stop)
            except Exception:
                failures += 1
                log.exception("alert consumer failed; reconnecting", failures=failures)
            finally:
                self.started = False
                await consumer.stop()
            if not stop.is_set():
                await wait_or_stop(stop, self._retry.delay(failures or 1))

    async def _connect(self, stop: asyncio.Event) -> AIOKafkaConsumer | None:
        attempt = 0
        while not stop.is_set():
            attempt += 1
            consumer = make_consumer(self._settings, Topic.ALERTS, group_id=GROUP_ID)
            try:
                await ensure_topics(self._settings, attempts=1)
                await consumer.start()
            except Exception as error:  # broker down, topic creation raced, ...
                await consumer.stop()
                log.warning("cannot start consuming yet", error=repr(error), attempt=attempt)
                await wait_or_stop(stop, self._retry.delay(attempt))
                continue
            self.started = True
            log.info("consuming alerts", group=f"{self._settings.topic_prefix}{GROUP_ID}")
            return consumer
        return None

    async def _consume(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        while not stop.is_set():
            batches = await consumer.getmany(timeout_ms=500)
            for partition, records in batches.items():
                for record in records:
                    if not await self._until_done(record, stop):
                        return  # stopping: leave this offset uncommitted for the next owner
                    await self._commit(consumer, partition, record.offset + 1)

    async def _until_done(self, record: ConsumerRecord[bytes, bytes], stop: asyncio.Event) -> bool:
        """Handle one record, retrying unexpected errors (DB down); False when stopped."""
        attempt = 0
        while not stop.is_set():
            try:
                return await self._handle(record, stop)
            except Exception:
                attempt += 1
                log.exception(
                    "alert message failed; retrying",
                    partition=record.partition,
                    offset=record.offset,
                    attempt=attempt,
                )
                await wait_or_stop(stop, self._retry.delay(attempt))
        return False

    async def _handle(self, record: ConsumerRecord[bytes, bytes], stop: asyncio.Event) -> bool:
        try:
            alert = AlertMessage.from_json(record.value or b"")
        except (ValidationError, ValueError) as error:
            ALERT_MESSAGES.labels("invalid").inc()
            log.warning(
                "skipping an invalid alert message",
                partition=record.partition,
                offset=record.offset,
                error=type(error).__name__,
            )
            return True
        self._clock.observe(event_time_of(alert))
        done = await self._delivery.handle(alert, stop)
        if done:
            ALERT_MESSAGES.labels("processed").inc()
        return done

    @staticmethod
    async def _commit(consumer: AIOKafkaConsumer, partition: TopicPartition, offset: int) -> None:
        try:
            await consumer.commit({partition: offset})
        except KafkaError as error:
            # Lost the partition in a rebalance: its next owner re-reads from the last commit,
            # and the outbox turns the re-read into a no-op.
            log.warning("offset commit failed", error=type(error).__name__, offset=offset)
