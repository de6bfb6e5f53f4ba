"""Serve one of the ingest benchmark's apps with uvicorn, one worker, as ingest serves.

`python -m benchmarks.serve ingest|trivial --port N [--profile FILE]`; ingest takes its
settings from the environment (INGEST_SECRET, KAFKA_BOOTSTRAP_SERVERS, ...). Both apps get
the same server settings as `python -m services.ingest`: loop and http "auto" (uvloop,
httptools), uvicorn's log config off, no access log. With --profile the process runs under
cProfile and writes its stats to FILE when it stops (SIGTERM/SIGINT).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import signal

import uvicorn
from fastapi import FastAPI

from benchmarks import trivial_app
from shared.embedded_broker import HOST
from shared.logging import configure_logging

APPS = ("ingest", "trivial")


def build(name: str) -> FastAPI:
    if name == "trivial":
        return trivial_app.create_app()
    from services.ingest.app import create_app
    from services.ingest.settings import IngestSettings

    return create_app(IngestSettings())


def serve(name: str, port: int) -> None:
    configure_logging(f"bench-{name}", level=os.environ.get("LOG_LEVEL", "INFO"))
    uvicorn.run(build(name), host=HOST, port=port, log_config=None, access_log=False)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.serve")
    parser.add_argument("app", choices=APPS)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--profile", help="write cProfile stats here on exit")
    args = parser.parse_args()
    if args.profile is None:
        serve(args.app, args.port)
        return
    # uvicorn re-raises the stop signal once shut down; ignore it so the stats get written.
    signal.signal(signal.SIGTERM, lambda *_: None)
    signal.signal(signal.SIGINT, lambda *_: None)
    profiler = cProfile.Profile()
    try:
        profiler.runcall(serve, args.app, args.port)
    finally:
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
