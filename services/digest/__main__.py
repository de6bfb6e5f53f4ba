"""Run the digest service: `python -m services.digest` (settings from the environment)."""

from __future__ import annotations

import signal
from typing import NoReturn

import uvicorn

from services.digest.app import create_app
from services.digest.settings import DigestSettings
from shared.logging import configure_logging


def _exit_cleanly(signum: int, frame: object) -> NoReturn:  # noqa: ARG001 - signal handler
    raise SystemExit(0)


def main() -> None:
    settings = DigestSettings()
    configure_logging("digest", level=settings.log_level, json=settings.log_json)
    app = create_app(settings)
    # uvicorn stops gracefully on SIGINT/SIGTERM, then re-raises the signal to the handler
    # installed before it ran; exiting there makes a requested stop exit with status 0.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _exit_cleanly)
    uvicorn.run(
        app,
        host=settings.digest_host,
        port=settings.digest_port,
        log_config=None,  # keep the logging configured above
        ws="none",
        lifespan="on",
    )


if __name__ == "__main__":
    main()
