"""API key enforcement, the open routes, readiness and request metrics."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from sqlalchemy import create_engine

from services.api.app import create_app
from services.api.settings import ApiSettings
from tests.integration.api.conftest import API_KEY

PROTECTED = [
    "/v1/alerts",
    "/v1/alerts/abc",
    "/v1/reps/rep-1",
    "/v1/reps/rep-1/metrics",
    "/v1/opportunities/opp-1",
]


@pytest.mark.parametrize("path", PROTECTED)
async def test_every_v1_route_needs_the_key(anonymous: httpx.AsyncClient, path: str) -> None:
    response = await anonymous.get(path)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="salescoach-api"'


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "wrong"},
        {"X-API-Key": ""},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {API_KEY}"},
        {"Authorization": API_KEY},
        {"X-API-Key": API_KEY.upper()},
        {"X-API-Key": API_KEY + "x"},
    ],
)
async def test_a_wrong_or_misplaced_key_is_401(
    anonymous: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await anonymous.get("/v1/alerts", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert API_KEY not in response.text


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": API_KEY},
        {"Authorization": f"Bearer {API_KEY}"},
        {"Authorization": f"bearer {API_KEY}"},
        {"X-API-Key": "wrong", "Authorization": f"Bearer {API_KEY}"},
    ],
)
async def test_with_the_key_in_either_header_is_let_through(
    anonymous: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    assert (await anonymous.get("/v1/alerts", headers=headers)).status_code == 200


async def test_wrong_key_says_invalid_token(anonymous: httpx.AsyncClient) -> None:
    missing = await anonymous.get("/v1/alerts")
    wrong = await anonymous.get("/v1/alerts", headers={"X-API-Key": "nope"})
    assert "invalid_token" not in missing.headers["WWW-Authenticate"]
    assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/docs", "/openapi.json"])
async def test_health_docs_and_schema_are_open(anonymous: httpx.AsyncClient, path: str) -> None:
    assert (await anonymous.get(path)).status_code == 200


async def test_ready_when_the_database_answers(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/readyz")
    assert response.json() == {"status": "ready", "checks": {"database": True}}


async def test_not_ready_when_the_database_does_not_answer(tmp_path: Path) -> None:
    # A directory is no SQLite database: every connection attempt fails.
    broken = create_engine(f"sqlite:///{tmp_path}")
    app = create_app(ApiSettings(api_key=SecretStr(API_KEY)), engine=broken)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        response = await http.get("/readyz")
    broken.dispose()
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False}


def _requests(route: str, status: str) -> float:
    labels = {"route": route, "method": "GET", "status": status}
    return REGISTRY.get_sample_value("salescoach_api_requests_total", labels) or 0.0


def _timed(route: str) -> float:
    labels = {"route": route, "method": "GET"}
    return REGISTRY.get_sample_value("salescoach_api_request_duration_seconds_count", labels) or 0.0


async def test_requests_are_counted_by_route_template(client: httpx.AsyncClient) -> None:
    template = "/v1/alerts/{fingerprint}"
    before = _requests(template, "404"), _timed(template), _requests("unmatched", "404")
    await client.get("/v1/alerts/first-unknown")
    await client.get("/v1/alerts/second-unknown")
    await client.get("/no/such/path/at/all")
    after = _requests(template, "404"), _timed(template), _requests("unmatched", "404")
    assert after == (before[0] + 2, before[1] + 2, before[2] + 1)
    exposition = (await client.get("/metrics")).text
    assert 'route="/v1/alerts/{fingerprint}"' in exposition
    assert "first-unknown" not in exposition


async def test_unauthenticated_requests_are_counted_too(anonymous: httpx.AsyncClient) -> None:
    before = _requests("/v1/reps/{rep_id}", "401")
    await anonymous.get("/v1/reps/rep-1")
    assert _requests("/v1/reps/{rep_id}", "401") == before + 1


async def test_openapi_documents_auth_and_errors(anonymous: httpx.AsyncClient) -> None:
    spec = (await anonymous.get("/openapi.json")).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["ApiKeyHeader"]["description"],
    }
    assert schemes["BearerApiKey"]["scheme"] == "bearer"
    for path, operations in spec["paths"].items():
        operation = operations["get"]
        assert operation["description"], path
        assert {"200", "401", "422"} <= set(operation["responses"]), path
        assert operation["security"], path
    assert "404" in spec["paths"]["/v1/alerts/{fingerprint}"]["get"]["responses"]
