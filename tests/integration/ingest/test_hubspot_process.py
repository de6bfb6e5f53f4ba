"""The ingest process with HubSpot configured, hydrating from the CRM API fake's own process,
fed the simulator's signed HubSpot deliveries over real HTTP (some sent twice), producing to
the real broker: every HubSpot event arrives once by id, as the type it was, nothing parked.

Deliveries are not reordered here: the simulator's sender loads each delivery's records into
the fake just before posting it, so a change sent before its deal's creation would find a
record HubSpot itself would never hold (an update with no creation)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from deploy.local.processes import ManagedProcess, python_module
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.topics import Topic, topic_name
from simulator.config import ScenarioConfig
from simulator.delivery import Pacer, Perturbation, Sender, batches, deliver, perturb
from simulator.engine import Simulation
from simulator.ingest_mapping import ingest_mapping
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.registry import formatter_for
from tests.support.kafka import read_topic
from tests.support.services import start_service

SECRET = "whsec-hubspot-integration-8c1f"
TOKEN = "pat-local-hubspot-integration-5e2b"
ENV = {"HUBSPOT_CLIENT_SECRET": "hubspot-client-secret-int-1"}
SCENARIO = ScenarioConfig(name="tiny", seed=21, reps=6, weeks=1, team_size=6)


@pytest.fixture
def crm_api(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = ManagedProcess(
        "hubspot_api",
        python_module("deploy.local.hubspot_api", "--host", "127.0.0.1", "--port", str(port)),
        env={"HUBSPOT_LOCAL_TOKEN": TOKEN},
        log_path=tmp_path / "hubspot_api.log",
        health_url=f"http://127.0.0.1:{port}/healthz",
    ).start(Path.cwd())
    process.wait_healthy(60)
    yield f"http://127.0.0.1:{port}"
    process.stop()


@pytest.fixture
def ingest(
    broker: EmbeddedBroker, topic_prefix: str, tmp_path: Path, crm_api: str
) -> Iterator[str]:
    mapping_file = tmp_path / "mapping.json"
    mapping_file.write_bytes(orjson.dumps(ingest_mapping(Simulation(SCENARIO).org, ENV)))
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "TOPIC_PREFIX": topic_prefix,
        "INGEST_SECRET": SECRET,
        "INGEST_MAPPING_FILE": str(mapping_file),
        "HUBSPOT_API_URL": crm_api,
        "HUBSPOT_ACCESS_TOKEN": TOKEN,
        **ENV,
    }
    process: ManagedProcess = start_service("ingest", env, tmp_path)
    assert process.health_url is not None
    yield process.health_url.removesuffix("/healthz")
    process.stop()


def _send(url: str, crm_api: str) -> Counter[str]:
    """Send the scenario; the types of the canonical events sent (directory ones included)."""
    simulation = Simulation(SCENARIO)
    canonical = CanonicalJsonFormatter(secret=SECRET)
    formatter = formatter_for("hubspot", simulation.org, ENV, canonical=canonical)
    sent: Counter[str] = Counter()

    def counted() -> Iterator[tuple[int, bytes]]:
        for at, line in simulation.events():
            sent[orjson.loads(line)["type"]] += 1
            yield at, line

    stream = batches(counted(), formatter=formatter, canonical=canonical)
    how = Perturbation(duplicates=0.1, seed=5)
    with httpx.Client(timeout=30) as client:
        sender = Sender(url, client=client, vendor_api_url=crm_api)
        stats = deliver(perturb(stream, how), sender, Pacer())
    assert stats.by_path.get("/v1/webhooks/hubspot", 0) > 50
    return sent


async def test_simulated_hubspot_deliveries_arrive_once_by_id_and_none_is_parked(
    ingest: str, crm_api: str, broker: EmbeddedBroker, topic_prefix: str
) -> None:
    sent = await asyncio.to_thread(_send, ingest, crm_api)
    records = await read_topic(
        broker.bootstrap_servers,
        topic_name(Topic.SALES_EVENTS, topic_prefix),
        min_count=sum(sent.values()),
        timeout=60,
    )
    events = {}
    for record in records:
        event = orjson.loads(record.value)
        events[event["event_id"]] = event
    assert len(records) > len(events)  # the duplicates were sent, and deduped by id
    assert Counter(e["type"] for e in events.values()) == sent
    assert {e["source"]["vendor"] for e in events.values()} == {"hubspot", "simulator"}
    parked = await read_topic(
        broker.bootstrap_servers, topic_name(Topic.SALES_EVENTS_DLQ, topic_prefix), timeout=30
    )
    assert parked == []
