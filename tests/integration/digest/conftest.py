"""Fixtures for the digest integration tests: the local Slack API and the SMTP catcher."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from deploy.local.slack_api import SlackApiServer
from deploy.local.smtp_catcher import SmtpCatcher

SLACK_TOKEN = "xoxb-digest-integration-secret"


@pytest.fixture
def slack_server() -> Iterator[SlackApiServer]:
    """The local Slack Web API on a free port, accepting only SLACK_TOKEN."""
    with SlackApiServer(token=SLACK_TOKEN) as server:
        yield server


@pytest.fixture
def smtp_catcher(tmp_path: Path) -> Iterator[SmtpCatcher]:
    """An SMTP catcher on a free port saving into a fresh mail dir."""
    with SmtpCatcher(tmp_path / "mail") as catcher:
        yield catcher


def slack_messages(server: SlackApiServer) -> list[dict[str, Any]]:
    """What the local Slack server currently holds."""
    return httpx.get(f"{server.base_url}_messages").json()  # type: ignore[no-any-return]


def slack_calls(server: SlackApiServer, method: str | None = None) -> list[dict[str, Any]]:
    """Every call the local Slack server received, optionally of one method."""
    calls = httpx.get(f"{server.base_url}_calls").json()
    return [call for call in calls if method is None or call["method"] == method]


def inject_fault(server: SlackApiServer, **fault: object) -> None:
    """Make the next calls of a method fail (see deploy/local/slack_api.py)."""
    httpx.post(f"{server.base_url}_faults", json=fault).raise_for_status()
