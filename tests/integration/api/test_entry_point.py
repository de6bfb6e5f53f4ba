"""`python -m services.api` serves real HTTP with settings from the environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from tests.factories import make_rep, save
from tests.support.poll import wait_for

ROOT = Path(__file__).resolve().parents[3]
KEY = "entry-point-key-91c2"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def served(db_url: str, engine: Engine, tmp_path: Path) -> Iterator[str]:
    """The api as its own process on a free port; yields its base URL."""
    save(engine, make_rep())
    port = _free_port()
    env = os.environ | {
        "API_HOST": "127.0.0.1",
        "API_PORT": str(port),
        "API_KEY": KEY,
        "DATABASE_URL": db_url,
        "LOG_LEVEL": "INFO",
    }
    log = (tmp_path / "api.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "services.api"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base, process), timeout=30, what="the api to answer /healthz")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
    logged = (tmp_path / "api.log").read_text()
    assert "api starting" in logged
    assert KEY not in logged


def _answers(base: str, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, "the api process exited"
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_serves_with_the_key_from_the_environment(served: str) -> None:
    assert httpx.get(f"{served}/readyz").status_code == 200
    assert httpx.get(f"{served}/v1/reps/rep-1").status_code == 401
    response = httpx.get(f"{served}/v1/reps/rep-1", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 200
    assert response.json()["name"] == "Rep rep-1"
    assert httpx.get(f"{served}/docs").status_code == 200
