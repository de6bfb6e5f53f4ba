"""Read the sales-events topic back in tests: no consumer group (no join wait), all partitions."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.clock import monotonic
from shared.settings import CommonSettings
from shared.topics import Topic, topic_name


def _partitions(settings: CommonSettings) -> list[TopicPartition]:
    topic = topic_name(Topic.SALES_EVENTS, settings.topic_prefix)
    return [TopicPartition(topic, p) for p in range(settings.topic_partitions)]


async def end_offsets(settings: CommonSettings) -> dict[int, int]:
    """The next offset of each partition: all zero means nothing was ever produced."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(_partitions(settings))
    finally:
        await consumer.stop()
    return {tp.partition: int(offset) for tp, offset in ends.items()}


async def read_all(
    settings: CommonSettings, *, timeout: float = 20.0
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on the topic up to its end offsets as of now, in partition/offset order."""
    partitions = _partitions(settings)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        deadline = monotonic() + timeout
        while not await _caught_up(consumer, ends):
            assert monotonic() < deadline, f"topic not read to its end within {timeout}s"
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
    finally:
        await consumer.stop()
    return sorted(records, key=lambda record: (record.partition, record.offset))


async def _caught_up(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True
