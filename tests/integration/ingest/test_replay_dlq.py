"""replay-dlq against the real broker: what now maps is produced, the rest parked again, once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from aiokafka import AIOKafkaProducer

from services.ingest.adapters.base import ParkReason
from services.ingest.deadletter import DeadLetter, dead_letter, parse_dead_letter
from services.ingest.mapping import MappingConfig
from services.ingest.producer import KafkaEventSink
from services.ingest.replay import GROUP, ReplaySummary, replay_dead_letters
from services.ingest.settings import IngestSettings
from shared.kafka import make_consumer
from shared.topics import Topic, topic_name
from tests.support.kafka import read_topic
from tests.unit.services.ingest.fake_adapter import FakeAdapter

NOW = datetime.now(UTC)
AT = (NOW - timedelta(hours=1)).isoformat()


def _letter(item_id: str, user: str, kind: str, reason: ParkReason) -> DeadLetter:
    item = {"id": item_id, "user": user, "kind": kind, "at": AT}
    return dead_letter("pipedrive", reason, "parked by the test", item, NOW)


async def _replay(settings: IngestSettings, mapping: MappingConfig, dry: bool) -> ReplaySummary:
    sink = KafkaEventSink(settings, timeout_seconds=5)
    consumer = make_consumer(settings, group_id=GROUP)
    await sink.start()
    await consumer.start()
    try:
        return await replay_dead_letters(
            consumer,
            topic_name(Topic.SALES_EVENTS_DLQ, settings.topic_prefix),
            sink=sink,
            adapters={"pipedrive": FakeAdapter()},
            mapping=mapping,
            now=datetime.now(UTC),
            max_future_skew=timedelta(minutes=5),
            dry_run=dry,
        )
    finally:
        await consumer.stop()
        await sink.stop()


async def _dead_letters(settings: IngestSettings, count: int) -> list[DeadLetter]:
    topic = topic_name(Topic.SALES_EVENTS_DLQ, settings.topic_prefix)
    records = await read_topic(settings.kafka_bootstrap_servers, topic, min_count=count)
    return [letter for r in records if (letter := parse_dead_letter(r.value or b""))]


async def test_replay_produces_what_now_maps_and_parks_the_rest_again(
    topics: IngestSettings, tmp_path: Path
) -> None:
    settings = topics
    sink = KafkaEventSink(settings, timeout_seconds=5)
    await sink.start()
    await sink.park(
        [
            _letter("1", "8", "call", ParkReason.UNKNOWN_USER),
            _letter("2", "8", "call", ParkReason.UNKNOWN_USER),
            _letter("3", "7", "fax", ParkReason.UNKNOWN_ACTIVITY_TYPE),
        ]
    )
    await sink.stop()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    metrics_entry = {"stage": "metrics", "reason": "older than the retention horizon", "raw": ""}
    dlq = topic_name(Topic.SALES_EVENTS_DLQ, settings.topic_prefix)
    await producer.send_and_wait(dlq, orjson.dumps(metrics_entry), key=b"rep-1")
    await producer.stop()

    fixed = MappingConfig.model_validate({"pipedrive": {"users": {"7": "rep-7", "8": "rep-8"}}})
    dry = await _replay(settings, fixed, dry=True)
    assert (dry.entries, dry.replayed, dry.events, dict(dry.still_parked)) == (
        3,
        2,
        2,
        {"unknown_activity_type": 1},
    )
    assert dry.other_stages == 1

    real = await _replay(settings, fixed, dry=False)
    assert (real.entries, real.replayed, real.events) == (3, 2, 2)  # the dry run committed nothing
    topic = topic_name(Topic.SALES_EVENTS, settings.topic_prefix)
    events = await read_topic(settings.kafka_bootstrap_servers, topic, min_count=2)
    assert sorted(orjson.loads(r.value or b"")["rep_id"] for r in events) == ["rep-8", "rep-8"]
    letters = await _dead_letters(settings, 5)
    again = [letter for letter in letters if letter.attempts == 2]
    assert [(a.item["id"], a.reason) for a in again] == [("3", ParkReason.UNKNOWN_ACTIVITY_TYPE)]
    assert again[0].received_at == letters[0].received_at  # when it first came in

    third = await _replay(settings, fixed, dry=False)
    assert (third.entries, third.replayed, dict(third.still_parked)) == (
        1,
        0,
        {"unknown_activity_type": 1},
    )
    assert max(letter.attempts for letter in await _dead_letters(settings, 6)) == 3


def _cli(
    settings: IngestSettings, mapping_file: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "TOPIC_PREFIX": settings.topic_prefix,
        "INGEST_MAPPING_FILE": str(mapping_file),
    }
    command = [sys.executable, "-m", "services.ingest", "replay-dlq", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)


async def test_the_cli_reports_a_run_and_names_a_bad_mapping_file(
    topics: IngestSettings, tmp_path: Path
) -> None:
    good = tmp_path / "mapping.json"
    good.write_text('{"pipedrive": {"users": {"7": "rep-7"}}}')
    done = await asyncio.to_thread(_cli, topics, good, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("dry run: 0 parked item(s) read; 0 now map to 0 event(s)")
    bad = tmp_path / "bad.json"
    bad.write_text('{"pipedrive": {"users": []}}')
    refused = await asyncio.to_thread(_cli, topics, bad)
    assert refused.returncode == 2
    assert "pipedrive.users" in refused.stderr
