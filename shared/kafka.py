"""Producer/consumer helpers over aiokafka, and topic creation from the registry."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import CommonSettings
from shared.topics import REGISTRY, Topic, topic_name


def make_producer(settings: CommonSettings, **overrides: Any) -> AIOKafkaProducer:
    """A producer that waits for all in-sync replicas (acks=all)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "acks": "all",
        "enable_idempotence": False,  # the embedded broker has no idempotent producer support
        "linger_ms": 5,
        "request_timeout_ms": 10_000,
        "client_id": "salescoach",
    }
    options.update(overrides)
    return AIOKafkaProducer(**options)


def make_consumer(
    settings: CommonSettings, *topics: Topic, group_id: str, **overrides: Any
) -> AIOKafkaConsumer:
    """A consumer in `group_id` that commits by hand after its effects are durable."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "group_id": f"{settings.topic_prefix}{group_id}",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": max(settings.kafka_session_timeout_ms // 4, 500),
        "rebalance_timeout_ms": settings.kafka_session_timeout_ms,
        "max_poll_records": 500,
    }
    options.update(overrides)
    names = [topic_name(t, settings.topic_prefix) for t in topics]
    return AIOKafkaConsumer(*names, **options)


async def ensure_topics(settings: CommonSettings, *, attempts: int = 30) -> None:
    """Create every registered topic that does not exist yet (idempotent)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    for attempt in range(attempts):
        try:
            await admin.start()
            break
        except Exception:
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name, num_partitions=settings.topic_partitions, replication_factor=1)
            for spec in REGISTRY
            if (name := topic_name(spec.topic, settings.topic_prefix)) not in existing
        ]
        for new in wanted:
            try:
                await admin.create_topics([new])
            except TopicAlreadyExistsError:
                pass  # a sibling service created it first
    finally:
        await admin.close()


def key_for(rep_id: str) -> bytes:
    """The partition key of a rep's messages."""
    return rep_id.encode()
