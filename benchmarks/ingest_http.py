"""Ingest over real HTTP against a trivial FastAPI endpoint on the same server settings.

Both apps run as uvicorn processes with one worker each (`benchmarks.serve`); ingest
produces to a real embedded broker. The load generator (`benchmarks.loadgen`) replays
distinct signed canonical events rendered before timing: one event per request, then
batches of 100. Runs of the two servers alternate, so machine noise hits both alike.
The ratios are what authentication, validation, producing and recording cost on top of
FastAPI reading a body; the issue's targets are printed for reference, never asserted.
Ingest logs at INFO (one line per request, to a file), as it is deployed.

`python -m benchmarks.ingest_http` runs this part alone.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvloop
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import SecretStr

from benchmarks.loadgen import LoadResult, RequestPool, render_post, run_load
from deploy.local.processes import ManagedProcess, python_module
from services.ingest.settings import IngestSettings
from shared.embedded_broker import HOST, EmbeddedBroker, free_port
from shared.kafka import ensure_topics
from shared.signing import signed_headers
from shared.topics import Topic, topic_name

SECRET = "bench-ingest-secret"  # noqa: S105 - a throwaway secret for a local benchmark
PATH = "/v1/events"
BATCH = 100
REPS = 50
SINGLE_CONNECTIONS = 32
BATCH_CONNECTIONS = 8
WARMUP_SECONDS = 1.0
RUN_SECONDS = 2.0
RUNS = 5
# Distinct requests for every ingest run up to about 4,500 requests/s and 35,000 events/s;
# beyond that the pool wraps (the same event ids are produced again) and the report says so.
SINGLE_POOL = 50_000
BATCH_POOL = 4_000
TARGET_SINGLE_RATIO = 0.6
TARGET_BATCH_EVENTS = 20_000


def call_event(delivery_id: str, *, rep_id: str, at: datetime) -> dict[str, Any]:
    """A canonical call.made event as a sender posts it (ingest derives the event id)."""
    return {
        "type": "call.made",
        "occurred_at": at.isoformat(),
        "source": {"vendor": "canonical", "delivery_id": delivery_id},
        "rep_id": rep_id,
        "payload": {"connected": True, "duration_seconds": 120},
    }


def render_requests(count: int, *, batch: int | None, tag: str, now: datetime) -> list[bytes]:
    """`count` signed requests of one event each (batch None) or of `batch` events each."""
    at = now - timedelta(minutes=1)
    requests = []
    for n in range(count):
        if batch is None:
            document: Any = call_event(f"{tag}-{n}", rep_id=f"rep-{n % REPS}", at=at)
        else:
            document = [
                call_event(f"{tag}-{n}-{i}", rep_id=f"rep-{(n + i) % REPS}", at=at)
                for i in range(batch)
            ]
        body = orjson.dumps(document)
        headers = {**signed_headers(SECRET, body, now), "Content-Type": "application/json"}
        requests.append(render_post(PATH, body, headers))
    return requests


@contextmanager
def serving(app: str, env: dict[str, str], log_dir: Path, *, ready: str) -> Iterator[int]:
    """`python -m benchmarks.serve app` on a free port until the block ends; yields the port."""
    port = free_port()
    process = ManagedProcess(
        app,
        python_module("benchmarks.serve", app, "--port", str(port)),
        env=env,
        log_path=log_dir / f"{app}.log",
        health_url=f"http://{HOST}:{port}{ready}",
    ).start(Path.cwd())
    try:
        process.wait_healthy(60)
        yield port
    except BaseException:
        print(f"--- {app} log tail ---\n{process.log_tail()}")
        raise
    finally:
        process.stop()


async def count_records(bootstrap: str, topic: str, *, timeout: float = 60.0) -> int:
    """Records on `topic`, read from the beginning up to its end offsets."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        deadline = time.monotonic() + timeout
        while not partitions:
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {topic} has no partitions")
            await consumer._client.force_metadata_update()  # noqa: SLF001
            partitions = consumer.partitions_for_topic(topic)
        assigned = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        # Tansu's end offsets count record batches, not records; positions do the same.
        end = await consumer.end_offsets(assigned)
        count = 0
        while any([await consumer.position(tp) < end[tp] for tp in assigned]):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: read {count} records in {timeout}s, not the end")
            batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
            count += sum(len(records) for records in batches.values())
        return count
    finally:
        await consumer.stop()


def _warm_up_and_run(
    runner: asyncio.Runner,
    servers: Sequence[tuple[int, RequestPool]],
    *,
    connections: int,
) -> list[list[LoadResult]]:
    """A warm-up on each server, then RUNS timed runs alternating between them."""
    results: list[list[LoadResult]] = [[] for _ in servers]

    def once(index: int, seconds: float) -> LoadResult:
        port, pool = servers[index]
        return runner.run(
            run_load(
                HOST, port, pool, connections=connections, seconds=seconds, expected_status=202
            )
        )

    warm_ups = [once(index, WARMUP_SECONDS) for index in range(len(servers))]
    for _ in range(RUNS):
        for index in range(len(servers)):
            results[index].append(once(index, RUN_SECONDS))
    for index, warm_up in enumerate(warm_ups):
        results[index].insert(0, warm_up)  # counted for failures and records, not timed
    return results


