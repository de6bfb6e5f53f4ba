"""The local Slack API served on a socket, driven by the real slack_sdk AsyncWebClient."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from deploy.local.slack_api import SlackApiServer, dm_channel_for, user_id_for
from shared.embedded_broker import free_port
from tests.support.poll import wait_for

TOKEN = "xoxb-integration-secret"


@pytest.fixture
def server() -> Iterator[SlackApiServer]:
    with SlackApiServer() as running:
        yield running


def client(server: SlackApiServer, *, token: str = TOKEN, retries: int = 0) -> AsyncWebClient:
    handlers = [
        AsyncRateLimitErrorRetryHandler(max_retry_count=retries),
        AsyncServerErrorRetryHandler(max_retry_count=retries),
    ]
    return AsyncWebClient(token=token, base_url=server.base_url, retry_handlers=handlers)


def calls(server: SlackApiServer) -> list[dict[str, object]]:
    return httpx.get(f"{server.base_url}_calls").json()  # type: ignore[no-any-return]


async def test_lookup_open_post_update_as_slack_sdk_sends_them(server: SlackApiServer) -> None:
    slack = client(server)
    assert (await slack.auth_test())["user_id"] == "U0LOCALBOT"
    user = await slack.users_lookupByEmail(email="mia@example.com")
    assert user["user"]["id"] == user_id_for("mia@example.com")
    opened = await slack.conversations_open(users=user["user"]["id"])
    channel = opened["channel"]["id"]
    assert channel == dm_channel_for(user["user"]["id"])
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hello*"}}]
    posted = await slack.chat_postMessage(channel=channel, text="hello", blocks=blocks)
    assert posted["channel"] == channel and posted["message"]["blocks"] == blocks
    second = await slack.chat_postMessage(channel=channel, text="again")
    assert float(second["ts"]) > float(posted["ts"])
    await slack.chat_update(channel=channel, ts=posted["ts"], text="edited", blocks=[])

    messages = httpx.get(f"{server.base_url}_messages").json()
    first = next(m for m in messages if m["ts"] == posted["ts"])
    assert (first["text"], first["updated"], first["user_email"]) == (
        "edited",
        True,
        "mia@example.com",
    )
    assert first["history"] == [{"text": "hello", "blocks": blocks}]
    encodings = {(c["method"], c["http_verb"], c["encoding"]) for c in calls(server)}
    assert encodings >= {
        ("users.lookupByEmail", "GET", "query"),
        ("conversations.open", "POST", "query"),
        ("chat.postMessage", "POST", "json"),
        ("chat.update", "POST", "json"),
        ("auth.test", "POST", "query"),
    }
    assert TOKEN not in httpx.get(f"{server.base_url}_calls").text


async def test_updating_an_unknown_message_fails(server: SlackApiServer) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client(server).chat_update(channel="D0", ts="1700000000.000001", text="x")
    assert raised.value.response["error"] == "message_not_found"


async def test_rate_limit_is_retried_after_retry_after(server: SlackApiServer) -> None:
    fault = {"method": "chat.postMessage", "status": 429, "retry_after": 1, "times": 2}
    httpx.post(f"{server.base_url}_faults", json=fault).raise_for_status()
    started = time.monotonic()
    posted = await client(server, retries=2).chat_postMessage(channel="D1", text="eventually")
    assert posted["ok"] is True
    assert time.monotonic() - started >= 2.0  # honoured Retry-After twice
    outcomes = [c["outcome"] for c in calls(server) if c["method"] == "chat.postMessage"]
    assert outcomes == ["fault_429", "fault_429", "ok"]


async def test_rate_limit_without_retries_surfaces_429(server: SlackApiServer) -> None:
    httpx.post(f"{server.base_url}_faults", json={"method": "chat.postMessage", "status": 429})
    with pytest.raises(SlackApiError) as raised:
        await client(server).chat_postMessage(channel="D1", text="x")
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "1"


async def test_server_errors_are_retried(server: SlackApiServer) -> None:
    fault = {"method": "chat.postMessage", "status": 500, "times": 1}
    httpx.post(f"{server.base_url}_faults", json=fault).raise_for_status()
    posted = await client(server, retries=1).chat_postMessage(channel="D1", text="x")
    assert posted["ok"] is True
    outcomes = [c["outcome"] for c in calls(server) if c["method"] == "chat.postMessage"]
    assert outcomes == ["fault_500", "ok"]


async def test_an_invalid_token_is_refused(server: SlackApiServer) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client(server, token="not-a-bot-token").chat_postMessage(channel="D1", text="x")
    assert raised.value.response["error"] == "invalid_auth"


def test_command_line_server_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "deploy.local.slack_api",
        "--port",
        str(port),
        "--state-dir",
        str(tmp_path),
        "--log-level",
        "warning",
    ]
    process = subprocess.Popen(command, env={**os.environ}, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/healthz").status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=30, what="slack api healthz")
        posted = httpx.post(
            f"{url}/api/chat.postMessage",
            json={"channel": "D1", "text": "x"},
            headers={"Authorization": "Bearer xoxb-cli"},
        )
        assert posted.json()["ok"] is True
        assert (tmp_path / "slack-state.json").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 0, stderr.decode()
