"""Ingest test support: canonical event dicts as a sender would post them, signed headers,
and a client of an app with its lifespan running."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from shared.signing import signed_headers

SECRET = "ingest-test-secret"
NOW = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def call_event(
    delivery_id: str,
    *,
    rep_id: str = "rep-1",
    at: datetime | None = None,
    connected: bool = True,
    **fields: Any,
) -> dict[str, Any]:
    """A call.made event as JSON-ready data, without an event_id (ingest derives it)."""
    return {
        "type": "call.made",
        "occurred_at": (at or NOW - timedelta(minutes=5)).isoformat(),
        "source": {"vendor": "canonical", "delivery_id": delivery_id},
        "rep_id": rep_id,
        "payload": {"connected": connected, "duration_seconds": 120},
        **fields,
    }


def email_event(delivery_id: str, *, rep_id: str = "rep-1") -> dict[str, Any]:
    """An email.sent event as JSON-ready data."""
    return {
        "type": "email.sent",
        "occurred_at": (NOW - timedelta(hours=1)).isoformat(),
        "source": {"vendor": "hubspot", "delivery_id": delivery_id},
        "rep_id": rep_id,
        "account_id": "acc-1",
        "payload": {"subject": "Following up"},
    }


def encode(document: Any) -> bytes:
    """The JSON bytes a sender would put on the wire."""
    return orjson.dumps(document)


def signed(
    body: bytes,
    *,
    at: datetime = NOW,
    secret: str = SECRET,
    content_type: str | None = "application/json",
) -> dict[str, str]:
    """Request headers for `body` signed at `at`."""
    headers = signed_headers(secret, body, at)
    if content_type is not None:
        headers["Content-Type"] = content_type
    return headers


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of `app` in-process, with the app's lifespan (its sink) running."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client
