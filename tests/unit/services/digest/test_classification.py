"""Failure classification of the Slack and SMTP adapters, and the retry backoff."""

from __future__ import annotations

import aiosmtplib
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from services.digest.delivery import RetryPolicy
from services.digest.notifiers import email, slack
from services.digest.notifiers.base import Outcome


def api_error(status: int, body: dict[str, object]) -> SlackApiError:
    response = AsyncSlackResponse(
        client=AsyncWebClient(),
        http_verb="POST",
        api_url="http://slack.local/api/chat.postMessage",
        req_args={},
        data=body,
        headers={},
        status_code=status,
    )
    return SlackApiError("failed", response)


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (429, "ratelimited", Outcome.RETRYABLE),
        (500, "internal_error", Outcome.RETRYABLE),
        (503, None, Outcome.RETRYABLE),
        (200, "fatal_error", Outcome.RETRYABLE),
        (200, "invalid_auth", Outcome.PERMANENT),
        (200, "not_authed", Outcome.PERMANENT),
        (200, "users_not_found", Outcome.PERMANENT),
        (200, "channel_not_found", Outcome.PERMANENT),
        (200, "message_not_found", Outcome.PERMANENT),
        (200, "invalid_blocks", Outcome.PERMANENT),
    ],
)
def test_slack_classification(status: int, error: str | None, outcome: Outcome) -> None:
    body: dict[str, object] = {"ok": False} | ({"error": error} if error else {})
    result = slack.classify(api_error(status, body))
    assert result.outcome is outcome
    assert str(status) in (result.detail or "")


@pytest.mark.parametrize(
    ("error", "outcome", "ambiguous"),
    [
        (aiosmtplib.SMTPConnectError("refused"), Outcome.RETRYABLE, False),
        (aiosmtplib.SMTPConnectTimeoutError("slow"), Outcome.RETRYABLE, False),
        (aiosmtplib.SMTPReadTimeoutError("after DATA"), Outcome.RETRYABLE, True),
        (aiosmtplib.SMTPServerDisconnected("gone"), Outcome.RETRYABLE, True),
        (aiosmtplib.SMTPDataError(451, "try later"), Outcome.RETRYABLE, False),
        (aiosmtplib.SMTPDataError(554, "rejected"), Outcome.PERMANENT, False),
        (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), Outcome.PERMANENT, False),
        (
            aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no", "a@b")]),
            Outcome.PERMANENT,
            False,
        ),
        (
            aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "busy", "a@b")]),
            Outcome.RETRYABLE,
            False,
        ),
    ],
)
def test_smtp_classification(error: Exception, outcome: Outcome, ambiguous: bool) -> None:
    result = email.classify(error)
    assert (result.outcome, result.ambiguous) == (outcome, ambiguous)


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(initial_seconds=0.5, max_seconds=4.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert policy.delay(10_000) == 4.0
