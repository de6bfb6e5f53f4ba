"""`python -m services.ingest` as its own process: env settings, topics, serving, clean exit."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from services.ingest.settings import IngestSettings
from shared.embedded_broker import EmbeddedBroker, free_port
from tests.integration.ingest.topic import read_all
from tests.support.poll import wait_for
from tests.unit.services.ingest.support import call_event, encode, signed

PROCESS_SECRET = "process-test-secret-8f2c"


@pytest.fixture
def process_settings(broker: EmbeddedBroker, topic_prefix: str) -> IngestSettings:
    """What the child process is configured with, through its environment."""
    return IngestSettings(
        kafka_bootstrap_servers=broker.bootstrap_servers,
        topic_prefix=topic_prefix,
        ingest_port=free_port(),
        ingest_secret=SecretStr(PROCESS_SECRET),
    )


@pytest.fixture
def ingest_process(process_settings: IngestSettings, tmp_path: Path) -> Iterator[Path]:
    """The ingest process, running until the test ends; yields its log file."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": process_settings.kafka_bootstrap_servers,
        "TOPIC_PREFIX": process_settings.topic_prefix,
        "INGEST_PORT": str(process_settings.ingest_port),
        "INGEST_SECRET": PROCESS_SECRET,
        "LOG_JSON": "true",
    }
    log_path = tmp_path / "ingest.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.ingest"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield log_path
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.wait(timeout=15) in (0, -signal.SIGTERM), log_path.read_text()
        assert "Application shutdown complete" in log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _ready(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


async def test_the_process_serves_signed_events_onto_the_topic(
    ingest_process: Path, process_settings: IngestSettings
) -> None:
    base_url = f"http://127.0.0.1:{process_settings.ingest_port}"
    wait_for(lambda: _ready(base_url), timeout=30, what="ingest /readyz")
    now = datetime.now(UTC)
    body = encode(call_event("proc-1", rep_id="rep-p", at=now - timedelta(minutes=1)))

    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            "/v1/events", content=body, headers=signed(body, at=now, secret=PROCESS_SECRET)
        )
        refused = await client.post("/v1/events", content=body, headers={"X-Other": "1"})
        metrics = (await client.get("/metrics")).text

    assert response.status_code == 202, response.text
    [record] = await read_all(process_settings)
    assert record.key == b"rep-p"
    assert 'salescoach_ingest_requests_total{outcome="accepted",vendor="canonical"} 1.0' in metrics
    lines = [json.loads(line) for line in ingest_process.read_text().splitlines() if "{" in line]
    logged = [line for line in lines if line.get("event") == "ingest request"]
    # Refusals are logged at INFO; plain acceptances only at DEBUG (the counters have them).
    assert [(line["outcome"], line["status"]) for line in logged] == [("unauthorized", 401)]
    assert refused.status_code == 401
    assert PROCESS_SECRET not in ingest_process.read_text()
