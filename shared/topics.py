"""The one registry of Kafka topics: names, partitions, keys.

Every topic is keyed by rep id, so one rep's events stay in order on one partition and
metrics/alerts scale by adding workers to the consumer group.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Topic(StrEnum):
    SALES_EVENTS = "sales.events"
    SALES_EVENTS_DLQ = "sales.events.dlq"
    REP_METRICS = "rep.metrics"
    ALERTS = "alerts"


@dataclass(frozen=True)
class TopicSpec:
    topic: Topic
    description: str
    key: str = "rep_id"


REGISTRY: tuple[TopicSpec, ...] = (
    TopicSpec(Topic.SALES_EVENTS, "canonical SalesEvent JSON, produced by ingest"),
    TopicSpec(Topic.SALES_EVENTS_DLQ, "authenticated but unmappable input, with reason and raw"),
    TopicSpec(Topic.REP_METRICS, "metric state changes (opportunity state, daily buckets)"),
    TopicSpec(Topic.ALERTS, "alert lifecycle changes (fired, resolved), the audit stream"),
)


def topic_name(topic: Topic, prefix: str = "") -> str:
    """The broker-side name of a topic under an optional deployment/test prefix."""
    return f"{prefix}{topic.value}"


def all_topic_names(prefix: str = "") -> list[str]:
    """Every registered topic's broker-side name."""
    return [topic_name(spec.topic, prefix) for spec in REGISTRY]
