"""Read the sales-events topic back in tests: no consumer group (no join wait), all partitions."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.settings import CommonSettings
from shared.topics import Topic, topic_name
from tests.support.kafka import read_topic


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
    topic = topic_name(Topic.SALES_EVENTS, settings.topic_prefix)
    records = await read_topic(settings.kafka_bootstrap_servers, topic, timeout=timeout)
    return sorted(records, key=lambda record: (record.partition, record.offset))
