"""Produce to and read back from the real broker in tests (no consumer group: no join wait)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from shared.events import SalesEvent
from shared.kafka import key_for


async def produce_events(bootstrap: str, topic: str, events: Iterable[SalesEvent]) -> None:
    """Send events keyed by rep id, waiting for every ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(topic, event.to_json(), key=key_for(event.rep_id))
    finally:
        await producer.stop()


async def read_topic(
    bootstrap: str, topic: str, *, min_count: int = 0, timeout: float = 20.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on `topic` from the beginning; wait until at least `min_count` arrive."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        deadline = time.monotonic() + timeout
        partitions: set[int] | None = None
        while partitions is None and time.monotonic() < deadline:
            partitions = consumer.partitions_for_topic(topic)
            if partitions is None:
                await consumer._client.force_metadata_update()  # noqa: SLF001
                await asyncio.sleep(0.1)
        assert partitions, f"topic {topic} does not exist"
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        end = await consumer.end_offsets(assigned)
        done = False
        while not done:
            assert time.monotonic() < deadline, (
                f"{topic}: {len(records)} record(s) read, wanted {min_count} and the end, "
                f"within {timeout}s"
            )
            batch = await consumer.getmany(timeout_ms=200)
            for items in batch.values():
                records.extend(items)
            positions = [await _position(consumer, tp) for tp in assigned]
            caught_up = all(pos >= end[tp] for pos, tp in zip(positions, assigned, strict=True))
            done = len(records) >= min_count and caught_up
            if caught_up:
                end = await consumer.end_offsets(assigned)
    finally:
        await consumer.stop()
    return records


async def _position(consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
    return int(await consumer.position(tp))
