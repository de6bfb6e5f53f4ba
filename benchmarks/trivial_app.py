"""The ingest benchmark's baseline: the least a FastAPI endpoint at `POST /v1/events` can do.

It reads the raw body and answers a small 202 JSON, on the same server settings as ingest,
so the ratio is what authentication, validation, producing and recording cost on top.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


def create_app() -> FastAPI:
    """The trivial app: `POST /v1/events` and `GET /healthz`."""
    app = FastAPI(title="ingest benchmark baseline")

    @app.post("/v1/events", status_code=202)
    async def post_events(request: Request) -> JSONResponse:
        body = await request.body()
        return JSONResponse({"accepted": 1, "bytes": len(body)}, status_code=202)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
