"""The simulator's deliveries against the real ingest process and broker.

Canonical JSON, and each CRM format through its adapter with the simulator org's mapping file.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from deploy.local.processes import ManagedProcess, python_module
from shared.clock import monotonic
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.topics import Topic, topic_name
from simulator.config import ScenarioConfig
from simulator.delivery import (
    Pacer,
    Perturbation,
    Sender,
    batches,
    deliver,
    perturb,
)
from simulator.engine import Simulation
from simulator.ingest_mapping import ingest_mapping
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.registry import formatter_for
from tests.support.kafka import read_topic
from tests.support.services import start_service

SECRET = "whsec-sim-integration-5b1e"
VENDOR_ENV = {
    "SALESFORCE_ORG_ID": "00D5e000000SiMuEAK",  # the simulator's default organisation
    "HUBSPOT_CLIENT_SECRET": "hubspot-secret-sim-1",
    "PIPEDRIVE_USER": "pipedrive-sim",
    "PIPEDRIVE_PASSWORD": "pipedrive-password-sim-1",
}
NO_PERTURBATION = Perturbation()
TINY = ScenarioConfig(name="tiny", seed=21, reps=6, weeks=2, team_size=6)


@pytest.fixture
def ingest(
    broker: EmbeddedBroker, topic_prefix: str, tmp_path: Path, hubspot_api: str
) -> Iterator[str]:
    mapping = tmp_path / "ingest-mapping.json"
    document = ingest_mapping(Simulation(TINY).org, VENDOR_ENV)
    mapping.write_bytes(orjson.dumps(document))
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "TOPIC_PREFIX": topic_prefix,
        "INGEST_SECRET": SECRET,
        # HubSpot events are hydrated from the fake the sender loads their records into.
        "HUBSPOT_API_URL": hubspot_api,
        "HUBSPOT_ACCESS_TOKEN": "pat-sim-integration",
        "INGEST_MAPPING_FILE": str(mapping),
        **VENDOR_ENV,
    }
    process: ManagedProcess = start_service("ingest", env, tmp_path)
    assert process.health_url is not None
    yield process.health_url.removesuffix("/healthz")
    process.stop()


@pytest.fixture
def hubspot_api(tmp_path: Path) -> Iterator[str]:
    """The local fake of HubSpot's CRM API, which HubSpot deliveries load their records into."""
    port = free_port()
    process = ManagedProcess(
        "hubspot_api",
        python_module("deploy.local.hubspot_api", "--host", "127.0.0.1", "--port", str(port)),
        log_path=tmp_path / "hubspot_api.log",
        health_url=f"http://127.0.0.1:{port}/healthz",
    ).start(Path.cwd())
    process.wait_healthy(60)
    yield f"http://127.0.0.1:{port}"
    process.stop()


def send(
    url: str,
    simulation: Simulation,
    name: str,
    how: Perturbation = NO_PERTURBATION,
    vendor_api_url: str | None = None,
) -> None:
    canonical = CanonicalJsonFormatter(secret=SECRET)
    formatter = formatter_for(name, simulation.org, VENDOR_ENV, canonical=canonical)
    items = perturb(batches(simulation.events(), formatter=formatter, canonical=canonical), how)
    with httpx.Client(timeout=30) as client:
        deliver(items, Sender(url, client=client, vendor_api_url=vendor_api_url), Pacer())


async def test_every_event_arrives_once_by_id_despite_duplicates_and_reordering(
    ingest: str, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    expected = [orjson.loads(line)["event_id"] for _, line in Simulation(TINY).events()]
    how = Perturbation(duplicates=0.1, out_of_order=0.1, seed=4)
    await asyncio.to_thread(send, ingest, Simulation(TINY), "canonical", how)
    records = await read_topic(
        broker.bootstrap_servers,
        topic_name(Topic.SALES_EVENTS, topic_prefix),
        min_count=len(expected),
        timeout=60,
    )
    received = [orjson.loads(record.value)["event_id"] for record in records]
    assert set(received) == set(expected)
    assert len(received) > len(expected)  # the duplicates really were sent


@pytest.mark.parametrize("vendor", ["salesforce", "salesforce-cdc", "hubspot", "pipedrive"])
async def test_each_vendor_format_arrives_as_the_same_canonical_events(
    vendor: str, ingest: str, hubspot_api: str, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    """The simulator's CRM events, sent in the vendor's format with duplicates, come out of
    ingest as the same number of events of each type (by id, so each once), none parked."""
    simulation = Simulation(TINY.with_(weeks=1))
    expected: Counter[str] = Counter()
    for _, line in Simulation(TINY.with_(weeks=1)).events():  # events() runs once per object
        event = orjson.loads(line)
        expected[event["type"]] += 1  # directory events go through the canonical endpoint
    how = Perturbation(duplicates=0.1, seed=9)
    await asyncio.to_thread(send, ingest, simulation, vendor, how, vendor_api_url=hubspot_api)
    topic = topic_name(Topic.SALES_EVENTS, topic_prefix)
    dlq = topic_name(Topic.SALES_EVENTS_DLQ, topic_prefix)

    async def received() -> Counter[str]:
        records = await read_topic(broker.bootstrap_servers, topic, min_count=expected.total())
        by_id = {orjson.loads(r.value or b"")["event_id"]: r.value for r in records}
        return Counter(orjson.loads(value or b"")["type"] for value in by_id.values())

    # Tansu's end offsets count batches, so one read can stop short: read until it matches.
    deadline = monotonic() + 60
    got = await received()
    while got != expected and monotonic() < deadline:
        got = await received()
    parked = await read_topic(broker.bootstrap_servers, dlq, timeout=10)
    reasons = Counter(orjson.loads(r.value or b"")["detail"][:60] for r in parked)
    assert got == expected, f"parked: {reasons.most_common(5)}"
    assert [record.value for record in parked] == []
