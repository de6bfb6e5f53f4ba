"""The simulator's deliveries against the real ingest process and broker.

Canonical JSON is accepted today; each vendor format waits on ingest's adapter (issue 4):
those tests are strict xfails, so the day an adapter lands they fail until the mark is removed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from deploy.local.processes import ManagedProcess, python_module
from shared.embedded_broker import EmbeddedBroker, free_port
from shared.topics import Topic, topic_name
from simulator.config import ScenarioConfig
from simulator.delivery import (
    DeliveryRefused,
    Pacer,
    Perturbation,
    Sender,
    batches,
    deliver,
    perturb,
)
from simulator.engine import Simulation
from simulator.vendors.generic import CanonicalJsonFormatter
from simulator.vendors.registry import formatter_for
from tests.support.kafka import read_topic
from tests.support.services import start_service

SECRET = "whsec-sim-integration-5b1e"
VENDOR_ENV = {
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
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "TOPIC_PREFIX": topic_prefix,
        "INGEST_SECRET": SECRET,
        # HubSpot events are hydrated from the fake the sender loads their records into.
        "HUBSPOT_API_URL": hubspot_api,
        "HUBSPOT_ACCESS_TOKEN": "pat-sim-integration",
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


# Per vendor: the mark comes off each vendor's case the day its adapter lands.
WAITING_ON_ADAPTER = pytest.mark.xfail(
    strict=True,
    raises=DeliveryRefused,
    reason="waiting on issue 4: ingest has no adapter for this vendor's webhooks yet",
)


@pytest.mark.parametrize(
    "vendor",
    [
        pytest.param("salesforce", marks=WAITING_ON_ADAPTER),
        pytest.param("salesforce-cdc", marks=WAITING_ON_ADAPTER),
        "hubspot",
        "pipedrive",
    ],
)
async def test_vendor_deliveries_are_accepted_by_ingest(
    vendor: str, ingest: str, hubspot_api: str
) -> None:
    simulation = Simulation(TINY.with_(weeks=1))
    try:
        await asyncio.to_thread(send, ingest, simulation, vendor, vendor_api_url=hubspot_api)
    except DeliveryRefused as refused:
        assert " answered 404" in str(refused)  # no route yet, not a delivery it rejected
        raise