def _median_rate(results: Sequence[LoadResult]) -> float:
    return statistics.median(result.per_second for result in results[1:])


def _failures(name: str, results: Sequence[LoadResult]) -> list[str]:
    failed = sum(result.failures for result in results)
    if not failed:
        return []
    samples = [sample for result in results for sample in result.failure_samples][:3]
    return [f"  !! {name}: {failed} failed request(s), e.g. {samples}"]


def report() -> str:
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    singles = render_requests(SINGLE_POOL, batch=None, tag=f"s{tag}", now=now)
    batches = render_requests(BATCH_POOL, batch=BATCH, tag=f"b{tag}", now=now)
    with (
        tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp,
        asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
        EmbeddedBroker(log_path=Path(tmp) / "broker.log") as broker,
    ):
        log_dir = Path(tmp)
        settings = IngestSettings(
            kafka_bootstrap_servers=broker.bootstrap_servers, ingest_secret=SecretStr(SECRET)
        )
        runner.run(ensure_topics(settings))
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "INGEST_SECRET": SECRET,
            "LOG_LEVEL": "INFO",
        }
        with (
            serving("trivial", env, log_dir, ready="/healthz") as trivial_port,
            serving("ingest", env, log_dir, ready="/readyz") as ingest_port,
        ):
            trivial_single, ingest_single = _warm_up_and_run(
                runner,
                [(trivial_port, RequestPool(singles)), (ingest_port, RequestPool(singles))],
                connections=SINGLE_CONNECTIONS,
            )
            trivial_batch, ingest_batch = _warm_up_and_run(
                runner,
                [(trivial_port, RequestPool(batches)), (ingest_port, RequestPool(batches))],
                connections=BATCH_CONNECTIONS,
            )
            metrics = httpx.get(f"http://{HOST}:{ingest_port}/metrics").text
        topic = topic_name(Topic.SALES_EVENTS, settings.topic_prefix)
        records = runner.run(count_records(broker.bootstrap_servers, topic))

    single_base, single_ingest = _median_rate(trivial_single), _median_rate(ingest_single)
    batch_base = _median_rate(trivial_batch) * BATCH
    batch_ingest = _median_rate(ingest_batch) * BATCH
    accepted_requests = sum(r.statuses[202] for r in (*ingest_single, *ingest_batch))
    accepted_events = sum(r.statuses[202] for r in ingest_single) + BATCH * sum(
        r.statuses[202] for r in ingest_batch
    )
    reused = sum(r.reused for r in (*ingest_single, *ingest_batch))
    everything = (*trivial_single, *ingest_single, *trivial_batch, *ingest_batch)
    generator = max(result.generator_load for result in everything)
    produced = _produced_counter(metrics)
    lines = [
        f"ingest over HTTP, uvicorn 1 worker each, real broker (median of {RUNS} runs of "
        f"{RUN_SECONDS:g} s after a {WARMUP_SECONDS:g} s warm-up, servers alternating):",
        f"  single event per request, {SINGLE_CONNECTIONS} keep-alive connections:",
        f"    baseline (trivial FastAPI 202)    {single_base:>12,.0f} requests/s",
        f"    ingest POST /v1/events            {single_ingest:>12,.0f} requests/s",
        f"    ratio ingest/baseline             {single_ingest / single_base:>12.3f}"
        f"   (issue target >= {TARGET_SINGLE_RATIO})",
        f"  batches of {BATCH} events, {BATCH_CONNECTIONS} keep-alive connections:",
        f"    baseline (trivial, requests x {BATCH})  {batch_base:>10,.0f} events/s",
        f"    ingest POST /v1/events            {batch_ingest:>12,.0f} events/s"
        f"   (issue target >= {TARGET_BATCH_EVENTS:,})",
        f"    ratio ingest/baseline             {batch_ingest / batch_base:>12.3f}",
        f"  ingest: {accepted_requests:,} requests answered 202 ({accepted_events:,} events, "
        f"{reused:,} requests resent); records on {topic}: {records:,}; "
        f"events_produced counter: {produced:,.0f}",
        f"  load generator CPU, busiest run: {generator:.0%} of a core "
        "(near 100% would mean it, not the server, set the pace)",
        *_failures("trivial", (*trivial_single, *trivial_batch)),
        *_failures("ingest", (*ingest_single, *ingest_batch)),
    ]
    if records != accepted_events:
        lines.append(f"  !! {records:,} records on the topic, {accepted_events:,} accepted")
    return "\n".join(lines)


def _produced_counter(metrics: str) -> float:
    """The sum of ingest's events-produced counter over its series, from /metrics."""
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("salescoach_ingest_events_produced_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


if __name__ == "__main__":
    print(report())
