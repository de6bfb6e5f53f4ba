"""The Slack notifier against the local Slack API: the contract every notifier keeps
(delivered / retryable / permanent, and no secret in results, repr or logs)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
import structlog
from pydantic import SecretStr

from deploy.local.slack_api import SlackApiServer, dm_channel_for, user_id_for
from services.digest.notifiers import Outcome, Recipient, SlackNotifier
from shared.alerting import AlertState
from shared.embedded_broker import free_port
from tests.integration.digest.conftest import SLACK_TOKEN, inject_fault, slack_calls, slack_messages
from tests.unit.services.digest.factories import alert

MANAGER = Recipient("mgr-1", "Mia Manager", "mia@example.com")
T0 = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def notifier(base_url: str, token: str = SLACK_TOKEN) -> SlackNotifier:
    return SlackNotifier(
        token=SecretStr(token),
        base_url=base_url,
        link_base="http://app.local",
        rate_limit_retries=2,
        server_error_retries=2,
        timeout_seconds=5,
    )


async def test_post_lands_in_the_managers_dm_then_update_edits_it(
    slack_server: SlackApiServer,
) -> None:
    slack = notifier(slack_server.base_url)
    posted = await slack.send(alert(), MANAGER)
    assert posted.outcome is Outcome.DELIVERED and posted.ref
    [message] = slack_messages(slack_server)
    assert message["channel"] == dm_channel_for(user_id_for(MANAGER.email))
    assert (message["ts"], message["user_email"]) == (posted.ref, MANAGER.email)
    assert message["blocks"][0]["text"]["text"] == "⚠️ Globex renewal has gone quiet"

    updated = await slack.update(alert(AlertState.RESOLVED), MANAGER, posted.ref)
    assert (updated.outcome, updated.ref) == (Outcome.DELIVERED, posted.ref)
    [message] = slack_messages(slack_server)
    assert message["updated"] is True
    assert message["blocks"][0]["text"]["text"].startswith("✅ Resolved: ")
    # The DM was resolved once (lookup + open) and then reused.
    assert len(slack_calls(slack_server, "users.lookupByEmail")) == 1
    assert len(slack_calls(slack_server, "conversations.open")) == 1


async def test_rate_limited_posts_are_retried_after_retry_after(
    slack_server: SlackApiServer,
) -> None:
    inject_fault(slack_server, method="chat.postMessage", status=429, retry_after=1, times=2)
    result = await notifier(slack_server.base_url).send(alert(), MANAGER)
    assert result.outcome is Outcome.DELIVERED
    outcomes = [c["outcome"] for c in slack_calls(slack_server, "chat.postMessage")]
    assert outcomes == ["fault_429", "fault_429", "ok"]
    assert len(slack_messages(slack_server)) == 1


async def test_server_errors_are_retried(slack_server: SlackApiServer) -> None:
    inject_fault(slack_server, method="chat.postMessage", status=500, times=2)
    result = await notifier(slack_server.base_url).send(alert(), MANAGER)
    assert result.outcome is Outcome.DELIVERED
    outcomes = [c["outcome"] for c in slack_calls(slack_server, "chat.postMessage")]
    assert outcomes == ["fault_500", "fault_500", "ok"]


async def test_persistent_rate_limiting_is_retryable(slack_server: SlackApiServer) -> None:
    inject_fault(slack_server, method="chat.postMessage", status=429, retry_after=0, times=5)
    result = await notifier(slack_server.base_url).send(alert(), MANAGER)
    assert result.outcome is Outcome.RETRYABLE
    assert result.detail == "slack ratelimited (HTTP 429)"


async def test_an_invalid_token_is_a_permanent_failure(slack_server: SlackApiServer) -> None:
    result = await notifier(slack_server.base_url, token="xoxb-wrong").send(alert(), MANAGER)
    assert result.outcome is Outcome.PERMANENT
    assert result.detail == "slack invalid_auth (HTTP 200)"
    assert slack_messages(slack_server) == []


async def test_an_unknown_slack_user_is_a_permanent_failure(slack_server: SlackApiServer) -> None:
    ghost = Recipient("mgr-9", "Ghost", "ghost@nowhere.invalid")
    result = await notifier(slack_server.base_url).send(alert(), ghost)
    assert result.outcome is Outcome.PERMANENT
    assert "users_not_found" in (result.detail or "")


async def test_editing_a_vanished_message_is_a_permanent_failure(
    slack_server: SlackApiServer,
) -> None:
    result = await notifier(slack_server.base_url).update(alert(), MANAGER, "1700000000.000001")
    assert result.outcome is Outcome.PERMANENT
    assert "message_not_found" in (result.detail or "")


async def test_an_unreachable_slack_is_retryable() -> None:
    result = await notifier(f"http://127.0.0.1:{free_port()}/api/").send(alert(), MANAGER)
    assert result.outcome is Outcome.RETRYABLE
    assert result.ambiguous is True  # a post that fails in transit might have landed


async def test_no_token_in_results_repr_or_logs(
    slack_server: SlackApiServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # slack_sdk logs requests at DEBUG
    with structlog.testing.capture_logs() as structured:
        slack = notifier(slack_server.base_url)
        results = [
            await slack.send(alert(), MANAGER),
            await notifier(slack_server.base_url, token="xoxb-wrong").send(alert(), MANAGER),
        ]
    everything = repr(slack) + repr(results) + caplog.text + repr(structured)
    assert SLACK_TOKEN not in everything
    assert "xoxb-wrong" not in everything
    assert SLACK_TOKEN not in repr(slack_calls(slack_server))
