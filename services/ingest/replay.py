"""Replay parked items: `python -m services.ingest replay-dlq` after the mapping is fixed.

The dead-letter topic is a work queue for the consumer group `ingest-dlq-replay`. One run reads
from the group's committed offsets up to the entries produced after it started, maps
each ingest entry again with the current mapping file (re-running the adapter's `enrich`, so a
record the vendor API did not have is fetched again), produces what now maps, parks what still
does not as a new entry at the end (attempts + 1, newest reason), then commits. Entries of other
stages (the metrics service's) are passed over. With `--dry-run` nothing is produced or
committed: the summary says what a run would do.

Nothing is lost on a crash: offsets are committed only after the batch's events and re-parked
entries are acknowledged, and replayed events keep their deterministic ids, so a batch done
twice is deduplicated downstream.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from services.ingest.adapters.base import (
    Adapter,
    Item,
    Mapped,
    Parked,
    Unavailable,
)
from services.ingest.deadletter import DeadLetter, parse_dead_letter
from services.ingest.intake import distinct
from services.ingest.mapping import MappingConfig
from services.ingest.producer import EventSink
from services.ingest.webhooks import map_item
from shared.events import SalesEvent
from shared.logging import get_logger

log = get_logger(__name__)

GROUP = "ingest-dlq-replay"
_BATCH = 500


@dataclass
class ReplaySummary:
    """What one run did (or, dry, would do)."""

    entries: int = 0  # ingest dead letters read
    replayed: int = 0  # entries that now map
    events: int = 0  # events produced from them
    still_parked: Counter[str] = field(default_factory=Counter)  # by reason
    ignored: int = 0
    other_stages: int = 0
    unknown_vendor: int = 0

    def lines(self) -> list[str]:
        parked = sum(self.still_parked.values())
        out = [
            f"{self.entries} parked item(s) read; {self.replayed} now map to {self.events} "
            f"event(s); {self.ignored} ignored; {parked} still parked",
        ]
        out += [f"  still parked, {reason}: {n}" for reason, n in self.still_parked.most_common()]
        if self.unknown_vendor:
            out.append(f"  {self.unknown_vendor} entry(ies) of a vendor with no route, kept")
        if self.other_stages:
            out.append(f"  {self.other_stages} entry(ies) of other stages passed over")
        return out


@dataclass(frozen=True)
class ReplayBatch:
    """The outcome of mapping one batch of dead letters again."""

    events: list[SalesEvent]
    reparked: list[DeadLetter]
    replayed: list[tuple[Adapter, list[Item]]]  # what to commit once stored


async def remap(
    letters: Sequence[DeadLetter],
    adapters: Mapping[str, Adapter],
    mapping: MappingConfig,
    *,
    now: datetime,
    max_future_skew: timedelta,
    summary: ReplaySummary,
) -> ReplayBatch:
    """Map each letter's item again; raises `Unavailable` when a vendor API is down."""
    events: list[SalesEvent] = []
    reparked: list[DeadLetter] = []
    replayed: list[tuple[Adapter, list[Item]]] = []
    by_vendor: dict[str, list[DeadLetter]] = {}
    for letter in letters:
        by_vendor.setdefault(letter.vendor, []).append(letter)
    for vendor, group in by_vendor.items():
        adapter = adapters.get(vendor)
        if adapter is None:
            summary.unknown_vendor += len(group)
            reparked += [letter.again(letter.reason, letter.detail) for letter in group]
            continue
        items = await adapter.enrich([letter.item for letter in group])
        done: list[Item] = []
        for letter, item in zip(group, items, strict=True):
            result = map_item(adapter, item, mapping, horizon=now + max_future_skew)
            if isinstance(result, Mapped):
                summary.replayed += 1
                summary.events += len(result.events)
                events.extend(result.events)
                done.append(item)
                continue
            if isinstance(result, Parked):
                summary.still_parked[result.reason.value] += 1
                reparked.append(
                    letter.again(result.reason, result.detail).model_copy(update={"item": item})
                )
            else:
                summary.ignored += 1
                done.append(item)
        replayed.append((adapter, done))
    return ReplayBatch(distinct(events), reparked, replayed)


async def replay_dead_letters(
    consumer: AIOKafkaConsumer,
    topic: str,
    *,
    sink: EventSink,
    adapters: Mapping[str, Adapter],
    mapping: MappingConfig,
    now: datetime,
    max_future_skew: timedelta,
    dry_run: bool = False,
) -> ReplaySummary:
    """Drain the dead-letter topic once, from the group's offsets to the end as of now."""
    summary = ReplaySummary()
    partitions = [TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))]
    consumer.assign(partitions)
    for tp in partitions:
        committed = await consumer.committed(tp)
        if committed is None:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, committed)
    # Stop at entries produced after the run started (its own re-parks among them), by the
    # records' timestamps: Tansu's end offsets count record batches, not records.
    started_ms = int(now.timestamp() * 1000)
    finished: set[TopicPartition] = set()
    while active := [tp for tp in partitions if tp not in finished]:
        batch = await consumer.getmany(*active, timeout_ms=1000, max_records=_BATCH)
        if not batch:
            break
        records: list[ConsumerRecord[bytes, bytes]] = []
        offsets: dict[TopicPartition, int] = {}
        for tp, items in batch.items():
            for record in items:
                if record.timestamp >= started_ms:
                    finished.add(tp)
                    break
                records.append(record)
                offsets[tp] = record.offset + 1
        result = await remap(
            _letters(records, summary),
            adapters,
            mapping,
            now=now,
            max_future_skew=max_future_skew,
            summary=summary,
        )
        if not dry_run:
            await sink.send(result.events)
            await sink.park(result.reparked)
            for adapter, items in result.replayed:
                await adapter.commit(items)
            if offsets:
                await consumer.commit(offsets)
    return summary


def _letters(
    records: Sequence[ConsumerRecord[bytes, bytes]], summary: ReplaySummary
) -> list[DeadLetter]:
    letters = []
    for record in records:
        letter = parse_dead_letter(record.value) if record.value is not None else None
        if letter is None:
            summary.other_stages += 1
            continue
        summary.entries += 1
        letters.append(letter)
    return letters


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        await consumer._client.force_metadata_update()  # noqa: SLF001 - no public refresh
        partitions = consumer.partitions_for_topic(topic)
    if not partitions:
        raise Unavailable(f"topic {topic} does not exist")
    return set(partitions)
