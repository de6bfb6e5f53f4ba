"""The ingest process with Pipedrive configured, fed the simulator's Pipedrive deliveries over
real HTTP (with duplicates and deliveries overtaken by later ones), producing to the real
broker: every event is on sales.events with the ids the adapter derives, nothing is parked."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from deploy.local.processes import ManagedProcess
from services.ingest.adapters.base import Mapped
from services.ingest.adapters.pipedrive import PipedriveAdapter
from services.ingest.mapping import MappingConfig
from shared.embedded_broker import EmbeddedBroker
from shared.topics import Topic, topic_name
from simulator.config import ScenarioConfig
from simulator.delivery import Pacer, Perturbation, Sender, batches, deliver, perturb
from simulator.engine import Simulation
from simulator.ingest_mapping import ingest_mapping
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.registry import formatter_for
from tests.support.kafka import read_topic
from tests.support.services import start_service

SECRET = "whsec-pipedrive-integration-3d7a"
ENV = {"PIPEDRIVE_USER": "pipedrive-sim", "PIPEDRIVE_PASSWORD": "pipedrive-password-int-1"}
SCENARIO = ScenarioConfig(name="tiny", seed=21, reps=6, weeks=1, team_size=6)


@pytest.fixture
def mapping_file(tmp_path: Path) -> Path:
    path = tmp_path / "mapping.json"
    path.write_bytes(orjson.dumps(ingest_mapping(Simulation(SCENARIO).org, ENV)))
    return path


@pytest.fixture
def ingest(
    broker: EmbeddedBroker, topic_prefix: str, tmp_path: Path, mapping_file: Path
) -> Iterator[str]:
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "TOPIC_PREFIX": topic_prefix,
        "INGEST_SECRET": SECRET,
        "INGEST_MAPPING_FILE": str(mapping_file),
        **ENV,
    }
    process: ManagedProcess = start_service("ingest", env, tmp_path)
    assert process.health_url is not None
    yield process.health_url.removesuffix("/healthz")
    process.stop()


def _expected_ids(mapping_file: Path) -> set[str]:
    """What the adapter maps each delivery to in-process, plus the directory events."""
    simulation = Simulation(SCENARIO)
    mapping = MappingConfig.from_json(mapping_file.read_bytes())
    canonical = CanonicalJsonFormatter(secret=SECRET)
    formatter = formatter_for("pipedrive", simulation.org, ENV, canonical=canonical)
    adapter = PipedriveAdapter(ENV["PIPEDRIVE_USER"], None)
    ids: set[str] = set()
    for _, line in simulation.events():
        event = orjson.loads(line)
        if not formatter.accepts(event):
            ids.add(event["event_id"])
            continue
        (delivery,) = formatter.format([event])
        result = adapter.map(orjson.loads(delivery.body), mapping)
        assert isinstance(result, Mapped), result
        ids.update(e.event_id for e in result.events)
    return ids


def _send(url: str) -> None:
    simulation = Simulation(SCENARIO)
    canonical = CanonicalJsonFormatter(secret=SECRET)
    formatter = formatter_for("pipedrive", simulation.org, ENV, canonical=canonical)
    stream = batches(simulation.events(), formatter=formatter, canonical=canonical)
    how = Perturbation(duplicates=0.1, out_of_order=0.1, seed=9)
    with httpx.Client(timeout=30) as client:
        stats = deliver(perturb(stream, how), Sender(url, client=client), Pacer())
    assert stats.by_path.get("/v1/webhooks/pipedrive", 0) > 100


async def test_simulated_pipedrive_deliveries_arrive_once_by_id_and_none_is_parked(
    ingest: str, broker: EmbeddedBroker, topic_prefix: str, mapping_file: Path
) -> None:
    expected = _expected_ids(mapping_file)
    await asyncio.to_thread(_send, ingest)
    records = await read_topic(
        broker.bootstrap_servers,
        topic_name(Topic.SALES_EVENTS, topic_prefix),
        min_count=len(expected),
        timeout=60,
    )
    received = [orjson.loads(record.value)["event_id"] for record in records]
    assert set(received) == expected
    assert len(received) > len(expected)  # the duplicates were sent, and deduped by id
    vendors = {orjson.loads(record.value)["source"]["vendor"] for record in records}
    assert vendors == {"pipedrive", "simulator"}
    parked = await read_topic(
        broker.bootstrap_servers, topic_name(Topic.SALES_EVENTS_DLQ, topic_prefix), timeout=30
    )
    assert parked == []
