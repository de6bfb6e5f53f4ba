"""An api app on the fresh database of `engine`, and HTTP clients speaking to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from services.api.app import create_app
from services.api.settings import ApiSettings
from shared.clock import FixedClock
from tests.factories import T0

API_KEY = "test-api-key-7f3a"
AUTH = {"X-API-Key": API_KEY}


@pytest.fixture
def api_settings(db_url: str) -> ApiSettings:
    """Settings as the entry point would build them, with a known key."""
    return ApiSettings(api_key=SecretStr(API_KEY), database_url=db_url)


@pytest.fixture
def app(api_settings: ApiSettings, engine: Engine) -> FastAPI:
    """The application on the test database, its live clock fixed at the factories' T0."""
    return create_app(api_settings, engine=engine, clock=FixedClock(T0))


def _client(app: FastAPI, headers: dict[str, str]) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)
    return httpx.AsyncClient(transport=transport, base_url="http://api.test", headers=headers)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends the API key."""
    async with _client(app, AUTH) as http:
        yield http


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client without credentials."""
    async with _client(app, {}) as http:
        yield http


def rejected_params(response: httpx.Response) -> list[str]:
    """The parameter each error of a 422 body names (`loc` is `[where, name, ...]`)."""
    assert response.status_code == 422, response.text
    return [error["loc"][1] for error in response.json()["detail"]]
