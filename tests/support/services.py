"""Run one of our services as a real process for an integration test."""

from __future__ import annotations

from pathlib import Path

import httpx

from deploy.local.processes import ManagedProcess, python_module
from shared.embedded_broker import free_port
from tests.support.poll import wait_for


def start_service(name: str, env: dict[str, str], log_dir: Path) -> ManagedProcess:
    """Start `python -m services.<name>` on a free port; return once /readyz answers 200."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        name,
        python_module(f"services.{name}"),
        # A database of its own unless the test gives one: never the checkout's var/.
        env={
            "DATABASE_URL": f"sqlite:///{log_dir / f'{name}.db'}",
            **env,
            f"{name.upper()}_PORT": str(port),
            "LOG_LEVEL": "WARNING",
        },
        log_path=log_dir / f"{name}.log",
        health_url=f"{base}/healthz",
    ).start(Path.cwd())
    process.wait_healthy(60)

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz").status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, timeout=60, what=f"{name} ready")
    except AssertionError:
        process.stop()
        raise
    return process
