"""The local Slack API in-process (ASGI, no sockets): ids, ts, auth, encodings, faults."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from deploy.local.slack_api import SlackState, create_app, dm_channel_for, user_id_for

AUTH = {"Authorization": "Bearer xoxb-unit"}


def asgi_client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://slack.test")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(create_app()) as running:
        yield running


def test_ids_are_deterministic_and_slack_shaped() -> None:
    user = user_id_for("Mia@Example.com")
    assert user == user_id_for("mia@example.com") != user_id_for("max@example.com")
    assert user.startswith("U") and len(user) == 11 and user.isupper()
    assert dm_channel_for(user).startswith("D") and dm_channel_for(user) == dm_channel_for(user)


def test_ts_is_unique_increasing_and_slack_formatted() -> None:
    state = SlackState()
    stamps = [state.next_ts() for _ in range(1000)]
    assert stamps == sorted(stamps, key=float) and len(set(stamps)) == 1000
    seconds, micros = stamps[0].split(".")
    assert len(seconds) == 10 and len(micros) == 6


@pytest.mark.parametrize(
    ("headers", "error"),
    [({}, "not_authed"), ({"Authorization": "Bearer xoxp-user"}, "invalid_auth")],
)
async def test_auth_is_required(
    client: httpx.AsyncClient, headers: dict[str, str], error: str
) -> None:
    response = await client.post("/api/auth.test", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"ok": False, "error": error}


async def test_a_configured_token_is_the_only_one_accepted() -> None:
    async with asgi_client(create_app(token="xoxb-the-one")) as client:
        wrong = await client.post("/api/auth.test", headers=AUTH)
        right = await client.post(
            "/api/auth.test", headers={"Authorization": "Bearer xoxb-the-one"}
        )
    assert wrong.json()["error"] == "invalid_auth"
    assert right.json()["ok"] is True


async def test_form_bodies_and_token_parameters_work_too(client: httpx.AsyncClient) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}]
    form = {"token": "xoxb-form", "channel": "D123", "text": "hi", "blocks": json.dumps(blocks)}
    response = await client.post("/api/chat.postMessage", data=form)
    assert response.json()["ok"] is True
    [message] = (await client.get("/api/_messages")).json()
    assert message["blocks"] == blocks
    [call] = (await client.get("/api/_calls")).json()
    assert call["encoding"] == "form" and "token" not in call["args"]


async def test_posting_to_a_user_id_lands_in_their_dm(client: httpx.AsyncClient) -> None:
    user = await client.get(
        "/api/users.lookupByEmail", params={"email": "mia@example.com"}, headers=AUTH
    )
    user_id = user.json()["user"]["id"]
    posted = await client.post(
        "/api/chat.postMessage", json={"channel": user_id, "text": "hi"}, headers=AUTH
    )
    assert posted.json()["channel"] == dm_channel_for(user_id)
    [message] = (await client.get("/api/_messages")).json()
    assert (message["user"], message["user_email"]) == (user_id, "mia@example.com")


@pytest.mark.parametrize(
    ("method", "body", "error"),
    [
        ("chat.postMessage", {"channel": "D1"}, "no_text"),
        ("chat.postMessage", {"text": "x"}, "channel_not_found"),
        ("chat.update", {"channel": "D1", "ts": "1.000001", "text": "x"}, "message_not_found"),
        ("users.lookupByEmail", {"email": "ghost@nowhere.invalid"}, "users_not_found"),
        ("users.lookupByEmail", {}, "invalid_arguments"),
        ("conversations.open", {}, "users_list_not_supplied"),
    ],
)
async def test_errors(
    client: httpx.AsyncClient, method: str, body: dict[str, str], error: str
) -> None:
    response = await client.post(f"/api/{method}", json=body, headers=AUTH)
    assert response.json() == {"ok": False, "error": error}


async def test_unknown_methods_are_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/chat.delete", json={}, headers=AUTH)
    assert response.status_code == 404 and response.json()["error"] == "unknown_method"


async def test_faults_fire_the_given_number_of_times(client: httpx.AsyncClient) -> None:
    fault = {"method": "auth.test", "status": 429, "retry_after": 3, "times": 2}
    await client.post("/api/_faults", json=fault)
    responses = [await client.post("/api/auth.test", headers=AUTH) for _ in range(3)]
    assert [r.status_code for r in responses] == [429, 429, 200]
    assert responses[0].headers["Retry-After"] == "3"
    assert responses[0].json() == {"ok": False, "error": "ratelimited"}
    await client.post("/api/_faults", json={"method": "auth.test", "status": 500})
    assert (await client.post("/api/auth.test", headers=AUTH)).status_code == 500


async def test_reset_clears_messages_calls_and_faults(client: httpx.AsyncClient) -> None:
    await client.post("/api/chat.postMessage", json={"channel": "D1", "text": "x"}, headers=AUTH)
    await client.post("/api/_faults", json={"method": "auth.test", "status": 500})
    await client.delete("/api/_messages")
    assert (await client.get("/api/_messages")).json() == []
    assert (await client.get("/api/_calls")).json() == []
    assert (await client.post("/api/auth.test", headers=AUTH)).status_code == 200


async def test_messages_persist_in_the_state_dir(tmp_path: Path) -> None:
    post = {"channel": "D1", "text": "x"}
    async with asgi_client(create_app(tmp_path)) as first:
        ts = (await first.post("/api/chat.postMessage", json=post, headers=AUTH)).json()["ts"]
    async with asgi_client(create_app(tmp_path)) as again:
        assert [m["ts"] for m in (await again.get("/api/_messages")).json()] == [ts]
        edit = {"channel": "D1", "ts": ts, "text": "y"}
        assert (await again.post("/api/chat.update", json=edit, headers=AUTH)).json()["ok"]
        later = await again.post("/api/chat.postMessage", json=post, headers=AUTH)
    assert float(later.json()["ts"]) > float(ts)


async def test_health_routes(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).status_code == 200
    assert (await client.get("/metrics")).status_code == 200
