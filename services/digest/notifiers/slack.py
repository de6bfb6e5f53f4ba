"""Slack DMs through the real `slack_sdk` client: post once, then edit the same message."""

from __future__ import annotations

from collections.abc import Awaitable

import aiohttp
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from services.digest.notifiers.base import DeliveryResult, Recipient
from services.digest.notifiers.blocks import alert_message
from shared.alerting import AlertMessage

# Errors Slack answers with HTTP 200 that still clear up by themselves; every other
# `ok: false` error is a problem with the request, token or workspace, so retrying is futile.
RETRYABLE_ERRORS = frozenset(
    {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
DM_CACHE_MAX = 10_000


def classify(error: SlackApiError) -> DeliveryResult:
    """Retryable for rate limits and server trouble, permanent for everything else."""
    status = error.response.status_code
    code = error.response.get("error") if isinstance(error.response.data, dict) else None
    detail = f"slack {code or 'error'} (HTTP {status})"
    if status == 429 or status >= 500 or code in RETRYABLE_ERRORS:
        return DeliveryResult.retryable(detail)
    return DeliveryResult.permanent(detail)


class SlackNotifier:
    """Direct messages to managers, found by email (users.lookupByEmail, conversations.open)."""

    channel = "slack"

    def __init__(
        self,
        *,
        token: SecretStr,
        base_url: str,
        link_base: str | None = None,
        rate_limit_retries: int = 2,
        server_error_retries: int = 2,
        timeout_seconds: int = 10,
    ) -> None:
        # Only the connection-error handler is on by default; 429 and 5xx are ours to add.
        handlers = [
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
            AsyncServerErrorRetryHandler(max_retry_count=server_error_retries),
        ]
        self._client = AsyncWebClient(
            token=token.get_secret_value(),
            base_url=base_url,
            timeout=timeout_seconds,
            retry_handlers=handlers,
        )
        self._link_base = link_base
        self._dm_by_email: dict[str, str] = {}

    def __repr__(self) -> str:
        return f"SlackNotifier(base_url={self._client.base_url!r})"

    async def send(self, alert: AlertMessage, recipient: Recipient) -> DeliveryResult:
        """Post the alert to the recipient's DM; the result's ref is the message ts."""
        return await self._attempt(self._post(alert, recipient), recipient, ambiguous=True)

    async def update(self, alert: AlertMessage, recipient: Recipient, ref: str) -> DeliveryResult:
        """Rewrite the message `ref` in the recipient's DM to show the alert as it is now."""
        return await self._attempt(self._edit(alert, recipient, ref), recipient, ambiguous=False)

    async def _post(self, alert: AlertMessage, recipient: Recipient) -> DeliveryResult:
        channel = await self._dm_channel(recipient.email)
        message = alert_message(alert, link=self._link(alert))
        response = await self._client.chat_postMessage(
            channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False
        )
        return DeliveryResult.delivered(str(response["ts"]))

    async def _edit(self, alert: AlertMessage, recipient: Recipient, ts: str) -> DeliveryResult:
        channel = await self._dm_channel(recipient.email)
        message = alert_message(alert, link=self._link(alert))
        await self._client.chat_update(
            channel=channel, ts=ts, text=message.text, blocks=message.blocks
        )
        return DeliveryResult.delivered(ts)

    async def _attempt(
        self, call: Awaitable[DeliveryResult], recipient: Recipient, *, ambiguous: bool
    ) -> DeliveryResult:
        try:
            return await call
        except SlackApiError as error:
            self._dm_by_email.pop(recipient.email, None)  # the DM may be what is wrong
            return classify(error)
        except (TimeoutError, aiohttp.ClientError, OSError) as error:
            return DeliveryResult.retryable(
                f"slack transport error: {type(error).__name__}", ambiguous=ambiguous
            )
        except SlackClientError as error:
            return DeliveryResult.permanent(f"slack client error: {type(error).__name__}")

    async def _dm_channel(self, email: str) -> str:
        if (cached := self._dm_by_email.get(email)) is not None:
            return cached
        user = await self._client.users_lookupByEmail(email=email)
        opened = await self._client.conversations_open(users=str(user["user"]["id"]))
        channel = str(opened["channel"]["id"])
        if len(self._dm_by_email) >= DM_CACHE_MAX:
            self._dm_by_email.clear()
        self._dm_by_email[email] = channel
        return channel

    def _link(self, alert: AlertMessage) -> str | None:
        return f"{self._link_base}/alerts/{alert.fingerprint}" if self._link_base else None
